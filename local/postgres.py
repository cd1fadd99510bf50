"""A real PostgreSQL cluster owned by one run (tests) or kept under .local/ (make dev). No Docker.

Server binaries come from PATH (`initdb`, `pg_ctl`) when present, else from the `pgserver` wheel, which
ships a PostgreSQL build. PostgreSQL refuses to run as root, so under root (CI) the server runs as an
unprivileged system user that is created when missing.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

OWNER_ROLE = "saas_owner"
APP_ROLE = "saas_app"
DATABASE_NAME = "saas"
SERVER_USER = "saaspg"


class PostgresError(RuntimeError):
    """The local cluster could not be created, started or reached."""


def server_binaries() -> Path:
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    try:
        import pgserver
    except ImportError as exc:
        raise PostgresError("no initdb on PATH and the pgserver wheel is not installed") from exc
    bundled = Path(pgserver.__file__).parent / "pginstall" / "bin"
    if not (bundled / "initdb").exists():
        raise PostgresError(f"pgserver has no PostgreSQL binaries under {bundled}")
    return bundled


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _server_account() -> pwd.struct_passwd | None:
    """The account the server runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVER_USER)


def _chown_tree(path: Path, account: pwd.struct_passwd) -> None:
    for root, dirs, files in os.walk(path):
        os.chown(root, account.pw_uid, account.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), account.pw_uid, account.pw_gid)


def _open_parents(path: Path) -> None:
    """Let the unprivileged server user traverse to its data directory."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)


@dataclass(frozen=True, slots=True)
class ClusterUrls:
    admin: str
    owner: str
    app: str


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, ""))


def url_for(*, user: str, password: str, port: int, dbname: str, host: str = "127.0.0.1") -> str:
    return f"postgresql://{user}:{password}@{host}:{port}/{dbname}"


class LocalCluster:
    """initdb + pg_ctl around one data directory; passwords live in the directory (mode 0600)."""

    def __init__(self, root: Path, *, port: int | None = None, durable: bool = True) -> None:
        self.root = root
        self.data = root / "data"
        self.socket_dir = root / "socket"
        self.log_file = root / "postgres.log"
        self.secrets_file = root / "passwords"
        self.port = port or free_port()
        self.durable = durable
        self.bin = server_binaries()
        self.account = _server_account()

    def _run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if self.account is not None:
            kwargs = {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}
        if env is not None:
            kwargs["env"] = {**os.environ, **env}
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            [str(self.bin / args[0]), *args[1:]], check=False, capture_output=True, text=True, **kwargs
        )

    def _passwords(self) -> dict[str, str]:
        if not self.secrets_file.exists():
            values = {role: secrets.token_urlsafe(18) for role in ("postgres", OWNER_ROLE, APP_ROLE)}
            self.secrets_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
            self.secrets_file.chmod(0o600)
        lines = self.secrets_file.read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    @property
    def urls(self) -> ClusterUrls:
        pw = self._passwords()
        return ClusterUrls(
            admin=url_for(user="postgres", password=pw["postgres"], port=self.port, dbname="postgres"),
            owner=url_for(user=OWNER_ROLE, password=pw[OWNER_ROLE], port=self.port, dbname=DATABASE_NAME),
            app=url_for(user=APP_ROLE, password=pw[APP_ROLE], port=self.port, dbname=DATABASE_NAME),
        )

    def initialise(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        pwfile = self.root / "initdb.pw"
        pwfile.write_text(self._passwords()["postgres"] + "\n")
        if self.account is not None:
            _open_parents(self.root)
            # The wheel's binaries may sit in a checkout only root can traverse (mktemp -d is 0700).
            _open_parents(self.bin)
            _chown_tree(self.root, self.account)
        result = self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--pwfile",
            str(pwfile),
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
        )
        pwfile.unlink()
        if result.returncode != 0:
            raise PostgresError(f"initdb failed: {result.stderr.strip()}")

    def start(self) -> None:
        self.initialise()
        if not port_is_free(self.port):
            raise PostgresError(f"port {self.port} is taken; stop whatever listens there or pick another")
        settings = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.socket_dir}",
            "-c max_connections=200",
            "-c shared_buffers=64MB",
        ]
        if not self.durable:
            # A throwaway test cluster: durability buys nothing and costs most of CREATE DATABASE.
            settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        result = self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "-o",
            " ".join(settings),
            "start",
        )
        if result.returncode != 0:
            log_tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise PostgresError(f"pg_ctl start failed: {result.stderr.strip()}\n{log_tail}")
        self.bootstrap()

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def bootstrap(self) -> None:
        """Create the owner and application roles and the database (idempotent)."""
        pw = self._passwords()
        with psycopg.connect(self.urls.admin, autocommit=True) as conn:
            ensure_roles_and_database(conn, owner_password=pw[OWNER_ROLE], app_password=pw[APP_ROLE])

    def wait_until_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.urls.admin, connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def ensure_roles_and_database(
    conn: psycopg.Connection[tuple[object, ...]],
    *,
    owner_password: str,
    app_password: str,
    database: str = DATABASE_NAME,
) -> None:
    """As an administrator: the owner (runs migrations, CREATEROLE to create the app role), the app
    role (login, no BYPASSRLS, owns nothing) and the database owned by the owner."""
    for role, password, extra in (
        (OWNER_ROLE, owner_password, sql.SQL("CREATEROLE CREATEDB")),
        (APP_ROLE, app_password, sql.SQL("NOCREATEROLE NOCREATEDB")),
    ):
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        verb = sql.SQL("ALTER") if exists else sql.SQL("CREATE")
        conn.execute(
            sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS {} PASSWORD {}").format(
                verb, sql.Identifier(role), extra, sql.Literal(password)
            )
        )
    ensure_database(conn, database)


def ensure_database(conn: psycopg.Connection[tuple[object, ...]], database: str) -> None:
    """As an administrator: ``database`` owned by the owner role, connectable by the app role only."""
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(OWNER_ROLE)
            )
        )
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)))
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(database), sql.Identifier(APP_ROLE)
            )
        )
