"""The erasure receipt's signature: HMAC-SHA256 over a canonical JSON document (decision 0112).

Shared by the erasure job (signs) and ``saas tenants receipt`` (verifies), so both compute the same bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

RECEIPT_FORMAT = "saas-erasure-receipt/1"


def receipt_document(
    *, tenant_id: UUID, completed_at: datetime, requested_by: str, row_counts: Mapping[str, int]
) -> bytes:
    document = {
        "format": RECEIPT_FORMAT,
        "tenant_id": str(tenant_id),
        "erased_at": completed_at.isoformat(),
        "requested_by": requested_by,
        "row_counts": dict(sorted(row_counts.items())),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def sign_receipt(
    key: str, *, tenant_id: UUID, completed_at: datetime, requested_by: str, row_counts: Mapping[str, int]
) -> str:
    document = receipt_document(
        tenant_id=tenant_id, completed_at=completed_at, requested_by=requested_by, row_counts=row_counts
    )
    return "hmac-sha256=" + hmac.new(key.encode(), document, hashlib.sha256).hexdigest()


def verify_receipt(
    key: str,
    signature: str,
    *,
    tenant_id: UUID,
    completed_at: datetime,
    requested_by: str,
    row_counts: Mapping[str, int],
) -> bool:
    expected = sign_receipt(
        key, tenant_id=tenant_id, completed_at=completed_at, requested_by=requested_by, row_counts=row_counts
    )
    return hmac.compare_digest(expected, signature)
