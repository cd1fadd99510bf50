"""Which tenant owns a Stripe customer: the directory look-up the processor and reconciliation share."""

from __future__ import annotations

from uuid import UUID

from saascore.db.cells import first_in_cells
from saascore.db.connection import Connection, Database


def tenant_by_customer(customer_id: str, *, database: Database | None = None) -> UUID | None:
    """The tenant linked to ``customer_id`` (``app.tenant_id_by_stripe_customer``), None when none is.

    Every cell is asked, pooled first (``database`` stands for the pooled cell): a customer is linked in
    its tenant's cell.
    """

    def linked(conn: Connection) -> UUID | None:
        row = conn.execute(
            "SELECT app.tenant_id_by_stripe_customer(%s) AS tenant_id", (customer_id,)
        ).fetchone()
        return None if row is None else row["tenant_id"]

    return first_in_cells(linked, default=database)
