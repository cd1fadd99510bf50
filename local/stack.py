"""The supervisor behind `saas dev`: PostgreSQL, migrations, moto, keys, then the child processes.

Order: ports checked first (a taken port is a clear error, before anything starts), PostgreSQL
(`DATABASE_URL` or the cluster kept under `<root>/postgres`), migrations as the owner role, a moto
server on loopback with the resources provisioned, keys under `<root>/keys`, the Stripe API stub when no
real key is given, `state.json`, then gateway, the two queue workers and the scheduler as child processes in their own
sessions (so a terminal's Ctrl-C reaches only the supervisor, which stops them in order). A child that
dies is restarted; on stop, children get SIGTERM, then SIGKILL after a grace period, and the cluster is
stopped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

from local.aws import Provisioned, QueueTimings, provision
from local.cells import prepare_dedicated_cells
from local.dns import LocalDns
from local.environment import STATIC_ENVIRONMENT
from local.idp import DEFAULT_CLIENT_ID
from local.keys import load_or_create_key
from local.postgres import (
    DATABASE_NAME,
    LocalCluster,
    ensure_roles_and_database,
    port_is_free,
    with_database,
)
from local.replica import LocalStandby
from local.state import LOCAL_WEBHOOK_SECRET, ROOT_ENV, STATE_FILE, StackState
from local.status import heartbeat_dir
from saascore.db.migrate import migrate

ROLES = ("gateway", "webhooks-worker", "jobs-worker", "webhook-delivery-worker", "scheduler")
STOP_GRACE_SECONDS = 5.0
READY_TIMEOUT_SECONDS = 60.0
RESTART_DELAY_SECONDS = 1.0
COLORS = {
    "stack": 1,
    "gateway": 36,
    "webhooks-worker": 35,
    "jobs-worker": 32,
    "webhook-delivery-worker": 34,
    "scheduler": 33,
}
LEVEL_COLORS = {"WARNING": 33, "ERROR": 31, "CRITICAL": 31}


class StackError(RuntimeError):
    """The local stack cannot start (port taken, database unreachable, a child failed to come up)."""


@dataclass
class StackOptions:
    root: Path = Path(".local")
    port: int = 8000
    postgres_port: int = 5433
    moto_port: int = 0
    database_url: str | None = None
    webhook_secret: str = LOCAL_WEBHOOK_SECRET
    stripe_api_key: str | None = None
    stripe_api_base: str | None = None
    schedule_compression: float = 120.0
    timings: QueueTimings = field(default_factory=QueueTimings)
    roles: tuple[str, ...] = ROLES
    color: bool = True


def with_credentials(url: str, *, user: str, password: str, dbname: str) -> str:
    parts = urlsplit(url)
    netloc = f"{user}:{password}@{parts.hostname or '127.0.0.1'}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, f"/{dbname}", parts.query, ""))


def _free_port() -> int:
    from local.postgres import free_port

    return free_port()


class LogRelay:
    """Prefix each child's output with its colored component name; JSON log lines are condensed."""

    def __init__(self, *, color: bool, out: IO[str] = sys.stdout) -> None:
        self.color = color
        self.out = out
        self._lock = threading.Lock()

    def _paint(self, text: str, code: int) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def line(self, component: str, text: str) -> None:
        text = text.rstrip("\n")
        level = ""
        if text.startswith("{"):
            with contextlib.suppress(ValueError, AttributeError):
                record = json.loads(text)
                if "_aws" in record:  # an EMF metrics blob: show the metric values only
                    names = [m["Name"] for d in record["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
                    record = {"level": "METRIC", "message": ", ".join(f"{n}={record.get(n)}" for n in names)}
                level = str(record.get("level", ""))
                message = record.get("message")
                shown = {
                    key: value
                    for key, value in record.items()
                    if key not in {"level", "message", "timestamp", "location", "xray_trace_id"}
                    and value not in (None, "")
                }
                text = f"{level} {message if message not in (None, '') else ''}".strip() + (
                    f" {shown}" if shown else ""
                )
        else:
            level = text.split(" ", 1)[0]
        name = self._paint(f"{component:>15} |", COLORS.get(component, 37))
        if level in LEVEL_COLORS:
            text = self._paint(text, LEVEL_COLORS[level])
        with self._lock:
            print(f"{time.strftime('%H:%M:%S')} {name} {text}", file=self.out, flush=True)

    def follow(self, component: str, stream: IO[str]) -> threading.Thread:
        def pump() -> None:
            for text in stream:
                self.line(component, text)

        thread = threading.Thread(target=pump, name=f"log-{component}", daemon=True)
        thread.start()
        return thread


class LocalStack:
    def __init__(self, options: StackOptions, *, relay: LogRelay | None = None) -> None:
        self.options = options
        self.root = options.root.resolve()
        self.relay = relay or LogRelay(color=options.color)
        self.cluster: LocalCluster | None = None
        self.standby: LocalStandby | None = None
        self.moto: Any = None
        self.stripe_stop: Callable[[], None] | None = None
        self.dns: LocalDns | None = None
        self.children: dict[str, subprocess.Popen[str]] = {}
        self.restarts: dict[str, int] = dict.fromkeys(options.roles, 0)
        self.state: StackState | None = None
        self.env: dict[str, str] = {}
        self._stopping = threading.Event()
        self.ready_seconds: float | None = None

    def say(self, text: str) -> None:
        self.relay.line("stack", text)

    # ---- start ------------------------------------------------------------------------------------
    def _check_ports(self) -> None:
        wanted = {"gateway": self.options.port}
        if self.options.moto_port:
            wanted["moto"] = self.options.moto_port
        for name, port in wanted.items():
            if not port_is_free(port):
                raise StackError(
                    f"port {port} ({name}) is already in use: is another `saas dev` running? "
                    f"Stop it, or pick another port (--port / --moto-port)."
                )

    def _start_postgres(self) -> tuple[str, str, str, int | None]:
        """(app url, owner url, admin url, cluster port)."""
        if self.options.database_url:
            passwords_file = self.root / "external-db-passwords.json"
            if passwords_file.exists():
                passwords = json.loads(passwords_file.read_text())
            else:
                passwords = {"owner": secrets.token_urlsafe(18), "app": secrets.token_urlsafe(18)}
                passwords_file.write_text(json.dumps(passwords))
                passwords_file.chmod(0o600)
            admin = self.options.database_url
            try:
                with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                    ensure_roles_and_database(
                        conn, owner_password=passwords["owner"], app_password=passwords["app"]
                    )
            except psycopg.Error as exc:
                raise StackError(f"DATABASE_URL is not reachable or lacks rights: {exc}") from exc
            owner = with_credentials(admin, user="saas_owner", password=passwords["owner"], dbname="saas")
            app = with_credentials(admin, user="saas_app", password=passwords["app"], dbname="saas")
            return app, owner, admin, None
        cluster = LocalCluster(self.root / "postgres", port=self.options.postgres_port)
        if (cluster.data / "postmaster.pid").exists():
            cluster.stop(mode="fast")  # a server left behind by a run that was killed
        if not port_is_free(cluster.port):
            raise StackError(
                f"port {cluster.port} (PostgreSQL) is already in use; stop that server or pass "
                "--postgres-port, or set DATABASE_URL to use it"
            )
        cluster.start()
        self.cluster = cluster
        urls = cluster.urls
        return urls.app, urls.owner, urls.admin, cluster.port

    def _start_standby(self) -> str | None:
        """The streaming replica of the local cluster on the next port (none with DATABASE_URL): the
        read endpoint (DATABASE_READ_URL) of reports and audit-log listing, as the proxy's is in AWS."""
        if self.cluster is None:
            return None
        standby = LocalStandby(self.cluster, self.root / "postgres-standby", port=self.cluster.port + 1)
        if (standby.data / "postmaster.pid").exists():
            standby.stop(mode="fast")  # a replica left behind by a run that was killed
        if not port_is_free(standby.port):
            standby.port = _free_port()
            self.say(f"port {self.cluster.port + 1} is taken; the replica listens on {standby.port}")
        standby.start()
        self.standby = standby
        return standby.urls.app

    def _start_moto(self) -> str:
        from moto.server import ThreadedMotoServer

        port = self.options.moto_port or _free_port()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per moto call is noise
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.moto.start()
        return f"http://127.0.0.1:{port}"

    def _stripe(self) -> tuple[str, str]:
        if self.options.stripe_api_key:
            return self.options.stripe_api_base or "https://api.stripe.com", self.options.stripe_api_key
        from tests.support.stripe_stub import TEST_API_KEY, start_stub

        stub, stop = start_stub()
        self.stripe_stop = stop
        return str(stub.url), TEST_API_KEY

    def _aws(self) -> tuple[str, Provisioned]:
        moto_url = self._start_moto()
        provisioned = provision(
            moto_url,
            webhook_secret=self.options.webhook_secret,
            stripe_api_key=self.options.stripe_api_key or "sk_test_stub",
            timings=self.options.timings,
        )
        self.say(f"moto on {moto_url}: queues, bucket, table, SES identity, Stripe secret")
        return moto_url, provisioned

    def start(self) -> StackState:
        started = time.perf_counter()
        self.root.mkdir(parents=True, exist_ok=True)
        self._check_ports()
        with contextlib.suppress(FileNotFoundError):
            (self.root / STATE_FILE).unlink()  # children wait for a fresh one
        shutil.rmtree(heartbeat_dir(self.root), ignore_errors=True)  # heartbeats of an earlier run
        self.env = {**os.environ, **STATIC_ENVIRONMENT, ROOT_ENV: str(self.root), "PYTHONUNBUFFERED": "1"}
        for role in self.options.roles:
            self._spawn(role)
        # PostgreSQL (separate processes) and moto (this process) come up side by side.
        with ThreadPoolExecutor(max_workers=1) as pool:
            aws = pool.submit(self._aws)
            app_url, owner_url, admin_url, cluster_port = self._start_postgres()
            applied = migrate(owner_url)
            cells = prepare_dedicated_cells(admin_url=admin_url, app_url=app_url, owner_url=owner_url)
            read_url = self._start_standby()  # after the cells' databases, so the standby has them too
            replica = f"; streaming replica on port {self.standby.port}" if self.standby else ""
            self.say(
                f"PostgreSQL ready ({len(applied)} migration(s) applied; cells: pooled, {', '.join(cells)}{replica})"
            )
            moto_url, provisioned = aws.result()
        keys = self.root / "keys"
        load_or_create_key(keys / "idp.pem")
        load_or_create_key(keys / "session.pem")
        stripe_base, stripe_key = self._stripe()
        self.dns = LocalDns(self.root, 0).start()
        gateway_url = f"http://127.0.0.1:{self.options.port}"
        state = StackState(
            root=str(self.root),
            gateway_url=gateway_url,
            gateway_port=self.options.port,
            moto_url=moto_url,
            database_url=app_url,
            read_database_url=read_url,
            owner_database_url=owner_url,
            admin_database_url=with_database(admin_url, DATABASE_NAME),
            cluster_port=cluster_port,
            webhooks=provisioned.webhooks,
            jobs=provisioned.jobs,
            webhook_deliveries=provisioned.webhook_deliveries,
            webhook_secrets_key_id=provisioned.webhook_secrets_key_id,
            reports_bucket=provisioned.reports_bucket,
            audit_log_bucket=provisioned.audit_log_bucket,
            rate_limit_table=provisioned.rate_limit_table,
            ses_sender=provisioned.ses_sender,
            session_key_path=str(keys / "session.pem"),
            idp_issuer=f"{gateway_url}/_local/idp",
            idp_key_path=str(keys / "idp.pem"),
            idp_client_id=DEFAULT_CLIENT_ID,
            stripe_webhook_secret=self.options.webhook_secret,
            stripe_webhook_secret_name=provisioned.stripe_secret_name,
            stripe_api_base=stripe_base,
            stripe_api_key=stripe_key,
            edge_config_path=str(self.root / "edge-config.json"),
            session_issuer=gateway_url,
            schedule_compression=self.options.schedule_compression,
            job_timeout_seconds=self.options.timings.job_timeout,
            sso_user_pool_id=provisioned.sso_user_pool_id,
            sso_app_client_id=provisioned.sso_app_client_id,
            dns_port=self.dns.port,
            cells=cells,
        )
        state.save()
        self.state = state
        self._wait_until_ready(gateway_url)
        self.ready_seconds = time.perf_counter() - started
        self.say(f"ready in {self.ready_seconds:.1f} s on {gateway_url}")
        return state

    def _spawn(self, role: str) -> None:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.child", role],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        assert process.stdout is not None
        self.relay.follow(role, process.stdout)
        self.children[role] = process

    def _wait_until_ready(self, gateway_url: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            for role, process in self.children.items():
                if process.poll() is not None:
                    raise StackError(f"{role} exited with {process.returncode} while starting; see its log")
            beating = all((heartbeat_dir(self.root) / f"{role}.json").exists() for role in self.children)
            with contextlib.suppress(httpx.HTTPError):
                if beating and httpx.get(f"{gateway_url}/_local/ping", timeout=5).status_code == 200:
                    return
            time.sleep(0.1)
        raise StackError(f"the gateway did not answer within {READY_TIMEOUT_SECONDS:.0f} s")

    # ---- run and stop -----------------------------------------------------------------------------
    def run_until_stopped(self) -> None:
        """Block until `request_stop()` (signal handler); restart children that die meanwhile."""
        while not self._stopping.wait(0.5):
            for role, process in list(self.children.items()):
                if process.poll() is not None and not self._stopping.is_set():
                    self.restarts[role] += 1
                    self.say(f"{role} exited with {process.returncode}; restarting (#{self.restarts[role]})")
                    time.sleep(RESTART_DELAY_SECONDS)
                    self._spawn(role)

    def request_stop(self) -> None:
        self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()
        for process in self.children.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for role, process in self.children.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{role} did not stop in {STOP_GRACE_SECONDS:.0f} s; killing it")
                process.kill()
                process.wait()
        self.children.clear()
        if self.stripe_stop is not None:
            self.stripe_stop()
            self.stripe_stop = None
        if self.moto is not None:
            self.moto.stop()
            self.moto = None
        if self.dns is not None:
            self.dns.stop()
            self.dns = None
        if self.standby is not None:
            self.standby.stop(mode="fast")
            self.standby = None
        if self.cluster is not None:
            self.cluster.stop(mode="fast")
            self.cluster = None
        with contextlib.suppress(FileNotFoundError):
            (self.root / "state.json").unlink()
        self.say("stopped")
