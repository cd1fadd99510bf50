"""`dispatch_event`: fan one domain event out to the tenant's webhook endpoints.

In one tenant transaction: a pending delivery row per enabled endpoint subscribed to the type (kept if it
exists: a retried job adds none twice), then, after the commit, one delivery-queue message per pending
delivery. A redelivery (payload names a `delivery_id`) sends that one only. A failed send fails the job,
whose retry sends again; the delivery worker drops a message that is not its delivery's current schedule.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from jobs.context import JobContext
from jobs.delivery_queue import DeliveryMessage, send_deliveries
from jobs.exceptions import PermanentJobError
from jobs.repositories import webhooks as repo
from saascore.db.tenancy import tenant_transaction
from saascore.events.repositories.events import get_event
from saascore.events.settings import get_webhook_settings


class DispatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: UUID
    delivery_id: UUID | None = None


def dispatch_event(ctx: JobContext) -> dict[str, Any]:
    request = DispatchRequest.model_validate(ctx.payload)
    window = timedelta(seconds=get_webhook_settings().retry_window_seconds)
    with tenant_transaction(ctx.tenant, database=ctx.database) as conn:
        event = get_event(conn, event_id=request.event_id)
        if event is None:
            raise PermanentJobError(f"event {request.event_id} does not exist")
        if request.delivery_id is None:
            repo.create_deliveries(
                conn,
                event_id=request.event_id,
                event_type=event["type"],
                retry_until=event["occurred_at"] + window,
            )
        due = repo.due_deliveries(conn, event_id=request.event_id, delivery_id=request.delivery_id)
    send_deliveries(
        [DeliveryMessage(delivery_id=delivery_id, tenant_id=ctx.tenant, due=at) for delivery_id, at in due]
    )
    return {"event_id": str(request.event_id), "deliveries": len(due)}
