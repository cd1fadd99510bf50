"""What a running local stack is: ports, URLs, resource names and key files, saved as `state.json`.

The supervisor writes it once everything is provisioned; child processes (gateway, workers, scheduler)
and `saas token` read it, so every part agrees on the same resources.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

STATE_FILE = "state.json"
ROOT_ENV = "SAAS_LOCAL_ROOT"
DEFAULT_ROOT = Path(".local")
REGION = "us-east-1"
LOCAL_WEBHOOK_SECRET = "whsec_local_development_only_0123456789"  # noqa: S105 - dev-only, not a credential


@dataclass(frozen=True, slots=True)
class QueuePair:
    name: str
    url: str
    arn: str
    dlq_name: str
    dlq_url: str
    dlq_arn: str


@dataclass(frozen=True, slots=True)
class StackState:
    root: str
    gateway_url: str
    gateway_port: int
    moto_url: str
    database_url: str
    owner_database_url: str
    admin_database_url: str
    cluster_port: int | None
    webhooks: QueuePair
    jobs: QueuePair
    webhook_deliveries: QueuePair
    webhook_secrets_key_id: str
    reports_bucket: str
    rate_limit_table: str
    ses_sender: str
    session_key_path: str
    idp_issuer: str
    idp_key_path: str
    idp_client_id: str
    stripe_webhook_secret: str
    stripe_webhook_secret_name: str
    stripe_api_base: str
    stripe_api_key: str
    edge_config_path: str
    session_issuer: str
    viewer_country: str = "US"
    schedule_compression: float = 120.0
    job_timeout_seconds: int = 10
    sso_user_pool_id: str = ""
    sso_app_client_id: str = ""
    dns_port: int = 0  # the local DNS (TXT records for SSO domain verification, local/dns.py); 0: none
    audit_log_bucket: str = "saas-audit-logs-local"  # the Object Lock bucket of the daily audit-log files
    read_database_url: str | None = None  # the streaming replica (none with an external DATABASE_URL)
    # dedicated cells: {cell: {"app": url, "owner": url}} (local/cells.py); the pooled cell is database_url
    cells: dict[str, dict[str, str]] = field(default_factory=dict)

    def save(self) -> Path:
        path = Path(self.root) / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.chmod(0o600)
        tmp.replace(path)
        return path

    @classmethod
    def wait_for(cls, root: Path, *, timeout: float) -> StackState:
        """Children start while the supervisor is still provisioning; they wait for the state file."""
        deadline = time.monotonic() + timeout
        while not (root / STATE_FILE).exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{root / STATE_FILE} did not appear within {timeout:.0f} s")
            time.sleep(0.05)
        return cls.load(root)

    @classmethod
    def load(cls, root: Path | None = None) -> StackState:
        base = root or Path(os.environ.get(ROOT_ENV, DEFAULT_ROOT))
        path = base / STATE_FILE
        if not path.exists():
            raise FileNotFoundError(f"{path} not found: is the local stack running (`saas dev`)?")
        raw = json.loads(path.read_text())
        for name in ("webhooks", "jobs", "webhook_deliveries"):
            raw[name] = QueuePair(**raw[name])
        known = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in raw.items() if key in known})
