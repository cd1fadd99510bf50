"""Plain SQL of the e-mail delivery ledger (`email_deliveries`) and the suppression list.

Every function runs inside the caller's transaction; ledger functions need the job's tenant transaction
(RLS scopes every statement to it), suppression writes go through ``app.suppress_email`` (migration 0302).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from jobs.ses_notifications import Feedback, Suppression
from saascore.db.connection import Connection

MAX_ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class DeliveryTotals:
    sent: int
    suppressed: int
    rejected: list[str]


def suppressed_addresses(conn: Connection, *, addresses: Sequence[str]) -> set[str]:
    rows = conn.execute(
        "SELECT email FROM email_suppressions WHERE email = ANY(%s)", (list(addresses),)
    ).fetchall()
    return {str(row["email"]) for row in rows}


def mark_suppressed(conn: Connection, *, tenant_id: UUID, job_id: UUID, recipients: Sequence[str]) -> None:
    """Suppressed recipients of the job; a recipient an earlier attempt already finished keeps its status."""
    conn.cursor().executemany(
        "INSERT INTO email_deliveries (tenant_id, job_id, recipient, status) VALUES (%s, %s, %s, 'suppressed') "
        "ON CONFLICT (tenant_id, job_id, recipient) DO UPDATE SET status = 'suppressed' "
        "WHERE email_deliveries.status = 'sending'",
        [(tenant_id, job_id, recipient) for recipient in recipients],
    )


def mark_sending(conn: Connection, *, tenant_id: UUID, job_id: UUID, recipient: str) -> bool:
    """Record the SES call about to be made; False when the recipient is already finished."""
    row = conn.execute(
        "INSERT INTO email_deliveries (tenant_id, job_id, recipient, status, attempts) "
        "VALUES (%s, %s, %s, 'sending', 1) "
        "ON CONFLICT (tenant_id, job_id, recipient) DO UPDATE SET attempts = email_deliveries.attempts + 1 "
        "WHERE email_deliveries.status = 'sending' RETURNING attempts",
        (tenant_id, job_id, recipient),
    ).fetchone()
    return row is not None


def mark_sent(conn: Connection, *, job_id: UUID, recipient: str, ses_message_id: str) -> None:
    conn.execute(
        "UPDATE email_deliveries SET status = 'sent', ses_message_id = %s, error = NULL "
        "WHERE job_id = %s AND recipient = %s AND status = 'sending'",
        (ses_message_id, job_id, recipient),
    )


def mark_rejected(conn: Connection, *, job_id: UUID, recipient: str, error: str) -> None:
    conn.execute(
        "UPDATE email_deliveries SET status = 'rejected', error = %s "
        "WHERE job_id = %s AND recipient = %s AND status = 'sending'",
        (error[:MAX_ERROR_CHARS], job_id, recipient),
    )


def delivery_totals(conn: Connection, *, job_id: UUID) -> DeliveryTotals:
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE status = 'sent') AS sent, "
        "count(*) FILTER (WHERE status = 'suppressed') AS suppressed, "
        "COALESCE(array_agg(recipient ORDER BY created_at, recipient) FILTER (WHERE status = 'rejected'), "
        "'{}') AS rejected "
        "FROM email_deliveries WHERE job_id = %s",
        (job_id,),
    ).fetchone()
    assert row is not None  # an aggregate always returns one row
    return DeliveryTotals(
        sent=int(row["sent"]), suppressed=int(row["suppressed"]), rejected=list(row["rejected"])
    )


def suppress(conn: Connection, *, suppression: Suppression) -> None:
    conn.execute(
        "SELECT app.suppress_email(%s, %s, %s, %s)",
        (suppression.email, suppression.reason, suppression.detail, suppression.occurred_at),
    )


def record_feedback(conn: Connection, *, ses_message_id: str, feedback: Feedback, at: datetime) -> int:
    """SES's later word on a sent message; a weaker event never overwrites a stronger one."""
    return conn.execute(
        "UPDATE email_deliveries SET feedback = %s, feedback_at = %s "
        "WHERE ses_message_id = %s AND app.email_feedback_rank(feedback) <= app.email_feedback_rank(%s)",
        (feedback, at, ses_message_id, feedback),
    ).rowcount


def tenant_name(conn: Connection) -> str:
    row = conn.execute("SELECT name FROM tenants").fetchone()
    return "" if row is None else str(row["name"])


def billing_contact(conn: Connection) -> str | None:
    """The address Stripe bills, lowercased, when the tenant's customer has one."""
    row = conn.execute(
        "SELECT email FROM billing_customers WHERE deleted_at IS NULL AND email IS NOT NULL"
    ).fetchone()
    return None if row is None else str(row["email"]).lower()


def owner_addresses(conn: Connection) -> list[str]:
    """The active owners' addresses, lowercased, de-duplicated, in order."""
    rows = conn.execute(
        "SELECT DISTINCT lower(u.email) AS email FROM memberships m JOIN roles r ON r.id = m.role_id "
        "JOIN users u ON u.id = m.user_id WHERE r.key = 'owner' AND m.status = 'active' ORDER BY 1"
    ).fetchall()
    return [str(row["email"]) for row in rows]
