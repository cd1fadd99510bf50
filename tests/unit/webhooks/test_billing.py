"""The handler table: every event type the platform declares handled has a handler, and nothing more."""

from __future__ import annotations

from saascore.billing.events import HANDLED_EVENTS
from webhooks.billing import HANDLERS, on_invoice, on_subscription


def test_the_handler_table_is_the_handled_event_list() -> None:
    assert list(HANDLERS) == list(HANDLED_EVENTS)
    assert len(set(HANDLED_EVENTS)) == len(HANDLED_EVENTS)
    assert HANDLERS["invoice.paid"] is on_invoice
    assert HANDLERS["customer.subscription.deleted"] is on_subscription
