"""Apply one verified Stripe event: one tenant transaction = record the event id + its effect.

The tenant comes from the event's customer (``app.tenant_id_by_stripe_customer``; the mapping never
changes, so it is cached per container) or, for a customer we have not linked yet, from the tenant id our
API put in the object's metadata (which links the customer). The tenant row is locked first, so one
tenant's events apply one at a time even across workers; the ``stripe_events`` primary key then makes a
redelivered event a no-op.

An event whose customer is linked to no tenant and which names none is parked (``stripe_parked_events``),
not dropped. The first transaction that routes one of that customer's events takes the parked ones and
applies them, in ``created`` order, together with it; stale checks keep newest-wins per subscription and
customer. An event with neither a customer nor a tenant is acknowledged and logged: nothing could ever
route it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

import psycopg

from saascore.billing.events import StripeEvent
from saascore.billing.repositories.customers import tenant_by_customer
from saascore.billing.settings import get_billing_settings
from saascore.billing.state import TenantBilling
from saascore.db.cells import in_tenant_cell
from saascore.db.connection import Connection, Database
from saascore.db.tenancy import tenant_transaction
from saascore.exceptions import SaasError, TenantNotInCellError
from saascore.jobs import deliver_pending
from saascore.observability import get_logger
from webhooks.billing import HANDLERS, EventContext, SubscriptionFetcher
from webhooks.repositories import customers, events, tenants
from webhooks.settings import get_settings

logger = get_logger("webhooks-processor")

CUSTOMER_CACHE_SIZE: Final = 10_000
# Customers whose tenant this container knows and whose parked events it has already taken: once a
# customer is linked no event of it can be parked again (the park re-checks the link under a lock).
_tenant_of_customer: dict[str, UUID] = {}


@dataclass(frozen=True, slots=True)
class EventResult:
    event_id: str
    outcome: str  # applied | stale | ignored | conflict | duplicate | parked | unroutable
    tenant_id: UUID | None = None
    unparked: int = 0  # parked events of the customer applied in the same transaction


@dataclass(frozen=True, slots=True)
class Route:
    tenant_id: UUID | None
    linked: bool  # the event's customer is linked to the tenant already
    cached: bool  # ... and this container has taken its parked events


def resolve_tenant(event: StripeEvent, *, database: Database | None = None) -> Route:
    customer = event.customer_id
    if customer is not None:
        cached = _tenant_of_customer.get(customer)
        if cached is not None:
            return Route(cached, linked=True, cached=True)
        found = tenant_by_customer(customer, database=database)
        if found is not None:
            return Route(found, linked=True, cached=False)
    return Route(event.tenant_hint, linked=False, cached=False)


def _remember(customer: str | None, tenant_id: UUID) -> None:
    if customer is None:
        return
    if len(_tenant_of_customer) >= CUSTOMER_CACHE_SIZE:
        _tenant_of_customer.clear()
    _tenant_of_customer[customer] = tenant_id


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
    tenant_id: UUID | None = None,
) -> EventResult:
    """Apply ``payload`` once; ``replay`` re-applies an event already recorded (operator replay).

    ``tenant_id`` routes an event of an unlinked customer to that tenant and links the customer (the
    operator's decision, for a customer created outside the API).
    """
    event = StripeEvent.parse(payload)
    route = (
        Route(tenant_id, linked=False, cached=False)
        if tenant_id is not None
        else resolve_tenant(event, database=database)
    )
    if route.tenant_id is None:
        return _park_or_drop(event, payload, reason="customer not linked, no tenant named", database=database)
    try:
        result, linked = _apply(
            event,
            payload,
            route.tenant_id,
            route=route,
            database=database,
            now=now or datetime.now(UTC),
            replay=replay,
        )
    except Exception as exc:
        _record_failure(event, payload, route.tenant_id, exc, database=database)
        raise
    if result.outcome == "unroutable":
        return _park_or_drop(event, payload, reason="named tenant does not exist", database=database)
    if linked:
        _remember(event.customer_id, route.tenant_id)
    try:
        deliver_pending(database=database)
    except (SaasError, psycopg.Error):
        # The effect and its job rows are committed; the outbox sweeper sends what was not delivered.
        # Failing the record now would only make SQS redeliver an event that is already applied.
        logger.warning("job delivery after the event failed; left to the outbox sweeper", exc_info=True)
    return result


def _park_or_drop(
    event: StripeEvent, payload: Mapping[str, Any], *, reason: str, database: Database | None
) -> EventResult:
    if event.customer_id is None:
        logger.warning(
            "Stripe event with no customer and no tenant acknowledged",
            extra={"event_id": event.id, "event_type": event.type},
        )
        return EventResult(event.id, "unroutable")
    linked_meanwhile = events.park_event(event, payload, reason=reason, database=database)
    if linked_meanwhile is not None:
        # The customer was linked between our look-up and the park: apply the event now.
        return process_event(payload, database=database, tenant_id=linked_meanwhile)
    logger.info(
        "Stripe event parked until its customer is linked",
        extra={"event_id": event.id, "event_type": event.type, "customer": event.customer_id},
    )
    return EventResult(event.id, "parked")


def _apply(
    event: StripeEvent,
    payload: Mapping[str, Any],
    tenant_id: UUID,
    *,
    route: Route,
    database: Database | None,
    now: datetime,
    replay: bool,
) -> tuple[EventResult, bool]:
    """The result, and whether the event's customer is now linked to the tenant (then it may be cached).

    Without a ``database``, in the tenant's cell (routed again if the cached route went stale).
    """

    def apply_in(db: Database) -> tuple[EventResult, bool]:
        return _apply_in(event, payload, tenant_id, route=route, database=db, now=now, replay=replay)

    try:
        return apply_in(database) if database is not None else in_tenant_cell(tenant_id, apply_in)
    except TenantNotInCellError:
        logger.warning("Stripe event names a tenant that is in no cell", extra={"event_id": event.id})
        return EventResult(event.id, "unroutable"), False


def _apply_in(
    event: StripeEvent,
    payload: Mapping[str, Any],
    tenant_id: UUID,
    *,
    route: Route,
    database: Database,
    now: datetime,
    replay: bool,
) -> tuple[EventResult, bool]:
    with tenant_transaction(tenant_id, database=database) as conn:
        tenant, claimed = events.lock_and_claim(
            conn, tenant_id=tenant_id, event=event, payload=payload, again=replay
        )
        if tenant is None:
            logger.warning("Stripe event names a tenant that does not exist", extra={"event_id": event.id})
            return EventResult(event.id, "unroutable"), False
        customer = event.customer_id
        linked = route.linked
        if not linked and customer is not None:
            # Found through our metadata (or the operator): remember the customer so its later events
            # route directly. A tenant that has another customer keeps it (one per tenant).
            linked = customers.link_customer(
                conn, tenant_id=tenant_id, customer_id=customer, livemode=event.livemode
            )
        parked = [] if route.cached or customer is None else _taken(conn, customer, but=event.id)
        if not parked:
            outcome = _handle(conn, tenant_id, event, tenant, now=now) if claimed else "duplicate"
        else:
            outcome = _apply_in_created_order(conn, tenant_id, event, claimed, parked, now=now)
    logger.info(
        "Stripe event processed",
        extra={"event_id": event.id, "event_type": event.type, "outcome": outcome, "unparked": len(parked)},
    )
    return EventResult(event.id, outcome, tenant_id, unparked=len(parked)), linked


def _taken(conn: Connection, customer: str, *, but: str) -> list[tuple[StripeEvent, dict[str, Any]]]:
    taken = events.take_parked(conn, customer_id=customer)
    return [(StripeEvent.parse(p), p) for p in taken if p.get("id") != but]


def _apply_in_created_order(
    conn: Connection,
    tenant_id: UUID,
    event: StripeEvent,
    claimed: bool,
    parked: list[tuple[StripeEvent, dict[str, Any]]],
    *,
    now: datetime,
) -> str:
    """The event and the customer's parked ones, oldest ``created`` first (parked first on a tie: they
    arrived earlier). A parked event that fails is recorded as failed (for replay) without failing the
    others; the event being processed fails the whole transaction, so SQS retries it with its parked ones.
    """
    outcome = "duplicate"
    queue: list[tuple[StripeEvent, dict[str, Any] | None]] = [*parked, (event, None)]
    for item, parked_payload in sorted(queue, key=lambda entry: entry[0].created):
        if parked_payload is None:
            if claimed:
                outcome = _handle(
                    conn, tenant_id, event, tenants.billing_summary(conn, tenant_id=tenant_id), now=now
                )
            continue
        try:
            with conn.transaction():  # a savepoint: a failing parked event leaves the others applied
                summary, parked_claimed = events.lock_and_claim(
                    conn, tenant_id=tenant_id, event=item, payload=parked_payload
                )
                if parked_claimed and summary is not None:
                    _handle(conn, tenant_id, item, summary, now=now)
        except (SaasError, psycopg.Error, KeyError, TypeError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            logger.error("parked Stripe event failed", extra={"event_id": item.id, "error": error})
            events.record_failure(conn, tenant_id=tenant_id, event=item, payload=parked_payload, error=error)
    return outcome


def _handle(
    conn: Connection, tenant_id: UUID, event: StripeEvent, tenant: TenantBilling, *, now: datetime
) -> str:
    """Run the event's handler against the tenant's billing summary; record an outcome other than applied."""
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
        events.set_event_outcome(conn, event_id=event.id, outcome=outcome)
    return outcome


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
            events.record_failure(conn, tenant_id=tenant_id, event=event, payload=payload, error=error)
    except Exception:  # the original error matters more; this one is only logged
        logger.exception("could not record the failed Stripe event", extra={"event_id": event.id})


def replay_event(
    event_id: str, *, database: Database | None = None, tenant_id: UUID | None = None
) -> EventResult | None:
    """Re-apply a stored event (stale checks still apply, so replaying is idempotent), or route a parked
    one (to ``tenant_id`` when given, linking its customer); None if the id is neither."""
    stored_tenant = events.tenant_by_event(event_id, database=database)
    if stored_tenant is not None:
        with tenant_transaction(stored_tenant, database=database) as conn:
            payload = events.load_event_payload(conn, event_id=event_id)
        if payload is not None:
            return process_event(payload, database=database, replay=True)
    parked = events.parked_payload(event_id, database=database)
    if parked is None:
        return None
    return process_event(parked, database=database, tenant_id=tenant_id)
