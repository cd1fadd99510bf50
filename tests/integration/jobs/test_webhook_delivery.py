"""The delivery worker against real PostgreSQL, moto (SQS, KMS) and a real HTTP receiver on loopback:
backoff and re-enqueueing past SQS's 15-minute delay limit, duplicate messages, automatic disabling with an
e-mail, redirects not followed, the SSRF guard at delivery time, and the Lambda entry's partial failures."""

from __future__ import annotations

import uuid

import pytest
from standardwebhooks import Webhook

from jobs.delivery_queue import DeliveryMessage
from jobs.webhook_delivery import deliver
from saascore.db.tenancy import tenant_transaction
from saascore.events import record_event
from saascore.events.secrets import encrypt_secret, generate_secret
from saascore.events.settings import get_webhook_settings
from saascore.jobs import deliver_pending
from tests.integration.jobs.conftest import sqs_record
from tests.support.tenants import insert_tenant
from tests.support.webhooks import DeliveryQueue, Receiver, pump, receiver, register_endpoint, webhooks_aws

__all__ = ["receiver", "webhooks_aws"]


@pytest.fixture
def world(  # noqa: PLR0917 - the fixtures a delivery test needs, bundled once here
    webhooks_aws: DeliveryQueue, queues, app_database, make_tenant, owner_sql, receiver: Receiver
):
    tenant = make_tenant()
    endpoint_id = uuid.uuid4()
    secret = generate_secret()
    owner_sql(
        tenant,
        "INSERT INTO webhook_endpoints (id, tenant_id, url) VALUES (%s, %s, %s)",
        (endpoint_id, tenant, receiver.url),
    )
    owner_sql(
        tenant,
        "INSERT INTO webhook_endpoint_secrets (tenant_id, endpoint_id, ciphertext) VALUES (%s, %s, %s)",
        (tenant, endpoint_id, encrypt_secret(secret, tenant_id=tenant, endpoint_id=endpoint_id)),
    )
    return {
        "tenant": tenant,
        "endpoint": endpoint_id,
        "secret": secret,
        "tools": (queues, webhooks_aws, app_database, owner_sql, receiver),
    }


def emit(tenant, type="project.created", data=None):
    with tenant_transaction(tenant) as conn:
        event_id = record_event(conn, tenant_id=tenant, type=type, data=data or {"project": {"id": "p1"}})
    deliver_pending()
    return event_id


def delivery(owner_sql, tenant):
    [row] = owner_sql(tenant, "SELECT * FROM webhook_deliveries")
    return row


def test_a_failed_attempt_backs_off_and_the_next_succeeds(world):
    queues, webhooks_aws, app_database, owner_sql, receiver = world["tools"]
    receiver.statuses = [503, 200]
    emit(world["tenant"])
    assert pump(queues, webhooks_aws, app_database) == ["succeeded", "retrying"]
    row = delivery(owner_sql, world["tenant"])
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("pending", 1, 503)
    assert row["last_error"] == "the endpoint answered 503"
    wait = (row["next_attempt_at"] - row["last_attempt_at"]).total_seconds()
    assert 15 <= wait <= 31  # base 30 s, equal jitter
    [endpoint] = owner_sql(world["tenant"], "SELECT failing_since FROM webhook_endpoints")
    assert endpoint["failing_since"] is not None
    assert webhooks_aws.messages() == []  # the retry message is delayed by SQS
    early = DeliveryMessage(delivery_id=row["id"], tenant_id=world["tenant"], due=row["next_attempt_at"])
    assert deliver(early, settings=get_webhook_settings(), database=app_database) == "waiting"
    [moved] = owner_sql(
        world["tenant"],
        "UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 second' RETURNING next_attempt_at",
    )
    assert deliver(early, settings=get_webhook_settings(), database=app_database) == "dropped"  # rescheduled
    due = DeliveryMessage(delivery_id=row["id"], tenant_id=world["tenant"], due=moved["next_attempt_at"])
    assert deliver(due, settings=get_webhook_settings(), database=app_database) == "succeeded"
    assert deliver(due, settings=get_webhook_settings(), database=app_database) == "dropped"  # a duplicate
    row = delivery(owner_sql, world["tenant"])
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("succeeded", 2, 200)
    [endpoint] = owner_sql(world["tenant"], "SELECT failing_since FROM webhook_endpoints")
    assert endpoint["failing_since"] is None
    for request in receiver.requests:
        Webhook(world["secret"]).verify(request.body, request.headers)


def test_a_far_attempt_is_reached_in_steps_of_at_most_fifteen_minutes(world):
    queues, webhooks_aws, app_database, owner_sql, receiver = world["tools"]
    receiver.statuses = [500]
    emit(world["tenant"])
    pump(queues, webhooks_aws, app_database)
    with tenant_transaction(world["tenant"], database=app_database) as conn:
        conn.execute("UPDATE webhook_deliveries SET next_attempt_at = now() + interval '5 hours'")
    row = delivery(owner_sql, world["tenant"])
    message = DeliveryMessage(delivery_id=row["id"], tenant_id=world["tenant"], due=row["next_attempt_at"])
    delays: list[int] = []
    from saascore.jobs.outbox import get_sqs_client

    get_sqs_client().meta.events.register(
        "provide-client-params.sqs.SendMessageBatch",
        lambda params, **_: delays.extend(entry["DelaySeconds"] for entry in params["Entries"]),
    )
    assert deliver(message, settings=get_webhook_settings(), database=app_database) == "waiting"
    assert delays == [900]
    assert delivery(owner_sql, world["tenant"])["attempts"] == 1  # no attempt made early


def test_retries_stop_at_the_retry_window(world, monkeypatch):
    queues, webhooks_aws, app_database, owner_sql, receiver = world["tools"]
    from tests.support.webhooks import clear_webhook_caches

    monkeypatch.setenv("WEBHOOK_RETRY_WINDOW_SECONDS", "60")
    monkeypatch.setenv("WEBHOOK_BACKOFF_BASE_SECONDS", "3600")  # the next attempt would be past the window
    clear_webhook_caches()
    receiver.statuses = [500]
    emit(world["tenant"])
    pump(queues, webhooks_aws, app_database)
    row = delivery(owner_sql, world["tenant"])
    assert (row["status"], row["next_attempt_at"]) == ("failed", None)
    assert webhooks_aws.messages() == []


def test_an_endpoint_failing_for_days_is_disabled_audited_and_its_owners_emailed(world):
    queues, webhooks_aws, app_database, owner_sql, receiver = world["tools"]
    receiver.statuses = [500]
    owner_sql(world["tenant"], "UPDATE webhook_endpoints SET failing_since = now() - interval '6 days'")
    emit(world["tenant"])
    emit(world["tenant"], "project.deleted")
    outcomes = pump(queues, webhooks_aws, app_database)
    [endpoint] = owner_sql(world["tenant"], "SELECT status, disabled_reason FROM webhook_endpoints")
    assert (endpoint["status"], endpoint["disabled_reason"]) == ("disabled", "failing")
    rows = owner_sql(
        world["tenant"], "SELECT status, attempts, last_error FROM webhook_deliveries ORDER BY attempts DESC"
    )
    assert [row["status"] for row in rows] == ["failed", "failed"]
    assert rows[1]["attempts"] == 0
    assert rows[1]["last_error"] == "the endpoint is disabled"
    assert len(receiver.requests) == 1
    [email] = owner_sql(world["tenant"], "SELECT payload FROM jobs WHERE type = 'send_email'")
    assert email["payload"]["template"] == "webhook_endpoint_disabled"
    assert email["payload"]["to"] == "owners"
    assert email["payload"]["data"]["endpoint_url"] == receiver.url
    [audit] = owner_sql(world["tenant"], "SELECT action, actor_type FROM audit_logs")
    assert (audit["action"], audit["actor_type"]) == ("webhook_endpoint.disabled", "system")
    assert "failed" in outcomes


def test_redirects_are_not_followed(world):
    queues, webhooks_aws, app_database, owner_sql, receiver = world["tools"]
    receiver.statuses = [307]
    receiver.headers = {"location": "http://169.254.169.254/latest/meta-data/"}
    emit(world["tenant"])
    pump(queues, webhooks_aws, app_database)
    row = delivery(owner_sql, world["tenant"])
    assert (row["status"], row["last_status_code"], row["last_error"]) == (
        "pending",
        307,
        "redirects are not followed",
    )
    assert len(receiver.requests) == 1


def test_a_host_that_now_resolves_to_a_private_address_is_not_called(
    world, webhooks_aws, app_database, owner_sql, queues
):
    owner_sql(world["tenant"], "UPDATE webhook_endpoints SET url = 'https://rebinding.example/hook'")
    emit(world["tenant"])
    pump(queues, webhooks_aws, app_database)  # offline the name does not resolve: refused, retrying
    [row] = owner_sql(
        world["tenant"],
        "UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 second' RETURNING id, next_attempt_at",
    )
    outcome = deliver(
        DeliveryMessage(delivery_id=row["id"], tenant_id=world["tenant"], due=row["next_attempt_at"]),
        settings=get_webhook_settings(),
        database=app_database,
        resolve=lambda host, port: ["93.184.216.34", "10.0.0.7"],
        post=lambda *args, **kwargs: pytest.fail("a refused address must never be connected to"),
    )
    assert outcome == "retrying"
    assert delivery(owner_sql, world["tenant"])["last_error"].startswith(
        "refused: the host 'rebinding.example'"
    )


def test_the_lambda_entry_reports_a_bad_record_and_delivers_the_rest(world, lambda_context):
    queues, webhooks_aws, app_database, owner_sql, receiver = world["tools"]
    from jobs.webhook_worker import handler

    receiver.statuses = [500, 200]
    emit(world["tenant"])
    pump(queues, webhooks_aws, app_database)
    [row] = owner_sql(
        world["tenant"],
        "UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 second' RETURNING id, next_attempt_at",
    )
    good = DeliveryMessage(delivery_id=row["id"], tenant_id=world["tenant"], due=row["next_attempt_at"])
    records = [
        {
            **sqs_record(
                {"MessageId": "m1", "ReceiptHandle": "r1", "Body": good.model_dump_json(), "MD5OfBody": ""},
                queues,
            )
        },
        {
            **sqs_record(
                {"MessageId": "m2", "ReceiptHandle": "r2", "Body": "{not json", "MD5OfBody": ""}, queues
            )
        },
    ]
    response = handler({"Records": records}, lambda_context)
    assert response["batchItemFailures"] == [{"itemIdentifier": "m2"}]
    assert delivery(owner_sql, world["tenant"])["status"] == "succeeded"
    assert len(receiver.requests) == 2


def test_job_finished_is_recorded_for_announced_jobs_only(world, queues, app_database, owner_sql):
    from jobs.runner import run_message
    from jobs.settings import get_settings
    from saascore.jobs import enqueue_job
    from saascore.jobs.model import JobMessage

    with tenant_transaction(world["tenant"]) as conn:
        report = enqueue_job(conn, tenant_id=world["tenant"], job_type="project_report", payload={})
        quiet = enqueue_job(conn, tenant_id=world["tenant"], job_type="expire_sessions", payload={})
    resolve = lambda job_type: lambda ctx: {"ok": True}  # noqa: E731
    for job_id, job_type in ((report, "project_report"), (quiet, "expire_sessions")):
        message = JobMessage(job_id=job_id, type=job_type, tenant_id=world["tenant"])
        assert (
            run_message(
                message, receive_count=1, settings=get_settings(), database=app_database, resolve=resolve
            )
            == "succeeded"
        )
    [event] = owner_sql(world["tenant"], "SELECT type, data FROM events")
    assert event["type"] == "job.finished"
    assert event["data"] == {"job": {"id": str(report), "type": "project_report", "status": "succeeded"}}
    # The endpoint subscribes to every type: the dispatch job rode the outbox to the jobs queue.
    assert any(body["type"] == "dispatch_event" for body in queues.bodies())


def test_loopback_is_refused_outside_test_and_local(monkeypatch):
    from saascore.events.settings import WebhookSettings
    from saascore.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError):
        WebhookSettings.model_validate({"APP_ENV": "prod", "WEBHOOK_ALLOW_LOOPBACK": "true"})
    assert WebhookSettings.model_validate({"APP_ENV": "prod"}).allow_loopback is False


def test_the_lambda_entry_delivers_for_a_tenant_in_a_dedicated_cell(world, cells, lambda_context):
    """The delivery rows of a dedicated-cell tenant are in its cell: the worker routes there."""
    queues, webhooks_aws, app_database, _, receiver = world["tools"]
    import psycopg

    from jobs.webhook_worker import handler
    from saascore.db.cells import cell_database, place_tenant
    from tests.support.cells import DEDICATED_CELL

    tenant = insert_tenant(cells.dedicated.owner_url, "big-co")
    with psycopg.connect(cells.dedicated.owner_url, autocommit=True) as owner:
        _, secret = register_endpoint(owner, tenant, receiver.url)
    place_tenant(app_database, tenant, DEDICATED_CELL)
    dedicated = cell_database(DEDICATED_CELL)
    emit(tenant)  # recorded in the tenant's cell
    receiver.statuses = [500, 200]
    pump(queues, webhooks_aws, dedicated)  # the dispatch job and a failed first attempt
    with tenant_transaction(tenant) as conn:
        row = conn.execute(
            "UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 second'"
            " RETURNING id, next_attempt_at"
        ).fetchone()
    assert row is not None
    message = DeliveryMessage(delivery_id=row["id"], tenant_id=tenant, due=row["next_attempt_at"])
    record = sqs_record(
        {"MessageId": "m1", "ReceiptHandle": "r1", "Body": message.model_dump_json(), "MD5OfBody": ""}, queues
    )
    assert handler({"Records": [record]}, lambda_context)["batchItemFailures"] == []
    with tenant_transaction(tenant) as conn:
        status = conn.execute("SELECT status FROM webhook_deliveries").fetchone()
    assert status == {"status": "succeeded"}
    assert len(receiver.requests) == 2
    Webhook(secret).verify(receiver.requests[-1].body, receiver.requests[-1].headers)
