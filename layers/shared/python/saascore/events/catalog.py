"""The event types the platform records, each with the version of its `data` schema (docs/events.md).

A change that removes or retypes a field of `data` is a new version of that type; adding a field is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from saascore.events.exceptions import UnknownEventTypeError


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    version: int
    description: str


EVENT_TYPES: Final[Mapping[str, EventType]] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            EventType("project.created", 1, "a project was created"),
            EventType("project.updated", 1, "a project's fields changed"),
            EventType("project.deleted", 1, "a project was (soft) deleted"),
            EventType("member.added", 1, "someone was invited to the tenant with a role"),
            EventType("member.role_changed", 1, "a member's role changed"),
            EventType("member.removed", 1, "a member (or invitation) was removed"),
            EventType("role.created", 1, "a custom role was created"),
            EventType("role.updated", 1, "a custom role's name or permissions changed"),
            EventType("role.deleted", 1, "a custom role was deleted"),
            EventType("billing.status_changed", 1, "the tenant's billing status changed (from Stripe)"),
            EventType("job.finished", 1, "a tenant-visible background job (e.g. a report) finished"),
            EventType("export.ready", 1, "a customer export's archive is complete and can be downloaded"),
            EventType(
                "tenant.suspended", 1, "the tenant was suspended (by the platform operator or billing)"
            ),
            EventType("tenant.reactivated", 1, "the tenant's suspension was lifted"),
            EventType(
                "tenant.offboarding_started", 1, "the tenant is offboarding: erased after a grace period"
            ),
            EventType("tenant.offboarding_canceled", 1, "the tenant's offboarding was canceled"),
        )
    }
)


def event_type(name: str) -> EventType:
    spec = EVENT_TYPES.get(name)
    if spec is None:
        raise UnknownEventTypeError(f"unknown event type {name!r}")
    return spec
