"""Typed views of the Stripe event payloads the processor handles (plain dicts in, dataclasses out).

Shapes follow the pinned API version (basil and later, see ``saascore.billing.stripe_api``): the
subscription's period end is on its items, an invoice's subscription is at
``invoice.parent.subscription_details.subscription``. No Stripe library import: events arrive as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from saascore.billing.state import SubscriptionState, SubscriptionStatus
from saascore.exceptions import SaasError

Json = Mapping[str, Any]
TENANT_METADATA_KEY = "tenant_id"


class MalformedEventError(SaasError):
    """The event JSON lacks a field every Stripe event of its type has; retrying cannot help."""


def timestamp(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, int | float):
        raise MalformedEventError(f"expected a Unix timestamp, got {type(value).__name__}")
    return datetime.fromtimestamp(value, tz=UTC)


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
    api_version: str | None
    object: Json

    @classmethod
    def parse(cls, payload: Json) -> StripeEvent:
        try:
            event_id, event_type = payload["id"], payload["type"]
            data_object = payload["data"]["object"]
            created = timestamp(payload["created"])
        except (KeyError, TypeError) as exc:
            raise MalformedEventError(f"not a Stripe event: missing {exc}") from exc
        if (
            not isinstance(event_id, str)
            or not event_id.startswith("evt_")
            or not isinstance(event_type, str)
        ):
            raise MalformedEventError("not a Stripe event: bad id or type")
        if not isinstance(data_object, Mapping) or created is None:
            raise MalformedEventError("not a Stripe event: bad data.object or created")
        return cls(
            id=event_id,
            type=event_type,
            created=created,
            livemode=bool(payload.get("livemode", False)),
            api_version=payload.get("api_version"),
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
        """The tenant id our API put on the object (metadata or checkout's client_reference_id), if any."""
        metadata = self.object.get("metadata")
        candidates = [
            metadata.get(TENANT_METADATA_KEY) if isinstance(metadata, Mapping) else None,
            self.object.get("client_reference_id"),
        ]
        for candidate in candidates:
            if isinstance(candidate, str):
                try:
                    return UUID(candidate)
                except ValueError:
                    continue
        return None


def customer_of(payload: Json) -> str | None:
    """The customer id of a raw event payload, without validating the rest (the receiver's FIFO group)."""
    data = payload.get("data")
    data_object = data.get("object") if isinstance(data, Mapping) else None
    if not isinstance(data_object, Mapping):
        return None
    if data_object.get("object") == "customer":
        return _id_of(data_object)
    return _id_of(data_object.get("customer"))


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
