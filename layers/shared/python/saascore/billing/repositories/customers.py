"""Which tenant owns a Stripe customer: the directory look-up the processor and reconciliation share."""

from __future__ import annotations

from uuid import UUID

from saascore.db.cells import every_cell_database
from saascore.db.connection import Database
from saascore.db.tenancy import tenantless_transaction


def tenant_by_customer(customer_id: str, *, database: Database | None = None) -> UUID | None:
    """The tenant linked to ``customer_id`` (``app.tenant_id_by_stripe_customer``), None when none is.

    Every cell is asked, pooled first (``database`` stands for the pooled cell): a customer is linked in
    its tenant's cell.
    """
    for db in every_cell_database(default=database):
        with tenantless_transaction(database=db) as conn:
            row = conn.execute(
                "SELECT app.tenant_id_by_stripe_customer(%s) AS tenant_id", (customer_id,)
            ).fetchone()
        if row is not None and row["tenant_id"] is not None:
            tenant_id: UUID = row["tenant_id"]
            return tenant_id
    return None
