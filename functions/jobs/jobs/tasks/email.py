"""`send_email`: one templated SES message per recipient, skipping suppressed addresses.

Bounce safety: addresses on the `email_suppressions` list (hard bounces and complaints, fed by
`jobs.ses_events`) are never sent to again, and an address SES rejects is recorded and skipped instead
of failing the job, so one bad address cannot put a job (and its other recipients) into retries.
Throttling and other SES errors raise, so the worker retries the job with backoff.

Retries: every recipient has a row in the `email_deliveries` ledger, and a retried job skips those
already `sent`, `rejected` or `suppressed`. SES has no idempotency key, so the one message in flight when
a worker died may be delivered twice; nothing else is. The result counts across all attempts.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from jobs.clients import get_ses_client
from jobs.context import JobContext
from jobs.repositories import email as repo
from jobs.ses_notifications import JOB_TAG, TENANT_TAG
from jobs.tasks.email_templates import ALIASES, TEMPLATES, ses_template_name
from saascore.db.connection import Connection
from saascore.db.tenancy import tenant_transaction
from saascore.exceptions import ConfigurationError

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
MAX_RECIPIENTS = 50
Group = Literal["owners", "billing_contacts"]


class EmailRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str
    to: Group | list[str] | str
    data: dict[str, str | int | float | bool | None] = Field(default_factory=dict)

    @field_validator("template")
    @classmethod
    def _known_template(cls, value: str) -> str:
        name = ALIASES.get(value, value)
        if name not in TEMPLATES:
            raise ValueError(f"unknown email template {value!r}")
        return name

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: str | list[str]) -> str | list[str]:
        if value in ("owners", "billing_contacts"):
            return value
        addresses = [value] if isinstance(value, str) else value
        if not 1 <= len(addresses) <= MAX_RECIPIENTS or not all(EMAIL.match(a) for a in addresses):
            raise ValueError("`to` must be owners, billing_contacts or 1-50 e-mail addresses")
        return [a.lower() for a in addresses]


def send_email(ctx: JobContext) -> dict[str, Any]:
    request = EmailRequest.model_validate(ctx.payload)
    sender = ctx.settings.email_sender
    if not sender:
        raise ConfigurationError("EMAIL_SENDER is not configured")
    tenant_id, job_id = ctx.tenant, ctx.job_id
    with tenant_transaction(tenant_id, database=ctx.database) as conn:
        recipients = _recipients(conn, request.to)
        suppressed = repo.suppressed_addresses(conn, addresses=recipients)
        repo.mark_suppressed(
            conn, tenant_id=tenant_id, job_id=job_id, recipients=[a for a in recipients if a in suppressed]
        )
        to_send = [address for address in recipients if address not in suppressed]
        tenant_name = repo.tenant_name(conn)
    data = json.dumps({**request.data, "tenant_name": tenant_name})
    client = get_ses_client()
    options: dict[str, Any] = {
        # SES copies message tags into configuration set events: the feedback consumer finds the
        # tenant's ledger row by them.
        "Tags": [{"Name": TENANT_TAG, "Value": str(tenant_id)}, {"Name": JOB_TAG, "Value": str(job_id)}],
    }
    if ctx.settings.email_configuration_set:
        options["ConfigurationSetName"] = ctx.settings.email_configuration_set
    for address in to_send:
        # Committed before the call, and refused for a recipient an earlier attempt finished: a crash
        # after SES accepted leaves this one `sending`, so a retry re-sends it and nobody already `sent`.
        with tenant_transaction(tenant_id, database=ctx.database) as conn:
            if not repo.mark_sending(conn, tenant_id=tenant_id, job_id=job_id, recipient=address):
                continue
        try:
            response = client.send_templated_email(
                Source=sender,
                Destination={"ToAddresses": [address]},
                Template=ses_template_name(ctx.settings.email_template_prefix, request.template),
                TemplateData=data,
                **options,
            )
        except client.exceptions.MessageRejected as exc:
            with tenant_transaction(tenant_id, database=ctx.database) as conn:
                repo.mark_rejected(conn, job_id=job_id, recipient=address, error=str(exc))
            continue
        with tenant_transaction(tenant_id, database=ctx.database) as conn:
            repo.mark_sent(conn, job_id=job_id, recipient=address, ses_message_id=str(response["MessageId"]))
    with tenant_transaction(tenant_id, database=ctx.database) as conn:
        totals = repo.delivery_totals(conn, job_id=job_id)
    return {
        "template": request.template,
        "sent": totals.sent,
        "suppressed": totals.suppressed,
        "rejected": totals.rejected,
    }


def _recipients(conn: Connection, to: str | list[str]) -> list[str]:
    if isinstance(to, list):
        return list(dict.fromkeys(to))
    if to == "billing_contacts":
        contact = repo.billing_contact(conn)
        if contact is not None:
            return [contact]
    return repo.owner_addresses(conn)
