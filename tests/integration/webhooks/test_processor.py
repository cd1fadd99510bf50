"""The processor Lambda behind a moto SQS FIFO queue with a DLQ (maxReceiveCount 5).

The loop below plays the Lambda event source mapping: receive up to 10, invoke, delete what succeeded,
make the reported failures visible again.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import psycopg
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from moto import mock_aws

from saas_cli import stripe_samples as samples
from tests.integration.webhooks.conftest import fetch_all
from webhooks import processor

MAX_RECEIVES = 5


@pytest.fixture
def queues(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        sqs = boto3.client("sqs")
        dlq_url = sqs.create_queue(QueueName="stripe-events-dlq.fifo", Attributes={"FifoQueue": "true"})[
            "QueueUrl"
        ]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        queue_url = sqs.create_queue(
            QueueName="stripe-events.fifo",
            Attributes={
                "FifoQueue": "true",
                "VisibilityTimeout": "30",
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
                ),
            },
        )["QueueUrl"]
        yield sqs, queue_url, dlq_url


def lambda_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:stripe-events.fifo",
                "awsRegion": "eu-west-1",
            }
            for m in messages
        ]
    }


def freeze(pg, tenant_id, *, moving: bool) -> None:
    """What `saas tenants move` does to the source while it copies (the owner role is never refused)."""
    with psycopg.connect(pg.owner_url) as conn:
        conn.execute("SELECT app.set_tenant(%s)", (tenant_id,))  # RLS is forced for the owner too
        conn.execute(
            "UPDATE tenants SET moving_since = CASE WHEN %s THEN now() END WHERE id = %s", (moving, tenant_id)
        )


def drain(sqs, queue_url: str, lambda_context) -> list[list[str]]:
    """Run the event source mapping until the queue is empty; returns each invocation's failed ids."""
    failures_per_call: list[list[str]] = []
    for _ in range(20):
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            break
        try:
            response = processor.handler(lambda_event(messages), lambda_context)
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        except BatchProcessingError:
            # Every record failed: Powertools raises and the event source mapping returns them all.
            failed = {m["MessageId"] for m in messages}
        failures_per_call.append(sorted(failed))
        for message in messages:
            if message["MessageId"] in failed:
                sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return failures_per_call


def test_one_poison_message_in_ten(queues, make_tenant, app_database, lambda_context) -> None:
    sqs, queue_url, dlq_url = queues
    tenants = [make_tenant() for _ in range(10)]
    created = int(time.time()) - 60
    bodies = []
    for index, tenant in enumerate(tenants):
        obj = samples.subscription(
            customer=tenant.customer, tenant_id=str(tenant.id), lookup_key="pro_monthly"
        )
        if index == 3:
            obj["status"] = "not-a-status"  # poison: can never be applied
        event = samples.event("customer.subscription.created", obj, created=created)
        bodies.append(event)
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps(event),
            MessageGroupId=tenant.customer,
            MessageDeduplicationId=event["id"],
        )

    failures = drain(sqs, queue_url, lambda_context)

    # First invocation: 10 records, 9 processed, only the poison returned.
    assert len(failures[0]) == 1
    assert all(len(f) == 1 for f in failures)
    assert len(failures) == MAX_RECEIVES
    for index, tenant in enumerate(tenants):
        plans = fetch_all(app_database, tenant.id, "SELECT plan FROM tenants")
        assert plans == [{"plan": "free" if index == 3 else "pro"}]
    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["id"] for m in dead] == [bodies[3]["id"]]
    [recorded] = fetch_all(app_database, tenants[3].id, "SELECT outcome, attempts, detail FROM stripe_events")
    assert (recorded["outcome"], recorded["attempts"]) == ("failed", MAX_RECEIVES)
    assert "not-a-status" in recorded["detail"]


def test_failure_holds_back_the_rest_of_its_customer_group_only(
    queues, make_tenant, app_database, lambda_context
) -> None:
    sqs, queue_url, _ = queues
    blocked, other = make_tenant(), make_tenant()
    created = int(time.time()) - 60
    poison = samples.subscription(customer=blocked.customer, tenant_id=str(blocked.id))
    poison["status"] = "not-a-status"
    events = [
        (blocked, samples.event("customer.subscription.created", poison, created=created)),
        (
            blocked,
            samples.event(
                "invoice.paid",
                samples.invoice(customer=blocked.customer, subscription_id=None),
                created=created + 1,
            ),
        ),
        (
            other,
            samples.event(
                "invoice.paid",
                samples.invoice(customer=other.customer, subscription_id=None),
                created=created,
            ),
        ),
    ]
    for tenant, event in events:
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps(event),
            MessageGroupId=tenant.customer,
            MessageDeduplicationId=event["id"],
        )
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])[
        "Messages"
    ]
    response = processor.handler(lambda_event(messages), lambda_context)
    by_id = {m["MessageId"]: json.loads(m["Body"])["id"] for m in messages}
    returned = {by_id[f["itemIdentifier"]] for f in response["batchItemFailures"]}
    # The poison and the later event of the same customer come back; the other customer goes ahead.
    assert returned == {events[0][1]["id"], events[1][1]["id"]}
    assert fetch_all(app_database, other.id, "SELECT outcome FROM stripe_events") == [{"outcome": "applied"}]


def test_each_event_is_one_webhook_metric_by_outcome_and_a_failure_counts_as_error(
    make_tenant, lambda_context, capsys
) -> None:
    tenant = make_tenant()
    good = samples.subscription(customer=tenant.customer, tenant_id=str(tenant.id), lookup_key="pro_monthly")
    poison = {**good, "status": "not-a-status"}
    events = [
        samples.event("customer.subscription.created", good, created=int(time.time()) - 60),
        samples.event("customer.subscription.updated", poison, created=int(time.time()) - 30),
    ]
    records = [
        {
            "messageId": event["id"],
            "receiptHandle": event["id"],
            "body": json.dumps(event),
            "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": tenant.customer},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:webhooks.fifo",
        }
        for event in events
    ]
    capsys.readouterr()
    processor.handler({"Records": records}, lambda_context)
    documents = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')
    ]
    assert [(d["outcome"], d["event_type"]) for d in documents] == [
        ("applied", "customer.subscription.created"),
        ("error", "customer.subscription.updated"),
    ]
    assert documents[0]["tenant_id"] == str(tenant.id)


def test_an_event_for_a_moving_tenant_comes_back_and_applies_after_the_freeze(
    queues, make_tenant, app_database, pg, lambda_context
) -> None:
    sqs, queue_url, dlq_url = queues
    tenant = make_tenant()
    obj = samples.subscription(customer=tenant.customer, tenant_id=str(tenant.id), lookup_key="pro_monthly")
    event = samples.event("customer.subscription.created", obj, created=int(time.time()) - 60)
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps(event),
        MessageGroupId=tenant.customer,
        MessageDeduplicationId=event["id"],
    )
    freeze(pg, tenant.id, moving=True)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])[
        "Messages"
    ]
    with pytest.raises(BatchProcessingError):
        processor.handler(lambda_event(messages), lambda_context)  # the one record failed: it comes back
    assert fetch_all(app_database, tenant.id, "SELECT plan FROM tenants") == [{"plan": "free"}]
    sqs.change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"], VisibilityTimeout=0
    )

    freeze(pg, tenant.id, moving=False)
    assert drain(sqs, queue_url, lambda_context) == [[]]
    assert fetch_all(app_database, tenant.id, "SELECT plan FROM tenants") == [{"plan": "pro"}]
    assert sqs.receive_message(QueueUrl=dlq_url).get("Messages", []) == []
