"""`report_usage`: unreported usage events → Stripe Billing Meter events, exactly once per batch.

Step 1 (one transaction): unbatched events are attached to a new `usage_report_batches` row per meter
(at most USAGE_BATCH_EVENTS events each). Step 2: every pending batch of the tenant, including ones an
earlier attempt created but did not finish, is sent as one meter event whose ``identifier`` (and Stripe
``Idempotency-Key``) is the batch id, then marked reported together with its events. A crash between
the send and the mark resends the same identifier, which Stripe de-duplicates (for at least 24 hours).
"""

from __future__ import annotations

from typing import Any

from jobs.context import JobContext
from saascore.billing.stripe_api import get_stripe_client
from saascore.db.connection import Connection
from saascore.db.tenancy import tenant_transaction

ATTACH_SQL = """
WITH picked AS (
    SELECT id, quantity FROM usage_events
    WHERE tenant_id = %(tenant)s AND meter = %(meter)s AND batch_id IS NULL
    ORDER BY occurred_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), batch AS (
    INSERT INTO usage_report_batches (tenant_id, meter, quantity, event_count, stripe_customer_id)
    SELECT %(tenant)s, %(meter)s, sum(quantity), count(*), %(customer)s FROM picked HAVING count(*) > 0
    RETURNING id
)
UPDATE usage_events SET batch_id = batch.id FROM batch WHERE usage_events.id IN (SELECT id FROM picked)
"""


def report_usage(ctx: JobContext) -> dict[str, Any]:
    tenant = ctx.tenant
    with tenant_transaction(tenant, database=ctx.database) as conn:
        customer = _customer(conn)
        if customer is None:
            return {"batches": 0, "skipped": "the tenant has no Stripe customer"}
        meters = [
            row["meter"]
            for row in conn.execute(
                "SELECT DISTINCT meter FROM usage_events WHERE tenant_id = %s AND batch_id IS NULL", (tenant,)
            )
        ]
        for meter in meters:
            conn.execute(
                ATTACH_SQL,
                {
                    "tenant": tenant,
                    "meter": meter,
                    "limit": ctx.settings.usage_batch_events,
                    "customer": customer,
                },
            )
        pending = conn.execute(
            "SELECT id, meter, quantity, stripe_customer_id, created_at FROM usage_report_batches "
            "WHERE tenant_id = %s AND status = 'pending' ORDER BY created_at, id",
            (tenant,),
        ).fetchall()
    client = get_stripe_client()
    reported = []
    for batch in pending:
        client.v1.billing.meter_events.create(
            params={
                "event_name": batch["meter"],
                "identifier": str(batch["id"]),
                "timestamp": int(batch["created_at"].timestamp()),
                "payload": {
                    "stripe_customer_id": batch["stripe_customer_id"],
                    "value": str(batch["quantity"]),
                },
            },
            options={"idempotency_key": f"usage-batch-{batch['id']}"},
        )
        with tenant_transaction(tenant, database=ctx.database) as conn:
            conn.execute(
                "UPDATE usage_report_batches SET status = 'reported', reported_at = now() WHERE id = %s",
                (batch["id"],),
            )
            conn.execute(
                "UPDATE usage_events SET reported_at = now() WHERE tenant_id = %s AND batch_id = %s",
                (tenant, batch["id"]),
            )
        reported.append({"batch": str(batch["id"]), "meter": batch["meter"], "quantity": batch["quantity"]})
    return {"batches": len(reported), "reported": reported}


def _customer(conn: Connection) -> str | None:
    row = conn.execute("SELECT stripe_customer_id FROM billing_customers WHERE deleted_at IS NULL").fetchone()
    return None if row is None else str(row["stripe_customer_id"])
