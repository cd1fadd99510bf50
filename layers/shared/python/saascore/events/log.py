"""Record a domain event: the fact and its delivery, in the caller's transaction.

`record_event` inserts the `events` row and, when an enabled endpoint of the tenant subscribes to the
type, queues a `dispatch_event` job through the jobs outbox in the same transaction: a rolled-back
change leaves neither, a committed one leaves both, and the outbox (request path, then the sweeper)
guarantees the dispatch runs at least once. The dispatch job fans the event out to the endpoints'
delivery queue (``jobs.tasks.webhooks``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, Literal
from uuid import UUID, uuid4

from pydantic_core import to_jsonable_python

from saascore.db.connection import Connection
from saascore.events.catalog import event_type
from saascore.events.repositories import events as repo
from saascore.jobs.outbox import enqueue_job

DISPATCH_JOB: Final = "dispatch_event"
EVERY_TYPE: Final = "*"  # an endpoint without a type filter

# The tenant whose enabled endpoints this request already read (the API's access query), with the event
# types they take; None: unknown, so `record_event` asks in the statement that appends the event. Keyed by
# tenant: an event for another tenant (a platform operator's transition of a tenant) asks for itself.
_subscriptions: ContextVar[tuple[UUID, frozenset[str]] | None] = ContextVar(
    "saascore_event_subscriptions", default=None
)
MAX_DATA_BYTES: Final = 16 * 1024  # well inside a webhook body and the job payload limits


@dataclass(frozen=True, slots=True)
class Actor:
    """Who caused the fact: a user (with the request id), the platform, or Stripe."""

    type: Literal["user", "system", "stripe"]
    user_id: UUID | None = None
    request_id: str | None = None


SYSTEM: Final = Actor("system")


def remember_subscriptions(tenant_id: UUID, event_types: Iterable[str] | None) -> None:
    """What the request read of ``tenant_id``'s endpoints: their event types (``EVERY_TYPE`` for an
    endpoint without a filter), or None for no enabled endpoint."""
    _subscriptions.set((tenant_id, frozenset(event_types or ())))


def record_event(
    conn: Connection,
    *,
    tenant_id: UUID,
    type: str,
    data: Mapping[str, Any],
    actor: Actor = SYSTEM,
    event_id: UUID | None = None,
) -> UUID:
    """Append the fact to the tenant's event log and queue its delivery; returns the event id.

    ``event_id`` is for facts a retried job records again (derive it from what the fact is about, e.g.
    ``uuid5(job_id, type)``): recording an id that is already in the log changes nothing and queues nothing.
    """
    spec = event_type(type)
    document = to_jsonable_python(dict(data))
    if len(json.dumps(document, separators=(",", ":")).encode()) > MAX_DATA_BYTES:
        raise ValueError(f"event data of {type} is larger than {MAX_DATA_BYTES} bytes")
    row = {
        "tenant_id": tenant_id,
        "type": spec.name,
        "version": spec.version,
        "data": document,
        "actor_type": actor.type,
        "actor_user_id": actor.user_id,
        "request_id": actor.request_id,
    }
    remembered = _subscriptions.get()
    known = remembered[1] if remembered is not None and remembered[0] == tenant_id else None
    recorded_id = event_id or uuid4()
    if known is None or event_id is not None:
        found = repo.insert_event(conn, event_id=recorded_id, **row)
        if found is None:  # the stable id is recorded already: the fact and its delivery exist
            return recorded_id
        subscribed = found
    else:
        repo.append_event(conn, event_id=recorded_id, **row)
        subscribed = EVERY_TYPE in known or spec.name in known
    if subscribed:
        enqueue_job(
            conn,
            tenant_id=tenant_id,
            job_type=DISPATCH_JOB,
            payload={"event_id": str(recorded_id)},
            dedup_key=f"event:{recorded_id}",
        )
    return recorded_id
