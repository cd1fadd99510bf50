"""One SES feedback decision applied: the suppressions and the delivery ledger row, in one transaction."""

from __future__ import annotations

from jobs.repositories import email as repo
from jobs.ses_notifications import Decision
from saascore.db.connection import Database
from saascore.db.tenancy import tenant_transaction, tenantless_transaction


def apply_decision(decision: Decision, *, database: Database) -> int:
    """Returns the ledger rows updated: 0 without a tenant tag (identity notifications, foreign mail)."""
    if decision.tenant_id is None:
        # The suppression function is a definer function: it needs no tenant, and no tenant row is touched.
        with tenantless_transaction(database=database) as conn:
            for suppression in decision.suppressions:
                repo.suppress(conn, suppression=suppression)
        return 0
    with tenant_transaction(decision.tenant_id, database=database) as conn:
        for suppression in decision.suppressions:
            repo.suppress(conn, suppression=suppression)
        return repo.record_feedback(
            conn, ses_message_id=decision.message_id, feedback=decision.feedback, at=decision.occurred_at
        )
