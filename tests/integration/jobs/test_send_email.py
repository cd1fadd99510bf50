from __future__ import annotations

import json
import uuid

import boto3
import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from pydantic import ValidationError

from jobs.clients import clear_clients
from jobs.context import JobContext
from jobs.settings import get_settings
from jobs.tasks.email import send_email
from jobs.tasks.email_templates import TEMPLATES, ses_template_name

SENDER = "noreply@saas.example"


@pytest.fixture
def ses(aws, monkeypatch):
    monkeypatch.setenv("EMAIL_SENDER", SENDER)
    get_settings.cache_clear()
    clear_clients()
    client = boto3.client("ses", region_name="eu-west-1")
    client.verify_email_identity(EmailAddress=SENDER)
    for name, template in TEMPLATES.items():
        client.create_template(
            Template={
                "TemplateName": ses_template_name("saas", name),
                "SubjectPart": template.subject,
                "HtmlPart": template.html,
                "TextPart": template.text,
            }
        )
    yield ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"]
    get_settings.cache_clear()
    clear_clients()


def context(tenant, database, payload):
    return JobContext(
        job_id=uuid.uuid4(),
        job_type="send_email",
        tenant_id=tenant,
        payload=payload,
        attempt=1,
        settings=get_settings(),
        database=database,
    )


def sent(backend):
    return [(m.template, m.destinations["ToAddresses"]) for m in backend.sent_messages]


def test_one_message_per_recipient_and_suppressed_addresses_are_skipped(
    app_database, ses, make_tenant, owner_sql
):
    tenant = make_tenant()
    owner_sql(None, "INSERT INTO email_suppressions (email, reason) VALUES ('bounced@example.com', 'bounce')")

    result = send_email(
        context(
            tenant,
            app_database,
            {
                "template": "welcome",
                "to": ["A@example.com", "bounced@example.com", "b@example.com"],
                "data": {"x": 1},
            },
        )
    )

    assert result == {"template": "welcome", "sent": 2, "suppressed": 1, "rejected": []}
    assert sent(ses) == [("saas-welcome", ["a@example.com"]), ("saas-welcome", ["b@example.com"])]
    data = json.loads(ses.sent_messages[0].template_data)
    assert data["x"] == 1
    assert data["tenant_name"].startswith("t-")


def test_billing_emails_from_the_webhooks_go_to_the_billing_contact(
    app_database, ses, make_tenant, owner_sql
):
    tenant = make_tenant()
    owner_sql(
        tenant,
        "INSERT INTO billing_customers (tenant_id, stripe_customer_id, email) VALUES (%s, 'cus_1', 'Billing@Example.com')",
        (tenant,),
    )
    send_email(
        context(
            tenant, app_database, {"template": "billing_payment_failed", "to": "billing_contacts", "data": {}}
        )
    )
    assert sent(ses) == [("saas-payment_failed", ["billing@example.com"])]


def test_without_a_billing_contact_the_owners_are_told(app_database, ses, make_tenant, owner_sql):
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

    send_email(
        context(tenant, app_database, {"template": "billing_trial_will_end", "to": "billing_contacts"})
    )
    assert sent(ses) == [("saas-trial_ending", ["owner@t.example"])]


def test_an_address_ses_rejects_is_recorded_not_retried(app_database, ses, make_tenant, monkeypatch):
    monkeypatch.setenv("EMAIL_SENDER", "unverified@saas.example")
    get_settings.cache_clear()
    result = send_email(context(make_tenant(), app_database, {"template": "invite", "to": "x@example.com"}))
    assert (result["sent"], result["rejected"]) == (0, ["x@example.com"])


@pytest.mark.parametrize(
    "payload",
    [
        {"template": "newsletter", "to": "x@example.com"},
        {"template": "welcome", "to": "not-an-address"},
        {"template": "welcome", "to": []},
        {"template": "welcome", "to": "x@example.com", "cc": "y@example.com"},
    ],
)
def test_bad_payloads_are_permanent_errors(app_database, ses, make_tenant, payload):
    with pytest.raises(ValidationError):
        send_email(context(make_tenant(), app_database, payload))
    assert ses.sent_messages == []
