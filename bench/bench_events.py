"""Webhook delivery latency, with a baseline measured in the same run.

Latency: from just before the tenant transaction that records a `project.created` fact (with an endpoint
subscribed) to the moment a real HTTP receiver on loopback has the signed request: commit, the outbox send to
the jobs queue, the `dispatch_event` job (delivery row, delivery-queue message), the delivery worker (claim, KMS
decrypt — cached after the first —, sign, SSRF guard, POST, record). SQS and KMS are a moto server in another
process, PostgreSQL is local; each queue is received as soon as the previous step returns, so what is measured
is the work on the path, not Lambda's polling (an SQS event source adds its own wait, typically < 1 s).
Baseline: the bare signed POST the last step makes (sign with `standardwebhooks`, vet, connect, answer).
"""

from __future__ import annotations

import json
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg

from bench.bench_jobs import clear_caches, databases, environment, make_tenant
from local.moto_process import moto_server_process

EVENTS = 40


class Receiver:
    def __init__(self) -> None:
        self.arrived: list[float] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.arrived.append(time.perf_counter())
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


def _clear_webhook_caches() -> None:
    from saascore.events.secrets import clear_secret_cache, get_kms_client
    from saascore.events.settings import get_webhook_settings

    get_webhook_settings.cache_clear()
    get_kms_client.cache_clear()
    clear_secret_cache()


def _setup(owner_url: str, receiver: Receiver) -> tuple[uuid.UUID, str]:
    from tests.support.webhooks import register_endpoint

    tenant = make_tenant(owner_url)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        _, secret = register_endpoint(conn, tenant, receiver.url)
    return tenant, secret


def _one_event(tenant: uuid.UUID, sqs: Any, jobs_url: str, deliveries_url: str) -> None:
    from jobs.delivery_queue import DeliveryMessage
    from jobs.runner import run_message
    from jobs.settings import get_settings
    from jobs.webhook_delivery import deliver
    from saascore.db.connection import get_database
    from saascore.db.tenancy import tenant_transaction
    from saascore.events import record_event
    from saascore.events.settings import get_webhook_settings
    from saascore.jobs import deliver_pending
    from saascore.jobs.model import JobMessage

    with tenant_transaction(tenant) as conn:
        record_event(
            conn, tenant_id=tenant, type="project.created", data={"project": {"id": str(uuid.uuid4())}}
        )
    deliver_pending()
    for url, run in (
        (
            jobs_url,
            lambda body, count: run_message(
                JobMessage.model_validate_json(body),
                receive_count=count,
                settings=get_settings(),
                database=get_database(),
            ),
        ),
        (
            deliveries_url,
            lambda body, count: deliver(
                DeliveryMessage.model_validate(json.loads(body)),
                settings=get_webhook_settings(),
                database=get_database(),
            ),
        ),
    ):
        [message] = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=1, MessageSystemAttributeNames=["All"]
        )["Messages"]
        run(message["Body"], int(message["Attributes"]["ApproximateReceiveCount"]))
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _bare_post(receiver: Receiver, secret: str) -> None:
    from saascore.events import outbound, ssrf
    from saascore.events.payload import signed_headers

    body = json.dumps({"id": "evt_bench", "type": "project.created", "data": {}})
    headers = signed_headers(msg_id="evt_bench", body=body, secrets=[secret], now=datetime.now(UTC))
    target = ssrf.vet(receiver.url, allow_loopback=True)
    outbound.post(
        target,
        body=body.encode(),
        headers=headers,
        connect_timeout=3,
        total_timeout=10,
        max_response_bytes=65536,
    )


def main() -> None:
    import boto3

    receiver = Receiver()
    for fresh in databases():
        app_url, owner_url = fresh()
        with (
            moto_server_process() as endpoint,
            environment(
                AWS_ENDPOINT_URL=endpoint,
                AWS_DEFAULT_REGION="eu-west-1",
                AWS_ACCESS_KEY_ID="bench",
                AWS_SECRET_ACCESS_KEY="bench",
                DATABASE_URL=app_url,
                APP_ENV="local",
                WEBHOOK_ALLOW_LOOPBACK="true",
            ),
        ):
            sqs = boto3.client("sqs")
            jobs_url = sqs.create_queue(QueueName="bench-jobs")["QueueUrl"]
            deliveries_url = sqs.create_queue(QueueName="bench-webhook-deliveries")["QueueUrl"]
            key = boto3.client("kms").create_key()["KeyMetadata"]["KeyId"]
            with environment(
                JOBS_QUEUE_URL=jobs_url,
                WEBHOOK_DELIVERY_QUEUE_URL=deliveries_url,
                WEBHOOK_SECRETS_KMS_KEY_ID=key,
            ):
                clear_caches()
                _clear_webhook_caches()
                tenant, secret = _setup(owner_url, receiver)
                _one_event(tenant, sqs, jobs_url, deliveries_url)  # warm: imports, connection, KMS cache
                latencies = []
                for _ in range(EVENTS):
                    started = time.perf_counter()
                    _one_event(tenant, sqs, jobs_url, deliveries_url)
                    latencies.append(receiver.arrived[-1] - started)
                bare = []
                for _ in range(EVENTS):
                    started = time.perf_counter()
                    _bare_post(receiver, secret)
                    bare.append(receiver.arrived[-1] - started)
        median, p95 = statistics.median(latencies), sorted(latencies)[int(len(latencies) * 0.95) - 1]
        baseline = statistics.median(bare)
        print(
            f"webhook delivery latency (event recorded -> receiver got it, {EVENTS} events): median "
            f"{median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms | bare signed POST: median {baseline * 1000:.2f} ms "
            f"| ratio {median / baseline:.0f}x"
        )
        return
