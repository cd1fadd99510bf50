"""SES feedback parsing and the suppression rules, on the notification shapes of the AWS documentation."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jobs.exceptions import MalformedSesNotification
from jobs.ses_notifications import Suppression, decide, parse_message

EVENTS = Path(__file__).resolve().parents[2] / "events" / "ses"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


def in_sns(ses_json: dict[str, Any] | str) -> str:
    """The SQS body SNS delivers for a published SES notification (raw message delivery off)."""
    envelope = load("sns-envelope.json")
    envelope["Message"] = ses_json if isinstance(ses_json, str) else json.dumps(ses_json)
    return json.dumps(envelope)


def test_a_configuration_set_hard_bounce_suppresses_the_recipient():
    event = parse_message(in_sns(load("event-bounce.json")))

    assert event is not None
    assert (event.kind, event.bounce_type, event.detail) == ("bounce", "Permanent", "Permanent/General")
    assert event.message_id == "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"
    assert event.recipients == ("recipient@example.com",)
    assert event.occurred_at == datetime(2017, 8, 5, 0, 41, 2, 669000, tzinfo=UTC)
    assert (event.tenant_id, event.job_id) == (None, None)  # the documented example has only ses:* tags
    decision = decide(event)
    assert decision.feedback == "bounce"
    assert decision.suppressions == (
        Suppression("recipient@example.com", "bounce", "Permanent/General", event.occurred_at),
    )


@pytest.mark.parametrize(("bounce_type", "sub_type"), [("Transient", "MailboxFull"), ("Undetermined", None)])
def test_soft_and_undetermined_bounces_suppress_nothing(bounce_type, sub_type):
    notification = load("event-bounce.json")
    notification["bounce"]["bounceType"] = bounce_type
    notification["bounce"]["bounceSubType"] = sub_type

    event = parse_message(in_sns(notification))

    assert event is not None
    decision = decide(event)
    assert (decision.feedback, decision.suppressions) == ("soft_bounce", ())


def test_a_configuration_set_complaint_suppresses_with_its_feedback_type():
    event = parse_message(in_sns(load("event-complaint.json")))

    assert event is not None
    decision = decide(event)
    assert decision.feedback == "complaint"
    assert [(s.email, s.reason, s.detail) for s in decision.suppressions] == [
        ("recipient@example.com", "complaint", "abuse")
    ]


def test_a_complaint_without_a_feedback_report_still_suppresses():
    notification = load("notification-complaint.json")
    del notification["complaint"]["complaintFeedbackType"]

    event = parse_message(in_sns(notification))

    assert event is not None
    assert [(s.email, s.reason, s.detail) for s in decide(event).suppressions] == [
        ("richard@example.com", "complaint", None)
    ]


def test_identity_notifications_use_notification_type_and_may_name_several_recipients():
    event = parse_message(in_sns(load("notification-bounce-no-dsn.json")))

    assert event is not None
    assert event.message_id == "00000137860315fd-34208509-5b74-41f3-95c5-22c1edc3c924-000000"
    # mary@ was a destination of the message but did not bounce
    assert [s.email for s in decide(event).suppressions] == ["jane@example.com", "richard@example.com"]
    classic = parse_message(in_sns(load("notification-bounce.json")))
    assert classic is not None
    assert [s.email for s in decide(classic).suppressions] == ["jane@example.com"]


@pytest.mark.parametrize("name", ["event-delivery.json", "notification-delivery.json"])
def test_deliveries_are_recorded_and_suppress_nothing(name):
    event = parse_message(in_sns(load(name)))

    assert event is not None
    assert event.kind == "delivery"
    assert decide(event).feedback == "delivered"
    assert decide(event).suppressions == ()


def test_event_types_nothing_acts_on_are_ignored_not_failed():
    assert parse_message(in_sns(load("event-send.json"))) is None
    opened = load("event-send.json")
    opened["eventType"] = "Open"
    assert parse_message(in_sns(opened)) is None


def test_the_tenant_and_job_tags_send_email_sets_are_read_and_garbled_ones_ignored():
    tenant, job = uuid.uuid4(), uuid.uuid4()
    notification = load("event-bounce.json")
    notification["mail"]["tags"].update({"tenant_id": [str(tenant)], "job_id": [str(job)]})

    event = parse_message(in_sns(notification))

    assert event is not None
    assert (event.tenant_id, event.job_id) == (tenant, job)
    assert decide(event).tenant_id == tenant
    notification["mail"]["tags"]["tenant_id"] = ["not-a-uuid"]
    garbled = parse_message(in_sns(notification))
    assert garbled is not None
    assert garbled.tenant_id is None
    assert decide(garbled).suppressions  # a bad tag never costs the suppression


def test_recipients_are_normalised_to_bare_lower_case_addresses():
    notification = load("event-complaint.json")
    notification["complaint"]["complainedRecipients"] = [
        {"emailAddress": "Jane Doe <Jane@Example.COM>"},
        {"emailAddress": "jane@example.com"},
    ]

    event = parse_message(in_sns(notification))

    assert event is not None
    assert event.recipients == ("jane@example.com",)


def _without(path: tuple[str, ...]) -> dict[str, Any]:
    notification = load("event-bounce.json")
    parent = notification
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return notification


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    notification = load("event-bounce.json")
    parent = notification
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return notification


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("Test message.", id="not JSON"),
        pytest.param(json.dumps(load("event-bounce.json")), id="SES JSON without the SNS envelope"),
        pytest.param(
            json.dumps({**load("sns-envelope.json"), "Type": "SubscriptionConfirmation"}),
            id="not a Notification",
        ),
        pytest.param(in_sns("Hello world!"), id="SNS message that is not JSON"),
        pytest.param(in_sns({"mail": {"messageId": "m-1"}}), id="neither eventType nor notificationType"),
        pytest.param(in_sns(_without(("bounce",))), id="Bounce without its bounce object"),
        pytest.param(in_sns(_without(("mail", "messageId"))), id="no messageId"),
        pytest.param(in_sns(_with(("bounce", "bouncedRecipients"), [])), id="no bounced recipients"),
        pytest.param(
            in_sns(_with(("bounce", "bouncedRecipients"), [{"emailAddress": "nobody"}])), id="not an address"
        ),
        pytest.param(in_sns(_with(("bounce", "timestamp"), "yesterday")), id="bad timestamp"),
    ],
)
def test_anything_unreadable_is_malformed_so_it_reaches_the_dlq(body):
    with pytest.raises(MalformedSesNotification):
        parse_message(body)
