"""Tenants with a Stripe customer, the API with Stripe played by the stub, fresh processor caches."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from saascore.billing.settings import get_billing_settings
from saascore.db.connection import Database
from saascore.db.tenancy import tenant_transaction
from tests.support.stripe_stub import stripe_stub
from webhooks import dispatch
from webhooks.settings import get_settings

__all__ = ["stripe_stub"]


@dataclass(frozen=True)
class BillingTenant:
    id: uuid.UUID
    customer: str
    slug: str


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("JOBS_QUEUE_URL", raising=False)
    get_settings.cache_clear()
    get_billing_settings.cache_clear()
    dispatch._tenant_of_customer.clear()
    yield
    get_settings.cache_clear()
    get_billing_settings.cache_clear()
    dispatch._tenant_of_customer.clear()


def create_tenant(database: Database, *, with_customer: bool = True) -> BillingTenant:
    tenant_id = uuid.uuid4()
    slug = f"t-{secrets.token_hex(5)}"
    customer = f"cus_{secrets.token_hex(7)}"
    with tenant_transaction(tenant_id, database=database) as conn:
        conn.execute("INSERT INTO tenants (id, name, slug) VALUES (%s, %s, %s)", (tenant_id, slug, slug))
        if with_customer:
            conn.execute(
                "INSERT INTO billing_customers (tenant_id, stripe_customer_id) VALUES (%s, %s)",
                (tenant_id, customer),
            )
    return BillingTenant(tenant_id, customer, slug)


@pytest.fixture
def make_tenant(app_database: Database) -> Callable[..., BillingTenant]:
    return lambda **kwargs: create_tenant(app_database, **kwargs)


@pytest.fixture
def tenant(make_tenant: Callable[..., BillingTenant]) -> BillingTenant:
    return make_tenant()


def fetch_all(database: Database, tenant_id: uuid.UUID, sql: str, *params: Any) -> list[dict[str, Any]]:
    with tenant_transaction(tenant_id, database=database) as conn:
        return [dict(row) for row in conn.execute(sql, params).fetchall()]
