"""Domain events: the per-tenant event log, its catalogue of types, and what outbound webhooks share
(secrets, Standard Webhooks signing, the SSRF guard)."""

from __future__ import annotations

from saascore.events.catalog import EVENT_TYPES, EventType, event_type
from saascore.events.exceptions import EventError, UnknownEventTypeError
from saascore.events.log import DISPATCH_JOB, Actor, record_event, remember_subscriptions

__all__ = [
    "DISPATCH_JOB",
    "EVENT_TYPES",
    "Actor",
    "EventError",
    "EventType",
    "UnknownEventTypeError",
    "event_type",
    "record_event",
    "remember_subscriptions",
]
