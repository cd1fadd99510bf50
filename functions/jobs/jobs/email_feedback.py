"""One SES feedback decision applied: the suppressions in every cell, the delivery ledger row in the cell of
the tenant the message's tag names."""

from __future__ import annotations

from jobs.repositories import email as repo
from jobs.ses_notifications import Decision
from saascore.db.cells import every_cell_database, in_tenant_cell
from saascore.db.connection import Database
from saascore.db.tenancy import tenant_transaction, tenantless_transaction
from saascore.exceptions import TenantNotInCellError


def apply_decision(decision: Decision, *, database: Database | None = None) -> int:
    """Returns the ledger rows updated: 0 without a tenant tag (identity notifications, foreign mail), or
    for a tenant in no cell any more. ``database`` confines it to one database (one cell).

    An address that bounced or complained is refused for every tenant (SES's reputation is the account's),
    and each send checks the list of its own cell, so the suppression is written in every cell. The
    suppression function is a definer function: it needs no tenant, and no tenant row is touched.
    """
    for db in [database] if database is not None else every_cell_database():
        with tenantless_transaction(database=db) as conn:
            for suppression in decision.suppressions:
                repo.suppress(conn, suppression=suppression)
    tenant_id = decision.tenant_id
    if tenant_id is None:
        return 0

    def record(db: Database) -> int:
        with tenant_transaction(tenant_id, database=db) as conn:
            return repo.record_feedback(
                conn, ses_message_id=decision.message_id, feedback=decision.feedback, at=decision.occurred_at
            )

    if database is not None:
        return record(database)
    try:
        return in_tenant_cell(tenant_id, record)
    except TenantNotInCellError:
        return 0  # erased: its ledger went with it
