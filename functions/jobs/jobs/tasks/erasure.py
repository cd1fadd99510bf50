"""`erase_tenants` (daily, system job): erase every tenant whose grace period in offboarding is over.

For each tenant, steps that are each idempotent, so an erasure interrupted anywhere finishes on retry and
re-running a finished one does nothing (decision 0112):

1. start the receipt (who asked, the Stripe customer) — or find the one an earlier attempt started;
2. delete the Stripe customer through the Stripe API (already gone counts as deleted);
3. delete every version of the tenant's objects (exports, reports) in the reports bucket;
4. in one transaction: delete the tenant's rows from every tenant table, children first
   (``saascore.db.tenant_tables``: a table a later migration adds is covered), then the global identities
   of its members that no other tenant has, sign and complete the receipt, delete the tenant row — all
   or nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import stripe

from jobs.clients import get_s3_client
from jobs.context import JobContext
from jobs.repositories import erasure as repo
from saascore.billing.stripe_api import get_stripe_client
from saascore.db.cells import every_cell_database
from saascore.db.connection import Database
from saascore.db.tenancy import tenant_transaction, tenantless_transaction
from saascore.db.tenant_tables import children_first, tenant_tables
from saascore.exceptions import ConfigurationError
from saascore.lifecycle.receipts import sign_receipt
from saascore.lifecycle.repositories.lifecycle import erasure_receipt
from saascore.observability import get_logger
from saascore.secrets import resolve_secret

logger = get_logger("jobs")

TENANT_OBJECT_PREFIXES = ("exports/{tenant}/", "reports/{tenant}/")


def erase_tenants(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.settings
    if not settings.erasure_receipt_key:
        raise ConfigurationError("ERASURE_RECEIPT_KEY is not configured")
    erased: list[str] = []
    # Each cell answers for its own tenants; the batch limit is the run's, across cells.
    for database in every_cell_database(default=ctx.database):
        remaining = settings.erasure_batch_tenants - len(erased)
        if remaining <= 0:
            break
        with tenantless_transaction(database=database) as conn:
            due = repo.tenants_due(conn, limit=remaining)
        for tenant_id in due:
            erase_tenant(ctx, tenant_id, database=database)
            erased.append(str(tenant_id))
    return {"erased": erased}


def erase_tenant(ctx: JobContext, tenant_id: UUID, *, database: Database | None = None) -> dict[str, int]:
    """Erase one tenant of ``database`` (its cell; the job's database by default)."""
    database = database or ctx.database
    with tenant_transaction(tenant_id, database=database) as conn:
        done = erasure_receipt(conn, tenant_id=tenant_id)
        if done is not None and done["completed_at"] is not None:
            return dict(done["row_counts"])
        request = repo.erasure_request(conn, tenant_id=tenant_id)
        if request is None:
            raise LookupError(f"tenant {tenant_id} is gone but its erasure receipt is not complete")
        receipt = repo.begin(
            conn,
            requested_by=request["requested_by"] or "system",
            stripe_customer_id=request["stripe_customer_id"],
        )
    if receipt["stripe_customer_id"]:
        _delete_stripe_customer(receipt["stripe_customer_id"])
    _delete_objects(ctx, tenant_id)
    with tenant_transaction(tenant_id, database=database) as conn:
        tables = [t.name for t in children_first(tenant_tables(conn))]
        members = repo.member_user_ids(conn)
        counts = {name: repo.erase_rows(conn, table=name) for name in tables if name != "tenants"}
        # Identities no other tenant has as members go too (they are global rows, not tenant rows).
        counts["users"] = repo.erase_member_identities(conn, user_ids=members)
        counts["tenants"] = 1  # deleted below, after the receipt that counts it is complete
        completed_at = datetime.now(UTC)
        signature = sign_receipt(
            resolve_secret(ctx.settings.erasure_receipt_key or ""),
            tenant_id=tenant_id,
            completed_at=completed_at,
            requested_by=receipt["requested_by"],
            row_counts=counts,
        )
        repo.complete(conn, row_counts=counts, completed_at=completed_at, signature=signature)
        if repo.erase_rows(conn, table="tenants") != 1:
            raise LookupError(f"tenant {tenant_id} vanished during its erasure")
    logger.info("tenant erased", extra={"tenant_id": str(tenant_id), "rows": sum(counts.values())})
    return counts


def _delete_stripe_customer(customer_id: str) -> None:
    try:
        get_stripe_client().v1.customers.delete(customer_id)
    except stripe.InvalidRequestError as exc:
        if exc.code != "resource_missing":
            raise


def _delete_objects(ctx: JobContext, tenant_id: UUID) -> None:
    """Every version and delete marker: the bucket is versioned, so a plain delete would keep the data."""
    bucket = ctx.settings.reports_bucket
    if not bucket:
        raise ConfigurationError("REPORTS_BUCKET is not configured")
    client = get_s3_client()
    paginator = client.get_paginator("list_object_versions")
    for prefix in TENANT_OBJECT_PREFIXES:
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix.format(tenant=tenant_id)):
            versions = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            if versions:
                client.delete_objects(
                    Bucket=bucket,
                    Delete={
                        "Objects": [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions],
                        "Quiet": True,
                    },
                )
