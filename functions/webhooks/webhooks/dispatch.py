"""Apply one verified Stripe event: one tenant transaction = record the event id + its effect.

The tenant comes from the event's customer (``app.tenant_id_by_stripe_customer``; the mapping never
changes, so it is cached per container) or, for a customer we have not linked yet, from the tenant id our
API put in the object's metadata. The tenant row is locked first, so one tenant's events apply one at a
time even across workers; the ``stripe_events`` primary key then makes a redelivered event a no-op. An
event whose tenant cannot be found is acknowledged and logged (there is nothing to apply it to).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

import psycopg

from saascore.billing.events import StripeEvent
from saascore.billing.settings import get_billing_settings
from saascore.db.connection import Database
from saascore.db.tenancy import tenant_transaction
from saascore.exceptions import SaasError
from saascore.jobs import deliver_pending
from saascore.observability import get_logger
from webhooks import repository
from webhooks.billing import HANDLERS, EventContext, SubscriptionFetcher
from webhooks.settings import get_settings

logger = get_logger("webhooks-processor")

CUSTOMER_CACHE_SIZE: Final = 10_000
_tenant_of_customer: dict[str, UUID] = {}


@dataclass(frozen=True, slots=True)
class EventResult:
    event_id: str
    outcome: str  # applied | stale | ignored | conflict | duplicate | unroutable
    tenant_id: UUID | None = None


def resolve_tenant(event: StripeEvent, *, database: Database | None = None) -> tuple[UUID | None, bool]:
    """(tenant, whether it is already linked to the event's customer)."""
    customer = event.customer_id
    if customer is not None:
        cached = _tenant_of_customer.get(customer)
        if cached is not None:
            return cached, True
        found = repository.tenant_by_customer(customer, database=database)
        if found is not None:
            if len(_tenant_of_customer) >= CUSTOMER_CACHE_SIZE:
                _tenant_of_customer.clear()
            _tenant_of_customer[customer] = found
            return found, True
    return event.tenant_hint, False


def subscription_fetcher() -> SubscriptionFetcher | None:
    if not get_settings().refetch_objects:
        return None
    from saascore.billing.stripe_api import get_stripe_client

    def fetch(subscription_id: str) -> dict[str, Any]:
        fetched: dict[str, Any] = get_stripe_client().v1.subscriptions.retrieve(subscription_id).to_dict()
        return fetched

    return fetch


def process_event(
    payload: Mapping[str, Any],
    *,
    database: Database | None = None,
    now: datetime | None = None,
    replay: bool = False,
) -> EventResult:
    """Apply ``payload`` once; ``replay`` re-applies an event already recorded (operator replay)."""
    event = StripeEvent.parse(payload)
    tenant_id, linked = resolve_tenant(event, database=database)
    if tenant_id is None:
        logger.warning(
            "Stripe event for no known tenant acknowledged",
            extra={"event_id": event.id, "event_type": event.type},
        )
        return EventResult(event.id, "unroutable")
    try:
        result = _apply(
            event,
            payload,
            tenant_id,
            database=database,
            now=now or datetime.now(UTC),
            replay=replay,
            link_customer=not linked,
        )
    except Exception as exc:
        _record_failure(event, payload, tenant_id, exc, database=database)
        raise
    try:
        deliver_pending(database=database)
    except (SaasError, psycopg.Error):
        # The effect and its job rows are committed; the outbox sweeper sends what was not delivered.
        # Failing the record now would only make SQS redeliver an event that is already applied.
        logger.warning("job delivery after the event failed; left to the outbox sweeper", exc_info=True)
    return result


def _apply(
    event: StripeEvent,
    payload: Mapping[str, Any],
    tenant_id: UUID,
    *,
    database: Database | None,
    now: datetime,
    replay: bool,
    link_customer: bool,
) -> EventResult:
    with tenant_transaction(tenant_id, database=database) as conn:
        tenant, claimed = repository.lock_and_claim(
            conn, tenant_id=tenant_id, event=event, payload=payload, again=replay
        )
        if tenant is None:
            logger.warning("Stripe event names a tenant that does not exist", extra={"event_id": event.id})
            return EventResult(event.id, "unroutable")
        if not claimed:
            return EventResult(event.id, "duplicate", tenant_id)
        if link_customer and event.customer_id is not None:
            # Found through our metadata: remember the customer so its later events route directly.
            repository.link_customer(
                conn, tenant_id=tenant_id, customer_id=event.customer_id, livemode=event.livemode
            )
        handler = HANDLERS.get(event.type)
        ctx = EventContext(
            conn=conn,
            tenant_id=tenant_id,
            event=event,
            tenant=tenant,
            now=now,
            grace_period=get_billing_settings().grace_period,
            fetch_subscription=subscription_fetcher(),
        )
        outcome = "ignored" if handler is None else handler(ctx)
        if outcome != "applied":
            repository.set_event_outcome(conn, event_id=event.id, outcome=outcome)
    logger.info(
        "Stripe event processed", extra={"event_id": event.id, "event_type": event.type, "outcome": outcome}
    )
    return EventResult(event.id, outcome, tenant_id)


def _record_failure(
    event: StripeEvent,
    payload: Mapping[str, Any],
    tenant_id: UUID,
    exc: Exception,
    *,
    database: Database | None,
) -> None:
    error = f"{type(exc).__name__}: {exc}"
    logger.error(
        "Stripe event failed", extra={"event_id": event.id, "event_type": event.type, "error": error}
    )
    try:
        with tenant_transaction(tenant_id, database=database) as conn:
            repository.record_failure(conn, tenant_id=tenant_id, event=event, payload=payload, error=error)
    except Exception:  # the original error matters more; this one is only logged
        logger.exception("could not record the failed Stripe event", extra={"event_id": event.id})


def replay_event(event_id: str, *, database: Database | None = None) -> EventResult | None:
    """Re-apply a stored event (stale checks still apply, so replaying is idempotent); None if unknown."""
    tenant_id = repository.tenant_by_event(event_id, database=database)
    if tenant_id is None:
        return None
    with tenant_transaction(tenant_id, database=database) as conn:
        payload = repository.load_event_payload(conn, event_id=event_id)
    if payload is None:
        return None
    return process_event(payload, database=database, replay=True)
