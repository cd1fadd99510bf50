from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from pydantic import ValidationError

import jobs.tasks.email
from jobs.clients import get_ses_client
from jobs.settings import get_settings
from saascore.db.tenancy import tenant_transaction
from saascore.jobs import deliver_pending, enqueue_job


class WorkerDied(RuntimeError):
    """Stands in for a Lambda timeout or crash: not an SES error, so the worker retries the job."""


class ScriptedSes:
    """The (moto) SES client with scripted faults: `crash_after` addresses are accepted by SES and then
    the worker dies (once each); `reject` addresses get SES's MessageRejected."""

    def __init__(self, client):
        self._client = client
        self.exceptions = client.exceptions
        self.calls: list[dict[str, Any]] = []
        self.crash_after: set[str] = set()
        self.reject: set[str] = set()

    def send_templated_email(self, **params):
        self.calls.append(params)
        (address,) = params["Destination"]["ToAddresses"]
        if address in self.reject:
            error = {"Error": {"Code": "MessageRejected", "Message": "Address blacklisted."}}
            raise self.exceptions.MessageRejected(error, "SendTemplatedEmail")
        response = self._client.send_templated_email(**params)
        if address in self.crash_after:
            self.crash_after.discard(address)
            raise WorkerDied(f"died after SES accepted the message to {address}")
        return response


@pytest.fixture
def scripted_ses(ses, monkeypatch):
    scripted = ScriptedSes(get_ses_client())
    monkeypatch.setattr(jobs.tasks.email, "get_ses_client", lambda: scripted)
    return scripted


def sent(backend):
    return [(m.template, m.destinations["ToAddresses"]) for m in backend.sent_messages]


def ledger(owner_sql, tenant):
    return owner_sql(
        tenant,
        "SELECT recipient, status, attempts, ses_message_id, error FROM email_deliveries ORDER BY recipient",
    )


def test_one_message_per_recipient_and_suppressed_addresses_are_skipped(ses, run, make_tenant, owner_sql):
    tenant = make_tenant()
    owner_sql(None, "INSERT INTO email_suppressions (email, reason) VALUES ('bounced@example.com', 'bounce')")

    result = run(
        tenant,
        {
            "template": "welcome",
            "to": ["A@example.com", "bounced@example.com", "b@example.com"],
            "data": {"x": 1},
        },
    )

    assert result == {"template": "welcome", "sent": 2, "suppressed": 1, "rejected": []}
    assert sent(ses) == [("saas-welcome", ["a@example.com"]), ("saas-welcome", ["b@example.com"])]
    data = json.loads(ses.sent_messages[0].template_data)
    assert data["x"] == 1
    assert data["tenant_name"].startswith("t-")


def test_every_recipient_gets_a_ledger_row_holding_the_ses_message_id(ses, run, make_tenant, owner_sql):
    tenant = make_tenant()
    owner_sql(None, "INSERT INTO email_suppressions (email, reason) VALUES ('gone@example.com', 'complaint')")

    run(tenant, {"template": "welcome", "to": ["a@example.com", "gone@example.com"]})

    [message] = ses.sent_messages
    assert ledger(owner_sql, tenant) == [
        {
            "recipient": "a@example.com",
            "status": "sent",
            "attempts": 1,
            "ses_message_id": message.id,
            "error": None,
        },
        {
            "recipient": "gone@example.com",
            "status": "suppressed",
            "attempts": 0,
            "ses_message_id": None,
            "error": None,
        },
    ]


def test_messages_carry_tenant_and_job_tags_and_the_configuration_set(
    scripted_ses, run, make_tenant, monkeypatch
):
    monkeypatch.setenv("EMAIL_CONFIGURATION_SET", "saas-dev-email")
    get_settings.cache_clear()
    tenant = make_tenant()

    run(tenant, {"template": "invite", "to": "x@example.com"})

    [params] = scripted_ses.calls
    assert params["ConfigurationSetName"] == "saas-dev-email"
    tags = {tag["Name"]: tag["Value"] for tag in params["Tags"]}
    assert tags["tenant_id"] == str(tenant)
    uuid.UUID(tags["job_id"])


def test_billing_emails_from_the_webhooks_go_to_the_billing_contact(ses, run, make_tenant, owner_sql):
    tenant = make_tenant()
    owner_sql(
        tenant,
        "INSERT INTO billing_customers (tenant_id, stripe_customer_id, email) VALUES (%s, 'cus_1', 'Billing@Example.com')",
        (tenant,),
    )
    run(tenant, {"template": "billing_payment_failed", "to": "billing_contacts", "data": {}})
    assert sent(ses) == [("saas-payment_failed", ["billing@example.com"])]


def test_without_a_billing_contact_the_owners_are_told(ses, run, make_tenant, owner_sql):
    tenant, other = make_tenant(), make_tenant()
    for owner, email in ((tenant, "owner@t.example"), (other, "owner@other.example")):
        [role] = owner_sql(
            owner,
            "INSERT INTO roles (tenant_id, key, name, is_system) VALUES (%s, 'owner', 'Owner', true) RETURNING id",
            (owner,),
        )
        [user] = owner_sql(
            None,
            "INSERT INTO users (idp_issuer, idp_subject, email) VALUES ('iss', %s, %s) RETURNING id",
            (email, email),
        )
        owner_sql(
            owner,
            "INSERT INTO memberships (tenant_id, user_id, role_id) VALUES (%s, %s, %s)",
            (owner, user["id"], role["id"]),
        )

    run(tenant, {"template": "billing_trial_will_end", "to": "billing_contacts"})
    assert sent(ses) == [("saas-trial_ending", ["owner@t.example"])]


def test_an_address_ses_rejects_is_recorded_not_retried(ses, run, make_tenant, owner_sql, monkeypatch):
    monkeypatch.setenv("EMAIL_SENDER", "unverified@saas.example")
    get_settings.cache_clear()
    tenant = make_tenant()
    result = run(tenant, {"template": "invite", "to": "x@example.com"})
    assert (result["sent"], result["rejected"]) == (0, ["x@example.com"])
    [row] = ledger(owner_sql, tenant)
    assert row["status"] == "rejected"
    assert "not verified" in row["error"]


def test_a_retry_after_every_message_was_sent_sends_nothing_and_reports_the_same_totals(
    ses, run, make_tenant, owner_sql
):
    """The crash the ledger exists for: SES accepted everything, the job was never marked succeeded."""
    tenant = make_tenant()
    payload = {"template": "welcome", "to": ["a@example.com", "b@example.com"]}
    first = run(tenant, payload)
    job_id = owner_sql(tenant, "SELECT id FROM jobs")[0]["id"]

    again = run(tenant, payload, job_id=job_id, attempt=2)

    assert again == first == {"template": "welcome", "sent": 2, "suppressed": 0, "rejected": []}
    assert len(ses.sent_messages) == 2


def test_a_crash_after_ses_accepted_one_message_resends_only_that_one(
    scripted_ses, run, make_tenant, owner_sql
):
    tenant = make_tenant()
    payload = {
        "template": "welcome",
        "to": ["a@example.com", "b@example.com", "c@example.com", "d@example.com"],
    }
    scripted_ses.crash_after = {"b@example.com"}
    scripted_ses.reject = {"c@example.com"}
    with pytest.raises(WorkerDied):
        run(tenant, payload)
    job_id = owner_sql(tenant, "SELECT id FROM jobs")[0]["id"]
    assert [(r["recipient"], r["status"]) for r in ledger(owner_sql, tenant)] == [
        ("a@example.com", "sent"),
        ("b@example.com", "sending"),
    ]

    result = run(tenant, payload, job_id=job_id, attempt=2)

    calls = [c["Destination"]["ToAddresses"][0] for c in scripted_ses.calls]
    # a was sent before the crash: never again; b was in flight: the one possible duplicate.
    assert calls == ["a@example.com", "b@example.com", "b@example.com", "c@example.com", "d@example.com"]
    assert result == {"template": "welcome", "sent": 3, "suppressed": 0, "rejected": ["c@example.com"]}
    rows = {r["recipient"]: r for r in ledger(owner_sql, tenant)}
    assert {address: (r["status"], r["attempts"]) for address, r in rows.items()} == {
        "a@example.com": ("sent", 1),
        "b@example.com": ("sent", 2),
        "c@example.com": ("rejected", 1),
        "d@example.com": ("sent", 1),
    }


def test_an_address_suppressed_between_attempts_is_not_resent(scripted_ses, run, make_tenant, owner_sql):
    tenant = make_tenant()
    payload = {"template": "welcome", "to": ["a@example.com", "b@example.com", "c@example.com"]}
    scripted_ses.crash_after = {"b@example.com"}
    with pytest.raises(WorkerDied):
        run(tenant, payload)
    job_id = owner_sql(tenant, "SELECT id FROM jobs")[0]["id"]
    # a's and b's bounces arrive before the retry
    owner_sql(None, "INSERT INTO email_suppressions (email, reason) VALUES ('a@example.com', 'bounce')")
    owner_sql(None, "INSERT INTO email_suppressions (email, reason) VALUES ('b@example.com', 'bounce')")

    result = run(tenant, payload, job_id=job_id, attempt=2)

    calls = [c["Destination"]["ToAddresses"][0] for c in scripted_ses.calls]
    assert calls == ["a@example.com", "b@example.com", "c@example.com"]
    assert (result["sent"], result["suppressed"]) == (2, 1)  # a was sent before it bounced: it stays sent
    assert [(r["recipient"], r["status"]) for r in ledger(owner_sql, tenant)] == [
        ("a@example.com", "sent"),
        ("b@example.com", "suppressed"),
        ("c@example.com", "sent"),
    ]


def test_through_the_worker_a_crashed_attempt_is_retried_and_the_job_reports_every_attempt(
    scripted_ses, poller, make_tenant, owner_sql
):
    tenant = make_tenant()
    payload = {"template": "welcome", "to": ["a@example.com", "b@example.com", "c@example.com"]}
    with tenant_transaction(tenant) as conn:
        job_id = enqueue_job(conn, tenant_id=tenant, job_type="send_email", payload=payload)
    deliver_pending()
    scripted_ses.crash_after = {"b@example.com"}

    assert len(poller.poll()[1]) == 1  # attempt 1 died after SES took b's message
    assert poller.poll(wait=5)[1] == []  # attempt 2, after the backoff

    [job] = owner_sql(tenant, "SELECT status, attempts, result FROM jobs WHERE id = %s", (job_id,))
    assert (job["status"], job["attempts"]) == ("succeeded", 2)
    assert job["result"] == {"template": "welcome", "sent": 3, "suppressed": 0, "rejected": []}
    calls = [c["Destination"]["ToAddresses"][0] for c in scripted_ses.calls]
    assert calls == ["a@example.com", "b@example.com", "b@example.com", "c@example.com"]


@pytest.mark.parametrize(
    "payload",
    [
        {"template": "newsletter", "to": "x@example.com"},
        {"template": "welcome", "to": "not-an-address"},
        {"template": "welcome", "to": []},
        {"template": "welcome", "to": "x@example.com", "cc": "y@example.com"},
    ],
)
def test_bad_payloads_are_permanent_errors(ses, run, make_tenant, payload):
    with pytest.raises(ValidationError):
        run(make_tenant(), payload)
    assert ses.sent_messages == []
