"""PgBouncer in transaction pooling mode in front of the test cluster: the stand-in for RDS Proxy.

Like the proxy, it hands a server connection to a different client after every transaction, so any
session state the application relied on (SET, prepared statements, advisory locks) would leak or break.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from local.postgres import APP_ROLE, OWNER_ROLE, free_port
from tests.support.postgres import PgServer, with_credentials

PGBOUNCER_CANDIDATES = ("pgbouncer", "/usr/sbin/pgbouncer")


def pgbouncer_binary() -> str | None:
    for candidate in PGBOUNCER_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def require_pgbouncer() -> str:
    binary = pgbouncer_binary()
    if binary is None:
        reason = "pgbouncer is not installed (apt-get install pgbouncer; .ci/run does this on CI)"
        if os.environ.get("CI"):
            pytest.fail(reason + " — on CI these tests must run")
        pytest.skip(reason)
    return binary


class PgBouncer:
    def __init__(self, server: PgServer, root: Path) -> None:
        self.server = server
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def app_url(self, dbname: str) -> str:
        url = with_credentials(
            self.server.admin_url, user=APP_ROLE, password=self.server.app_password, dbname=dbname
        )
        return url.replace(f":{self.server.port}/", f":{self.port}/")

    def start(self, binary: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        users = self.root / "userlist.txt"
        users.write_text(
            f'"{APP_ROLE}" "{self.server.app_password}"\n"{OWNER_ROLE}" "{self.server.owner_password}"\n'
        )
        config = self.root / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"* = host={self.server.host} port={self.server.port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\n"
            f"unix_socket_dir =\nauth_type = scram-sha-256\nauth_file = {users}\n"
            "pool_mode = transaction\nmax_client_conn = 200\ndefault_pool_size = 4\n"
            "server_reset_query =\nignore_startup_parameters = extra_float_digits\n"
            f"logfile = {self.root / 'pgbouncer.log'}\n"
        )
        kwargs: dict[str, object] = {}
        cluster = self.server.cluster
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root; reuse the PostgreSQL server account.
            if cluster is None or cluster.account is None:
                pytest.skip("running as root without an unprivileged account for pgbouncer")
            account = cluster.account
            for path in (self.root, users, config):
                os.chown(path, account.pw_uid, account.pw_gid)
            kwargs = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        self.process = subprocess.Popen(  # type: ignore[call-overload]
            [binary, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                with psycopg.connect(
                    self.app_url("postgres").rsplit("/", 1)[0] + "/postgres", connect_timeout=2
                ):
                    return
            except psycopg.OperationalError as exc:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (
                        (self.root / "pgbouncer.log").read_text()
                        if (self.root / "pgbouncer.log").exists()
                        else ""
                    )
                    self.stop()
                    raise RuntimeError(f"pgbouncer did not start: {exc}\n{log[-2000:]}") from exc
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def start_pgbouncer(server: PgServer, root: Path) -> Iterator[PgBouncer]:
    binary = require_pgbouncer()
    bouncer = PgBouncer(server, root)
    bouncer.start(binary)
    try:
        yield bouncer
    finally:
        bouncer.stop()
