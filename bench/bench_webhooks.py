"""Webhook benchmarks, each against a baseline measured in this run:

- processor throughput (Powertools FIFO batches of 10 realistic subscription events on a throwaway local
  PostgreSQL) vs raw psycopg writing the same rows (event, subscription upsert, tenant update, audit) in
  one transaction per event;
- receiver warm cost per event (signature + SQS FIFO send to moto) vs a bare moto SendMessage;
- the Stripe signature check alone vs a bare HMAC-SHA256 over the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# Logs at WARNING and no X-Ray; metrics stay on (their EMF lines are part of the real cost) but go to
# a null sink while measuring, so the report stays readable.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

import psycopg
from psycopg.types.json import Jsonb

from bench.timing import fmt_us, median_seconds, ratio_line
from local.runtime import LambdaContext

TENANTS = 20
EVENTS_PER_TENANT = 10
BATCH = 10
SECRET = "whsec_bench_0123456789abcdef"


def Context() -> LambdaContext:
    return LambdaContext(function_name="bench", memory_limit_in_mb=256, timeout_seconds=30)


def database_urls() -> Iterator[Callable[[], tuple[str, str]]]:
    """Yields a factory of fresh migrated databases: (app role URL, owner URL)."""
    from tests.support.postgres import build_template, clone_database, start_server

    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp:
        # The generator stops the cluster when the loop asks for its next (absent) server.
        for server in start_server(Path(tmp)):
            build_template(server)

            def fresh(server: Any = server) -> tuple[str, str]:
                database = clone_database(server)
                return database.app_url, database.owner_url

            yield fresh


def make_tenants(app_url: str) -> list[tuple[uuid.UUID, str]]:
    # Customer ids unique per database: the processor caches customer → tenant per container.
    tenants = [(uuid.uuid4(), f"cus_bench{uuid.uuid4().hex[:12]}") for _ in range(TENANTS)]
    with psycopg.connect(app_url) as conn:
        for tenant_id, customer in tenants:
            with conn.transaction():
                conn.execute("SELECT app.set_tenant(%s)", (tenant_id,))
                slug = f"bench-{tenant_id.hex[:8]}"
                conn.execute(
                    "INSERT INTO tenants (id, name, slug) VALUES (%s, %s, %s)", (tenant_id, slug, slug)
                )
                conn.execute(
                    "INSERT INTO billing_customers (tenant_id, stripe_customer_id) VALUES (%s, %s)",
                    (tenant_id, customer),
                )
    return tenants


def subscription_events(tenants: list[tuple[uuid.UUID, str]]) -> list[dict[str, Any]]:
    """Each tenant's subscription flips active ↔ past_due and starter ↔ pro: every event changes state."""
    from saas_cli import stripe_samples as samples

    start = int(time.time()) - 3600
    events = []
    for round_ in range(EVENTS_PER_TENANT):
        for tenant_id, customer in tenants:
            obj = samples.subscription(
                customer=customer,
                tenant_id=str(tenant_id),
                subscription_id=f"sub_{customer}",
                status="active" if round_ % 2 == 0 else "past_due",
                lookup_key="pro_monthly" if round_ % 4 < 2 else "starter_monthly",
                created=start,
            )
            events.append(samples.event("customer.subscription.updated", obj, created=start + round_))
    return events


def sqs_batch(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "bench",
                "body": json.dumps(event),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "MessageGroupId": event["data"]["object"]["customer"],
                    "MessageDeduplicationId": event["id"],
                    "SequenceNumber": "1",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:bench.fifo",
                "awsRegion": "eu-west-1",
            }
            for event in events
        ]
    }


def run_processor(app_url: str, events: list[dict[str, Any]]) -> float:
    from saascore.db.connection import get_database
    from saascore.settings import get_database_settings
    from webhooks import processor

    os.environ["DATABASE_URL"] = app_url
    get_database_settings.cache_clear()
    get_database.cache_clear()
    batches = [sqs_batch(events[i : i + BATCH]) for i in range(0, len(events), BATCH)]
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        started = time.perf_counter()
        for batch in batches:
            response = processor.handler(batch, Context())
            if response["batchItemFailures"]:
                raise RuntimeError(f"processor failed records: {response['batchItemFailures']}")
        elapsed = time.perf_counter() - started
    get_database().discard()
    return elapsed


def run_raw(app_url: str, events: list[dict[str, Any]]) -> float:
    """The same rows per event, written with plain psycopg, one transaction per event, no logic."""
    started = time.perf_counter()
    with psycopg.connect(app_url, autocommit=True, prepare_threshold=None) as conn:
        for event in events:
            obj = event["data"]["object"]
            tenant_id = uuid.UUID(obj["metadata"]["tenant_id"])
            item = obj["items"]["data"][0]
            with conn.transaction():
                conn.execute("SELECT app.set_tenant(%s)", (tenant_id,))
                conn.execute(
                    "INSERT INTO stripe_events (id, tenant_id, type, stripe_created, livemode, stripe_customer_id,"
                    " object_id, payload) VALUES (%s, %s, %s, to_timestamp(%s), false, %s, %s, %s)",
                    (
                        event["id"],
                        tenant_id,
                        event["type"],
                        event["created"],
                        obj["customer"],
                        obj["id"],
                        Jsonb(event),
                    ),
                )
                conn.execute(
                    "INSERT INTO subscriptions (tenant_id, stripe_subscription_id, stripe_customer_id, status, plan,"
                    " price_lookup_key, stripe_item_id, stripe_created, last_event_created, last_event_id)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, to_timestamp(%s), to_timestamp(%s), %s)"
                    " ON CONFLICT (stripe_subscription_id) DO UPDATE SET status = EXCLUDED.status,"
                    " plan = EXCLUDED.plan, last_event_created = EXCLUDED.last_event_created,"
                    " last_event_id = EXCLUDED.last_event_id",
                    (
                        tenant_id,
                        obj["id"],
                        obj["customer"],
                        obj["status"],
                        item["price"]["lookup_key"].split("_")[0],
                        item["price"]["lookup_key"],
                        item["id"],
                        obj["created"],
                        event["created"],
                        event["id"],
                    ),
                )
                conn.execute(
                    "UPDATE tenants SET plan = %s, billing_status = %s WHERE id = %s",
                    (item["price"]["lookup_key"].split("_")[0], obj["status"], tenant_id),
                )
                conn.execute(
                    "INSERT INTO audit_logs (tenant_id, actor_type, action, resource_type, resource_id, after,"
                    " request_id) VALUES (%s, 'stripe', 'billing.updated', 'tenant', %s, %s, %s)",
                    (tenant_id, str(tenant_id), Jsonb({"status": obj["status"]}), event["id"]),
                )
    return time.perf_counter() - started


def bench_processor() -> None:
    for fresh in database_urls():
        # Warm-up on its own database (imports, first connection), then each side on a fresh clone.
        warm_url, _ = fresh()
        run_processor(warm_url, subscription_events(make_tenants(warm_url))[:BATCH])
        processor_url, _ = fresh()
        events = subscription_events(make_tenants(processor_url))
        processed = run_processor(processor_url, events)
        raw_url, _ = fresh()
        raw_events = subscription_events(make_tenants(raw_url))
        raw = run_raw(raw_url, raw_events)
        count = len(events)
        print(
            f"processor: {count / processed:,.0f} events/s ({count} events, batches of {BATCH})  | "
            f"raw psycopg same rows: {count / raw:,.0f} events/s  | processor at {raw / processed:.0%} of raw"
        )


def bench_receiver() -> None:
    import boto3
    import stripe
    from moto import mock_aws

    from saas_cli import stripe_samples as samples
    from webhooks import receiver
    from webhooks.settings import get_settings

    os.environ.update(
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        STRIPE_WEBHOOK_SECRET=SECRET,
    )
    event = samples.build_event(
        "customer.subscription.updated", customer="cus_bench", tenant_id=str(uuid.uuid4())
    )
    body = json.dumps(event)
    header = samples.signature_header(body, [SECRET])

    def verify() -> None:
        stripe.WebhookSignature.verify_header(body, header, SECRET, 300)

    def bare_hmac() -> None:
        hmac.compare_digest(
            hmac.new(SECRET.encode(), f"{int(time.time())}.{body}".encode(), hashlib.sha256).hexdigest(),
            "0" * 64,
        )

    signature = median_seconds(verify, number=2000)
    baseline = median_seconds(bare_hmac, number=2000)
    print(ratio_line(f"signature check alone ({len(body)} B body)", signature, "bare HMAC-SHA256", baseline))
    print(f"signature check alone: {fmt_us(signature)} (target ≤ 50 µs)")

    with mock_aws():
        sqs = boto3.client("sqs")
        queue_url = sqs.create_queue(QueueName="bench.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        os.environ["WEBHOOK_QUEUE_URL"] = queue_url
        get_settings.cache_clear()
        receiver.sqs_client.cache_clear()
        url_event = {
            "version": "2.0",
            "rawPath": "/webhooks/stripe",
            "rawQueryString": "",
            "headers": {"content-type": "application/json", "stripe-signature": header},
            "requestContext": {
                "http": {"method": "POST", "path": "/webhooks/stripe", "sourceIp": "127.0.0.1"}
            },
            "body": body,
            "isBase64Encoded": False,
        }

        def receive() -> None:
            response = receiver.handler(url_event, Context())
            if response["statusCode"] != 200:
                raise RuntimeError(response)

        def bare_send() -> None:
            sqs.send_message(
                QueueUrl=queue_url,
                MessageBody=body,
                MessageGroupId="cus_bench",
                MessageDeduplicationId=event["id"],
            )

        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            receive()
            warm = median_seconds(receive, repeat=5, number=100)
            send = median_seconds(bare_send, repeat=5, number=100)
        print(
            ratio_line(
                "receiver warm, per event (verify + enqueue to moto)", warm, "bare moto SendMessage", send
            )
        )
        get_settings.cache_clear()
        receiver.sqs_client.cache_clear()


def main() -> None:
    bench_receiver()
    bench_processor()


if __name__ == "__main__":
    main()
