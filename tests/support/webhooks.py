"""Outbound webhooks under test: a moto KMS key and delivery queue, a real HTTP receiver on loopback, and a
pump that plays both SQS event source mappings (jobs queue → runner, delivery queue → delivery worker)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import psycopg
import pytest

from jobs.delivery_queue import DeliveryMessage
from jobs.runner import run_message
from jobs.settings import get_settings as get_jobs_settings
from jobs.webhook_delivery import deliver
from saascore.db.connection import Database
from saascore.events import DISPATCH_JOB
from saascore.events.secrets import clear_secret_cache, encrypt_secret, generate_secret, get_kms_client
from saascore.events.settings import get_webhook_settings
from saascore.jobs.model import JobMessage
from tests.support.queues import Queues


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1: records every POST, answers `statuses` in turn (then the last)."""

    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=lambda: [200])
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            recorder = state["receiver"]
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            recorder.requests.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            status = recorder.statuses.pop(0) if len(recorder.statuses) > 1 else recorder.statuses[0]
            self.send_response(status)
            for name, value in recorder.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class DeliveryQueue:
    client: Any
    url: str

    def messages(self) -> list[dict[str, Any]]:
        response = self.client.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
        )
        return list(response.get("Messages", []))


def clear_webhook_caches() -> None:
    get_webhook_settings.cache_clear()
    get_kms_client.cache_clear()
    clear_secret_cache()


@pytest.fixture
def webhooks_aws(queues: Queues, monkeypatch: pytest.MonkeyPatch) -> Iterator[DeliveryQueue]:
    """Inside moto (the jobs queue fixture): a KMS key for secrets and the delivery queue; loopback allowed."""
    key_id = boto3.client("kms", region_name="eu-west-1").create_key()["KeyMetadata"]["KeyId"]
    client = queues.client
    url = client.create_queue(QueueName="webhook-deliveries")["QueueUrl"]
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("WEBHOOK_SECRETS_KMS_KEY_ID", key_id)
    monkeypatch.setenv("WEBHOOK_DELIVERY_QUEUE_URL", url)
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "true")
    clear_webhook_caches()
    yield DeliveryQueue(client, url)
    clear_webhook_caches()


def pump(queues: Queues, deliveries: DeliveryQueue, database: Database, *, rounds: int = 5) -> list[str]:
    """Run the dispatch jobs and deliveries both queues hold until they are empty (messages delayed by SQS stay); returns outcomes."""
    outcomes: list[str] = []
    for _ in range(rounds):
        moved = False
        for message in queues.receive(visibility=30):
            job = JobMessage.model_validate_json(message["Body"])
            if job.type != DISPATCH_JOB:
                continue  # other jobs (e.g. an e-mail) stay queued for the test to inspect
            moved = True
            outcomes.append(
                run_message(
                    job,
                    receive_count=int(message["Attributes"]["ApproximateReceiveCount"]),
                    settings=get_jobs_settings(),
                    database=database,
                )
            )
            queues.client.delete_message(QueueUrl=queues.url, ReceiptHandle=message["ReceiptHandle"])
        for message in deliveries.messages():
            moved = True
            outcomes.append(
                deliver(
                    DeliveryMessage.model_validate(json.loads(message["Body"])),
                    settings=get_webhook_settings(),
                    database=database,
                )
            )
            deliveries.client.delete_message(QueueUrl=deliveries.url, ReceiptHandle=message["ReceiptHandle"])
        if not moved:
            break
    return outcomes


def register_endpoint(owner: psycopg.Connection[Any], tenant: uuid.UUID, url: str) -> tuple[uuid.UUID, str]:
    """An enabled endpoint of ``tenant`` at ``url`` with one live secret, written on an owner connection
    (in its own transaction, as the tenant); returns the endpoint's id and the secret."""
    endpoint, secret = uuid.uuid4(), generate_secret()
    with owner.transaction():
        owner.execute("SELECT app.set_tenant(%s)", (tenant,))
        owner.execute(
            "INSERT INTO webhook_endpoints (id, tenant_id, url) VALUES (%s, %s, %s)", (endpoint, tenant, url)
        )
        owner.execute(
            "INSERT INTO webhook_endpoint_secrets (tenant_id, endpoint_id, ciphertext) VALUES (%s, %s, %s)",
            (tenant, endpoint, encrypt_secret(secret, tenant_id=tenant, endpoint_id=endpoint)),
        )
    return endpoint, secret
