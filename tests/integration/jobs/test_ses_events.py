"""The SES feedback consumer end to end: documented SES JSON published to a moto SNS topic, delivered to
the subscribed moto SQS queue (+ DLQ), handed to `jobs.ses_events.handler` as the SQS event source would,
applied to real PostgreSQL through the application role."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest

from tests.integration.jobs.conftest import MAX_RECEIVES, LambdaPoller, Queues
from tests.support.tenants import insert_tenant

EVENTS = Path(__file__).resolve().parents[2] / "events" / "ses"


@dataclass
class Feed:
    topic_arn: str
    sns: Any
    queues: Queues
    poller: LambdaPoller

    def publish(self, notification: dict[str, Any] | str) -> None:
        message = notification if isinstance(notification, str) else json.dumps(notification)
        self.sns.publish(
            TopicArn=self.topic_arn, Message=message, Subject="Amazon SES Email Event Notification"
        )

    def poll(self) -> tuple[list[dict[str, Any]], list[str]]:
        return self.poller.poll()

    def release(self, records: list[dict[str, Any]], failed: list[str]) -> None:
        """The visibility timeout of the failed records runs out (at once, for the test)."""
        for record in records:
            if record["messageId"] in failed:
                self.queues.client.change_message_visibility(
                    QueueUrl=self.queues.url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
                )


@pytest.fixture
def feed(aws: None, app_database: Any, lambda_context: Any) -> Feed:
    """The SES events topic → queue (redrive after MAX_RECEIVES) → handler, raw message delivery off."""
    from jobs.ses_events import handler

    sqs = boto3.client("sqs", region_name="eu-west-1")
    sns = boto3.client("sns", region_name="eu-west-1")
    dlq_url = sqs.create_queue(QueueName="ses-events-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES})
    url = sqs.create_queue(QueueName="ses-events", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic_arn = sns.create_topic(Name="ses-events")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    queues = Queues(sqs, url, dlq_url)
    return Feed(topic_arn, sns, queues, LambdaPoller(queues, handler, lambda_context))


def ses_event(
    name: str,
    *,
    recipient: str,
    message_id: str,
    tenant: uuid.UUID | None = None,
    job: uuid.UUID | None = None,
    at: str | None = None,
) -> dict[str, Any]:
    """A documented SES record re-addressed to a message send_email sent (its id, recipient and tags)."""
    notification: dict[str, Any] = json.loads((EVENTS / name).read_text())
    mail = notification["mail"]
    mail["messageId"], mail["destination"] = message_id, [recipient]
    if tenant is not None:
        mail["tags"].update({"tenant_id": [str(tenant)], "job_id": [str(job)]})
    kind = notification.get("eventType") or notification["notificationType"]
    if kind == "Bounce":
        notification["bounce"]["bouncedRecipients"][0]["emailAddress"] = recipient
    elif kind == "Complaint":
        notification["complaint"]["complainedRecipients"] = [{"emailAddress": recipient}]
    else:
        notification["delivery"]["recipients"] = [recipient]
    if at is not None:
        notification[kind.lower()]["timestamp"] = at
    return notification


@pytest.fixture
def sent_to(
    ses: Any,
    run: Callable[..., dict[str, Any]],
    make_tenant: Callable[..., uuid.UUID],
    owner_sql: Callable[..., list[dict[str, Any]]],
) -> Callable[..., tuple[uuid.UUID, dict[str, dict[str, Any]]]]:
    """Run a send_email job for a new tenant; returns it and recipient → ledger row (job_id, ses_message_id)."""

    def send(*addresses: str) -> tuple[uuid.UUID, dict[str, dict[str, Any]]]:
        tenant = make_tenant()
        run(tenant, {"template": "welcome", "to": list(addresses)})
        rows = owner_sql(tenant, "SELECT recipient, job_id, ses_message_id FROM email_deliveries")
        return tenant, {row["recipient"]: row for row in rows}

    return send


def suppressions(owner_sql: Callable[..., list[dict[str, Any]]]) -> dict[str, tuple[str, str | None]]:
    rows = owner_sql(None, "SELECT email, reason, detail FROM email_suppressions")
    return {row["email"]: (row["reason"], row["detail"]) for row in rows}


def feedback(owner_sql: Callable[..., list[dict[str, Any]]], tenant: uuid.UUID) -> dict[str, str | None]:
    rows = owner_sql(tenant, "SELECT recipient, feedback FROM email_deliveries")
    return {row["recipient"]: row["feedback"] for row in rows}


def test_a_hard_bounce_suppresses_the_address_and_the_next_job_skips_it(feed, ses, run, sent_to, owner_sql):
    tenant, rows = sent_to("a@example.com", "b@example.com")
    a = rows["a@example.com"]
    feed.publish(
        ses_event(
            "event-bounce.json",
            recipient="a@example.com",
            message_id=a["ses_message_id"],
            tenant=tenant,
            job=a["job_id"],
        )
    )

    records, failed = feed.poll()

    assert (len(records), failed) == (1, [])
    assert suppressions(owner_sql) == {"a@example.com": ("bounce", "Permanent/General")}
    assert feedback(owner_sql, tenant) == {"a@example.com": "bounce", "b@example.com": None}
    result = run(tenant, {"template": "welcome", "to": ["a@example.com", "b@example.com"]})
    assert result == {"template": "welcome", "sent": 1, "suppressed": 1, "rejected": []}
    assert [m.destinations["ToAddresses"] for m in ses.sent_messages[2:]] == [["b@example.com"]]


def test_soft_bounces_and_deliveries_suppress_nothing_and_a_late_event_never_hides_a_complaint(
    feed, sent_to, owner_sql
):
    tenant, rows = sent_to("a@example.com")
    a = rows["a@example.com"]
    about_a = {
        "recipient": "a@example.com",
        "message_id": a["ses_message_id"],
        "tenant": tenant,
        "job": a["job_id"],
    }
    soft = ses_event("event-bounce.json", **about_a)
    soft["bounce"].update({"bounceType": "Transient", "bounceSubType": "MailboxFull"})

    feed.publish(soft)
    assert feed.poll()[1] == []
    assert (suppressions(owner_sql), feedback(owner_sql, tenant)) == ({}, {"a@example.com": "soft_bounce"})

    feed.publish(ses_event("event-complaint.json", **about_a))
    assert feed.poll()[1] == []
    feed.publish(ses_event("event-delivery.json", **about_a))  # SES does not order its events
    assert feed.poll()[1] == []

    assert suppressions(owner_sql) == {"a@example.com": ("complaint", "abuse")}
    assert feedback(owner_sql, tenant) == {"a@example.com": "complaint"}


def test_identity_notifications_suppress_refresh_newer_reasons_and_keep_manual_ones(feed, owner_sql):
    owner_sql(None, "INSERT INTO email_suppressions (email, reason) VALUES ('richard@example.com', 'manual')")

    feed.publish(json.loads((EVENTS / "notification-bounce-no-dsn.json").read_text()))
    assert feed.poll()[1] == []
    assert suppressions(owner_sql) == {
        "jane@example.com": ("bounce", "Permanent/General"),
        "richard@example.com": ("manual", None),
    }

    newer = ses_event(
        "notification-complaint.json",
        recipient="jane@example.com",
        message_id="m-2",
        at="2026-01-01T00:00:00Z",
    )
    feed.publish(newer)
    older = ses_event(
        "notification-bounce.json", recipient="jane@example.com", message_id="m-3", at="2016-01-01T00:00:00Z"
    )
    feed.publish(older)
    assert feed.poll()[1] == []

    assert suppressions(owner_sql)["jane@example.com"] == ("complaint", "abuse")  # the older bounce lost


def test_a_tenant_tag_reaches_only_that_tenants_ledger(feed, sent_to, make_tenant, owner_sql):
    tenant, rows = sent_to("a@example.com")
    a, other = rows["a@example.com"], make_tenant()
    forged = ses_event(
        "event-bounce.json",
        recipient="a@example.com",
        message_id=a["ses_message_id"],
        tenant=other,
        job=a["job_id"],
    )

    feed.publish(forged)
    assert feed.poll()[1] == []

    assert feedback(owner_sql, tenant) == {"a@example.com": None}  # RLS: the update ran as `other`
    assert "a@example.com" in suppressions(owner_sql)  # the address bounced for everyone all the same


def published(body: str) -> str:
    """What was put on the queue: the SNS message inside an envelope, else the body itself."""
    return str(json.loads(body)["Message"]) if body.startswith("{") else body


def test_malformed_messages_fail_alone_and_reach_the_dlq_while_the_rest_is_applied(feed, owner_sql):
    feed.publish("Hello world!")  # through SNS, but not SES JSON
    feed.queues.client.send_message(QueueUrl=feed.queues.url, MessageBody="Test message.")  # no SNS envelope
    feed.publish(json.loads((EVENTS / "event-send.json").read_text()))  # valid, nothing to do
    feed.publish(ses_event("notification-bounce.json", recipient="jane@example.com", message_id="m-1"))

    records, failed = feed.poll()
    assert len(records) == 4
    assert len(failed) == 2
    assert {published(r["body"]) for r in records if r["messageId"] in failed} == {
        "Hello world!",
        "Test message.",
    }
    assert suppressions(owner_sql) == {"jane@example.com": ("bounce", "Permanent/General")}

    for _ in range(MAX_RECEIVES - 1):
        feed.release(records, failed)
        records, failed = feed.poll()
        assert len(failed) == len(records) == 2
    feed.release(records, failed)

    assert feed.poll() == ([], [])  # this receive moved them to the DLQ
    dead = feed.queues.receive(url=feed.queues.dlq_url, visibility=0)
    assert sorted(published(m["Body"]) for m in dead) == ["Hello world!", "Test message."]


def test_the_application_role_cannot_claim_an_operator_suppression(pg, owner_sql):
    with psycopg.connect(pg.app_url, autocommit=True) as app, pytest.raises(psycopg.errors.CheckViolation):
        app.execute("SELECT app.suppress_email('x@example.com', 'manual', NULL, now())")
    assert suppressions(owner_sql) == {}


def test_feedback_for_a_dedicated_cell_tenant_reaches_its_ledger_and_the_address_is_refused_everywhere(
    feed, cells, app_database, owner_sql
):
    """The ledger row is in the tenant's cell; every cell's sends read their own suppression list."""
    from saascore.db.cells import place_tenant
    from tests.support.cells import DEDICATED_CELL

    tenant, job = insert_tenant(cells.dedicated.owner_url, "big-co"), uuid.uuid4()
    with psycopg.connect(cells.dedicated.owner_url, autocommit=True) as owner, owner.transaction():
        owner.execute("SELECT app.set_tenant(%s)", (tenant,))
        owner.execute(
            "INSERT INTO jobs (id, tenant_id, type, payload, status, attempts)"
            " VALUES (%s, %s, 'send_email', '{}', 'succeeded', 1)",
            (job, tenant),
        )
        owner.execute(
            "INSERT INTO email_deliveries (tenant_id, job_id, recipient, status, ses_message_id)"
            " VALUES (%s, %s, 'a@example.com', 'sent', 'ses-1')",
            (tenant, job),
        )
    place_tenant(app_database, tenant, DEDICATED_CELL)

    feed.publish(
        ses_event("event-bounce.json", recipient="a@example.com", message_id="ses-1", tenant=tenant, job=job)
    )
    assert feed.poll()[1] == []

    with psycopg.connect(cells.dedicated.owner_url, autocommit=True) as owner, owner.transaction():
        owner.execute("SELECT app.set_tenant(%s)", (tenant,))
        ledger = owner.execute("SELECT feedback FROM email_deliveries").fetchall()
        dedicated_list = owner.execute("SELECT email, reason FROM email_suppressions").fetchall()
    assert ledger == [("bounce",)]
    assert dedicated_list == [("a@example.com", "bounce")]
    assert suppressions(owner_sql) == {"a@example.com": ("bounce", "Permanent/General")}
