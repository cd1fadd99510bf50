"""SES feedback as it reaches the SES events queue (an SNS envelope around SES JSON), and what it means.

Pure: no AWS SDK, no database. Both shapes SES publishes are read: configuration set event publishing
(``eventType``, carrying the message tags ``send_email`` sets) and identity feedback notifications
(``notificationType``, no tags). Rules: a Permanent bounce and every complaint suppress the address; a
Transient or Undetermined bounce does not (SES already retried, and the next message may get through).
Event types nothing here acts on (Send, Open, Reject, ...) parse to ``None``; anything that cannot be read
raises ``MalformedSesNotification`` so the message ends in the DLQ instead of being dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from jobs.exceptions import MalformedSesNotification

Kind = Literal["bounce", "complaint", "delivery"]
Feedback = Literal["delivered", "soft_bounce", "bounce", "complaint"]
Reason = Literal["bounce", "complaint"]

KINDS: Final[dict[str, Kind]] = {"Bounce": "bounce", "Complaint": "complaint", "Delivery": "delivery"}
# Message tags send_email puts on every message; SES copies them into configuration set events.
TENANT_TAG: Final = "tenant_id"
JOB_TAG: Final = "job_id"
MAX_ADDRESS_CHARS = 320  # email_suppressions.email CHECK


class _SesModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="ignore", frozen=True)


class _Envelope(BaseModel):
    """What SNS delivers to an SQS subscription without raw message delivery."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: Literal["Notification"] = Field(alias="Type")
    message: str = Field(alias="Message")


class _Recipient(_SesModel):
    email_address: str


class _Bounce(_SesModel):
    bounce_type: str
    bounce_sub_type: str | None = None
    bounced_recipients: list[_Recipient] = Field(min_length=1)
    timestamp: datetime


class _Complaint(_SesModel):
    complained_recipients: list[_Recipient] = Field(min_length=1)
    complaint_feedback_type: str | None = None
    timestamp: datetime


class _Delivery(_SesModel):
    recipients: list[str] = Field(min_length=1)
    timestamp: datetime


class _Mail(_SesModel):
    message_id: str = Field(min_length=1, max_length=255)
    tags: dict[str, list[str]] = Field(default_factory=dict)


class _Notification(_SesModel):
    event_type: str | None = None  # configuration set event publishing
    notification_type: str | None = None  # identity feedback notifications
    mail: _Mail
    bounce: _Bounce | None = None
    complaint: _Complaint | None = None
    delivery: _Delivery | None = None


@dataclass(frozen=True, slots=True)
class SesFeedback:
    kind: Kind
    message_id: str  # the SES MessageId SendTemplatedEmail returned
    recipients: tuple[str, ...]  # lower-cased addresses the event is about
    occurred_at: datetime
    bounce_type: str | None = None  # Permanent | Transient | Undetermined
    detail: str | None = None  # e.g. "Permanent/General" or the complaint feedback type
    tenant_id: UUID | None = None  # from the message tags (configuration set events only)
    job_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Suppression:
    email: str
    reason: Reason
    detail: str | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Decision:
    message_id: str
    tenant_id: UUID | None
    feedback: Feedback
    occurred_at: datetime
    suppressions: tuple[Suppression, ...]


def parse_message(body: str) -> SesFeedback | None:
    """An SQS body from the SES events queue → the feedback it carries, or None if nothing acts on it."""
    try:
        notification = _Notification.model_validate_json(_Envelope.model_validate_json(body).message)
    except ValidationError as exc:
        raise MalformedSesNotification(
            f"not SES feedback in an SNS envelope ({exc.error_count()} error(s))"
        ) from exc
    name = notification.event_type or notification.notification_type
    if name is None:
        raise MalformedSesNotification("SES notification without eventType or notificationType")
    kind = KINDS.get(name)
    if kind is None:
        return None
    if kind == "bounce" and notification.bounce is not None:
        bounce = notification.bounce
        recipients = [r.email_address for r in bounce.bounced_recipients]
        occurred_at, bounce_type = bounce.timestamp, bounce.bounce_type
        detail: str | None = f"{bounce.bounce_type}/{bounce.bounce_sub_type or 'Undetermined'}"
    elif kind == "complaint" and notification.complaint is not None:
        complaint = notification.complaint
        recipients = [r.email_address for r in complaint.complained_recipients]
        occurred_at, bounce_type = complaint.timestamp, None
        detail = complaint.complaint_feedback_type
    elif kind == "delivery" and notification.delivery is not None:
        recipients = notification.delivery.recipients
        occurred_at, bounce_type, detail = notification.delivery.timestamp, None, None
    else:
        raise MalformedSesNotification(f"{name} notification without its {kind} object")
    tags = notification.mail.tags
    return SesFeedback(
        kind=kind,
        message_id=notification.mail.message_id,
        recipients=_addresses(recipients),
        occurred_at=occurred_at,
        bounce_type=bounce_type,
        detail=detail,
        tenant_id=_tag_uuid(tags, TENANT_TAG),
        job_id=_tag_uuid(tags, JOB_TAG),
    )


def decide(event: SesFeedback) -> Decision:
    """Which addresses to suppress and what to record on the delivery ledger row."""
    feedback: Feedback
    reason: Reason | None
    if event.kind == "bounce":
        hard = event.bounce_type == "Permanent"
        feedback, reason = ("bounce", "bounce") if hard else ("soft_bounce", None)
    elif event.kind == "complaint":
        feedback, reason = "complaint", "complaint"
    else:
        feedback, reason = "delivered", None
    suppressions = (
        ()
        if reason is None
        else tuple(
            Suppression(address, reason, event.detail, event.occurred_at) for address in event.recipients
        )
    )
    return Decision(
        message_id=event.message_id,
        tenant_id=event.tenant_id,
        feedback=feedback,
        occurred_at=event.occurred_at,
        suppressions=suppressions,
    )


def _addresses(raw: Iterable[str]) -> tuple[str, ...]:
    found = []
    for value in raw:
        address = parseaddr(value)[1].strip().lower()
        local, _, domain = address.partition("@")
        if not local or not domain or len(address) > MAX_ADDRESS_CHARS or any(c.isspace() for c in address):
            raise MalformedSesNotification("a recipient is not an e-mail address")
        found.append(address)
    return tuple(dict.fromkeys(found))


def _tag_uuid(tags: dict[str, list[str]], name: str) -> UUID | None:
    """A tag send_email set; anything else (missing, foreign, garbled) is no tag, never a failure."""
    values = tags.get(name) or []
    try:
        return UUID(values[0]) if len(values) == 1 else None
    except ValueError:
        return None
