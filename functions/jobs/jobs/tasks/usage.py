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
from jobs.repositories import usage as repo
from saascore.billing.stripe_api import get_stripe_client
from saascore.db.tenancy import tenant_transaction


def report_usage(ctx: JobContext) -> dict[str, Any]:
    tenant = ctx.tenant
    with tenant_transaction(tenant, database=ctx.database) as conn:
        customer = repo.customer_id(conn)
        if customer is None:
            return {"batches": 0, "skipped": "the tenant has no Stripe customer"}
        for meter in repo.unbatched_meters(conn, tenant_id=tenant):
            repo.attach_batch(
                conn, tenant_id=tenant, meter=meter, limit=ctx.settings.usage_batch_events, customer=customer
            )
        pending = repo.pending_batches(conn, tenant_id=tenant)
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
            repo.mark_reported(conn, tenant_id=tenant, batch_id=batch["id"])
        reported.append({"batch": str(batch["id"]), "meter": batch["meter"], "quantity": batch["quantity"]})
    return {"batches": len(reported), "reported": reported}
