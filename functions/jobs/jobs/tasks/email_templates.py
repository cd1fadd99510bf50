"""The SES templates `send_email` uses; the infrastructure creates them as `<prefix>-<name>`.

Placeholders are SES (Handlebars) variables; `tenant_name` is always supplied by the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True, slots=True)
class EmailTemplate:
    subject: str
    html: str
    text: str


TEMPLATES: Final = MappingProxyType(
    {
        "welcome": EmailTemplate(
            subject="Welcome to {{tenant_name}}",
            html="<p>Welcome! Your workspace <b>{{tenant_name}}</b> is ready.</p>",
            text="Welcome! Your workspace {{tenant_name}} is ready.",
        ),
        "invite": EmailTemplate(
            subject="You are invited to {{tenant_name}}",
            html="<p>{{inviter}} invited you to <b>{{tenant_name}}</b>. <a href='{{accept_url}}'>Accept</a></p>",
            text="{{inviter}} invited you to {{tenant_name}}. Accept: {{accept_url}}",
        ),
        "payment_failed": EmailTemplate(
            subject="Payment failed for {{tenant_name}}",
            html="<p>We could not collect {{amount_due}} {{currency}}. <a href='{{hosted_invoice_url}}'>Pay now</a></p>",
            text="We could not collect {{amount_due}} {{currency}}. Pay now: {{hosted_invoice_url}}",
        ),
        "payment_action_required": EmailTemplate(
            subject="Action needed to pay for {{tenant_name}}",
            html="<p>Your bank needs you to confirm a payment. <a href='{{hosted_invoice_url}}'>Confirm</a></p>",
            text="Your bank needs you to confirm a payment: {{hosted_invoice_url}}",
        ),
        "export_ready": EmailTemplate(
            subject="Your {{tenant_name}} export is ready",
            html="<p>The export of <b>{{tenant_name}}</b> is ready: GET /api/v1/exports/{{export_id}} gives a download link.</p>",
            text="The export of {{tenant_name}} is ready: GET /api/v1/exports/{{export_id}} gives a download link.",
        ),
        "trial_ending": EmailTemplate(
            subject="Your {{tenant_name}} trial ends soon",
            html="<p>Your trial ends on {{trial_end}}. Choose a plan to keep your data and limits.</p>",
            text="Your trial ends on {{trial_end}}. Choose a plan to keep your data and limits.",
        ),
        "webhook_endpoint_disabled": EmailTemplate(
            subject="A webhook endpoint of {{tenant_name}} was disabled",
            html="<p>Deliveries to <b>{{endpoint_url}}</b> failed for {{failing_days}} days, so the endpoint was "
            "disabled. Fix it and enable it again in your webhook settings.</p>",
            text="Deliveries to {{endpoint_url}} failed for {{failing_days}} days, so the endpoint was disabled. "
            "Fix it and enable it again in your webhook settings.",
        ),
    }
)

# Names the webhook processor enqueues (`billing_<Stripe event kind>`) → the template they use.
ALIASES: Final = MappingProxyType(
    {
        "billing_payment_failed": "payment_failed",
        "billing_payment_action_required": "payment_action_required",
        "billing_trial_will_end": "trial_ending",
    }
)


def ses_template_name(prefix: str, name: str) -> str:
    return f"{prefix}-{name}"
