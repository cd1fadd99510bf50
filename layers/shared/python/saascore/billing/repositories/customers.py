"""Which tenant owns a Stripe customer: the directory look-up the processor and reconciliation share."""

from __future__ import annotations

from uuid import UUID

from saascore.db.connection import Database
from saascore.db.tenancy import tenantless_transaction


def tenant_by_customer(customer_id: str, *, database: Database | None = None) -> UUID | None:
    """The tenant linked to ``customer_id`` (``app.tenant_id_by_stripe_customer``), None when none is."""
    with tenantless_transaction(database=database) as conn:
        row = conn.execute(
            "SELECT app.tenant_id_by_stripe_customer(%s) AS tenant_id", (customer_id,)
        ).fetchone()
    return None if row is None else row["tenant_id"]
