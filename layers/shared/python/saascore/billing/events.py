"""Typed views of the Stripe event payloads the processor handles (plain dicts in, dataclasses out).

Shapes follow the pinned API version (basil and later, see ``saascore.billing.stripe_api``): the
subscription's period end is on its items, an invoice's subscription is at
``invoice.parent.subscription_details.subscription``. No Stripe library import: events arrive as JSON.

The event types the platform acts on are listed here once (``HANDLED_EVENTS``): the processor's handler
table, the CLI's sample builder and the documentation all read these tuples.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

from saascore.billing.exceptions import MalformedEventError
from saascore.billing.state import SubscriptionState, SubscriptionStatus

Json = Mapping[str, Any]
TENANT_METADATA_KEY: Final = "tenant_id"

CHECKOUT_EVENTS: Final = ("checkout.session.completed",)
SUBSCRIPTION_EVENTS: Final = tuple(
    f"customer.subscription.{kind}"
    for kind in ("created", "updated", "deleted", "trial_will_end", "paused", "resumed")
)
INVOICE_EVENTS: Final = tuple(
    f"invoice.{kind}" for kind in ("paid", "payment_succeeded", "payment_failed", "payment_action_required")
)
CUSTOMER_EVENTS: Final = ("customer.updated", "customer.deleted")
HANDLED_EVENTS: Final = (*CHECKOUT_EVENTS, *SUBSCRIPTION_EVENTS, *INVOICE_EVENTS, *CUSTOMER_EVENTS)


def timestamp(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise MalformedEventError(f"expected a Unix timestamp, got {type(value).__name__}")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:  # beyond year 9999, or not finite
        raise MalformedEventError(f"timestamp out of range: {value!r}") from exc


def _id_of(value: object) -> str | None:
    """A Stripe reference is an id string, or the object itself when the field was expanded."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


@dataclass(frozen=True, slots=True)
class StripeEvent:
    id: str
    type: str
    created: datetime
    livemode: bool
    api_version: str
    object: Json

    @classmethod
    def parse(cls, payload: Any) -> StripeEvent:
        """The event, or `MalformedEventError` for any JSON that is not a Stripe event of a pinned version."""
        if not isinstance(payload, Mapping):
            raise MalformedEventError(f"not a Stripe event: a JSON {type(payload).__name__}")
        try:
            event_id, event_type = payload["id"], payload["type"]
            data_object = payload["data"]["object"]
            created = timestamp(payload["created"])
        except (KeyError, TypeError) as exc:
            raise MalformedEventError(f"not a Stripe event: missing {exc}") from exc
        api_version, livemode = payload.get("api_version"), payload.get("livemode", False)
        if (
            not isinstance(event_id, str)
            or not event_id.startswith("evt_")
            or not isinstance(event_type, str)
        ):
            raise MalformedEventError("not a Stripe event: bad id or type")
        if not isinstance(data_object, Mapping) or created is None:
            raise MalformedEventError("not a Stripe event: bad data.object or created")
        # Every event sent to a webhook endpoint carries the endpoint's API version (only the API's
        # own listing of account-level events shows null): without it the payload's shape is unknown.
        if not isinstance(api_version, str) or not api_version:
            raise MalformedEventError("not a Stripe event: no api_version")
        if not isinstance(livemode, bool):
            raise MalformedEventError("not a Stripe event: livemode is not a boolean")
        return cls(
            id=event_id,
            type=event_type,
            created=created,
            livemode=livemode,
            api_version=api_version,
            object=data_object,
        )

    @property
    def object_id(self) -> str | None:
        return _id_of(self.object)

    @property
    def customer_id(self) -> str | None:
        """The Stripe customer the event is about (the FIFO group and the tenant key)."""
        if self.object.get("object") == "customer":
            return self.object_id
        return _id_of(self.object.get("customer"))

    @property
    def tenant_hint(self) -> UUID | None:
        """The tenant id our API put on the object or on its parents, if they all name the same one.

        Two different tenant ids make the hint void: the event then waits for its customer's link.
        """
        named: set[UUID] = set()
        for candidate in tenant_candidates(self.object):
            if isinstance(candidate, str):
                try:
                    named.add(UUID(candidate))
                except ValueError:
                    continue
        return named.pop() if len(named) == 1 else None


def _metadata_value(holder: object) -> object:
    metadata = holder.get("metadata") if isinstance(holder, Mapping) else None
    return metadata.get(TENANT_METADATA_KEY) if isinstance(metadata, Mapping) else None


def _list_data(holder: object) -> list[object]:
    data = holder.get("data") if isinstance(holder, Mapping) else None
    return list(data) if isinstance(data, list) else []


def tenant_candidates(obj: Json) -> Iterator[object]:
    """Every place Stripe carries the metadata (or reference) our API set, for the object types we handle.

    The object's own metadata and a checkout session's ``client_reference_id``; an invoice's
    ``parent.subscription_details.metadata`` (the subscription's metadata, frozen when the invoice was
    finalized) and its lines' metadata; a subscription's items; a checkout session's invoice data.
    """
    yield _metadata_value(obj)
    yield obj.get("client_reference_id")
    parent = obj.get("parent")
    if isinstance(parent, Mapping):
        yield _metadata_value(parent.get("subscription_details"))
    invoice_creation = obj.get("invoice_creation")
    if isinstance(invoice_creation, Mapping):
        yield _metadata_value(invoice_creation.get("invoice_data"))
    for key in ("lines", "items"):
        for entry in _list_data(obj.get(key)):
            yield _metadata_value(entry)


@dataclass(frozen=True, slots=True)
class SubscriptionSnapshot:
    id: str
    customer_id: str
    status: SubscriptionStatus
    price_lookup_key: str | None
    price_id: str | None
    item_id: str | None
    current_period_end: datetime | None
    trial_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    cancellation_reason: str | None
    created: datetime

    @classmethod
    def parse(cls, obj: Json) -> SubscriptionSnapshot:
        try:
            sub_id = str(obj["id"])
            status = SubscriptionStatus(obj["status"])
            customer = _id_of(obj["customer"])
            created = timestamp(obj["created"])
        except (KeyError, ValueError) as exc:
            raise MalformedEventError(f"subscription without a valid {exc}") from exc
        if customer is None or created is None:
            raise MalformedEventError("subscription without customer or created")
        items = obj.get("items", {}).get("data") or []
        # One licensed item per subscription (the plan); usage prices ride on meters, not items.
        item: Json = items[0] if items else {}
        price: Json = item.get("price") or {}
        cancellation = obj.get("cancellation_details") or {}
        return cls(
            id=sub_id,
            customer_id=customer,
            status=status,
            price_lookup_key=price.get("lookup_key"),
            price_id=price.get("id"),
            item_id=item.get("id"),
            current_period_end=timestamp(item.get("current_period_end")),
            trial_end=timestamp(obj.get("trial_end")),
            cancel_at_period_end=bool(obj.get("cancel_at_period_end", False)),
            canceled_at=timestamp(obj.get("canceled_at")),
            cancellation_reason=cancellation.get("reason"),
            created=created,
        )

    def state(self) -> SubscriptionState:
        return SubscriptionState(
            status=self.status,
            price_lookup_key=self.price_lookup_key,
            trial_end=self.trial_end,
            cancellation_reason=self.cancellation_reason,
        )


@dataclass(frozen=True, slots=True)
class InvoiceSnapshot:
    id: str
    customer_id: str | None
    subscription_id: str | None
    status: str | None
    amount_due: int
    currency: str | None
    attempt_count: int
    hosted_invoice_url: str | None
    next_payment_attempt: datetime | None

    @classmethod
    def parse(cls, obj: Json) -> InvoiceSnapshot:
        parent = obj.get("parent") or {}
        details = parent.get("subscription_details") or {}
        return cls(
            id=str(obj.get("id")),
            customer_id=_id_of(obj.get("customer")),
            subscription_id=_id_of(details.get("subscription")),
            status=obj.get("status"),
            amount_due=int(obj.get("amount_due") or 0),
            currency=obj.get("currency"),
            attempt_count=int(obj.get("attempt_count") or 0),
            hosted_invoice_url=obj.get("hosted_invoice_url"),
            next_payment_attempt=timestamp(obj.get("next_payment_attempt")),
        )
