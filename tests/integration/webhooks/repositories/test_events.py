"""The park of unroutable events: reachable only through its functions, and only for one's own customer."""

from __future__ import annotations

import psycopg
import pytest

from saas_cli import stripe_samples as samples
from saascore.billing.events import StripeEvent
from saascore.db.tenancy import tenant_transaction, tenantless_transaction
from tests.integration.webhooks.conftest import create_tenant
from webhooks.repositories.events import park_event, parked_events, parked_payload, take_parked


def test_a_tenant_cannot_take_another_customers_parked_events(app_database) -> None:
    owner = create_tenant(app_database, with_customer=False)
    other = create_tenant(app_database)
    payload = samples.event("invoice.paid", samples.invoice(customer=owner.customer, subscription_id=None))
    assert park_event(StripeEvent.parse(payload), payload, reason="test", database=app_database) is None
    with tenant_transaction(other.id, database=app_database) as conn:
        assert take_parked(conn, customer_id=owner.customer) == []
    assert [p.event_id for p in parked_events(limit=10, database=app_database)] == [payload["id"]]
    assert parked_payload(payload["id"], database=app_database) == payload
    assert parked_payload("evt_nothing", database=app_database) is None


def test_parking_the_event_of_a_linked_customer_returns_its_tenant(app_database) -> None:
    tenant = create_tenant(app_database)
    payload = samples.event("invoice.paid", samples.invoice(customer=tenant.customer, subscription_id=None))
    assert park_event(StripeEvent.parse(payload), payload, reason="test", database=app_database) == tenant.id
    assert parked_events(limit=10, database=app_database) == []


@pytest.mark.parametrize(
    "statement",
    ["SELECT * FROM stripe_parked_events", "DELETE FROM stripe_parked_events"],
)
def test_the_application_role_has_no_direct_access(app_database, statement) -> None:
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        tenantless_transaction(database=app_database) as conn,
    ):
        conn.execute(statement)
