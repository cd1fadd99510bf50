"""Idempotency-Key handling: claim in the caller's transaction, store the answer in the same transaction.

The key row, the write it protects and the stored response commit or roll back together, so a retried
request either replays the stored answer or runs again from scratch; never half. A request that failed
(any problem response) stores nothing and may be retried with the same key.

On the API's pipelined request path the claim is sent in the transaction's first round trip, together
with the access query (``queue_claim``), before the permission check has run: a caller who may not
write gets the same problem as before and the claim rolls back with the rest of the transaction.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from api.exceptions import (
    IdempotencyInProgressError,
    IdempotencyMismatchError,
    IdempotentReplay,
    MalformedRequestError,
    UnauthenticatedError,
)
from api.repositories import idempotency as repo
from api.services.access import Access
from saascore.db.connection import Connection, Deferred

KEY_TTL_SECONDS = 24 * 3600
MAX_KEY_CHARS = 255
# Response headers worth replaying; everything else is recomputed per response.
REPLAYED_HEADERS = ("etag", "location", "content-type")


def request_fingerprint(method: str, path: str, body: bytes) -> bytes:
    return hashlib.sha256(b"\n".join((method.encode(), path.encode(), body))).digest()


@dataclass(frozen=True, slots=True)
class Answer:
    """The response of a write, as sent and as replayed."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Idempotency:
    """Per-request handle: ``respond`` runs the write once and returns (and stores) its answer."""

    conn: Connection
    access: Access
    key: str | None

    def respond(
        self,
        produce: Callable[[], BaseModel | None],
        *,
        status_code: int = 200,
        headers: Callable[[BaseModel | None], dict[str, str]] | None = None,
    ) -> Answer:
        result = produce()
        content = (
            b""
            if result is None
            else json.dumps(result.model_dump(mode="json"), separators=(",", ":")).encode()
        )
        response_headers = dict(headers(result) if headers else {})
        if result is not None:
            response_headers["content-type"] = "application/json"
        if self.key is not None:
            stored = {
                name: value for name, value in response_headers.items() if name.lower() in REPLAYED_HEADERS
            }
            repo.complete(
                self.conn,
                tenant_id=self.access.principal.tenant_id,
                user_id=self.access.principal.user_id,
                key=self.key,
                status=status_code,
                headers=stored,
                body=content,
            )
        return Answer(status_code, response_headers, content)


def valid_key(key: str) -> bool:
    return 1 <= len(key) <= MAX_KEY_CHARS and key.isascii() and key.isprintable()


def queue_claim(
    conn: Connection,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    key: str,
    method: str,
    path: str,
    body: bytes,
) -> Deferred[bool]:
    """Send the claim of a valid ``key`` now; ``begin`` reads its result."""
    return repo.queue_claim(
        conn,
        tenant_id=tenant_id,
        user_id=user_id,
        key=key,
        method=method,
        path=path,
        request_hash=request_fingerprint(method, path, body),
        ttl_seconds=KEY_TTL_SECONDS,
    )


def begin(
    conn: Connection,
    access: Access,
    *,
    key: str | None,
    method: str,
    path: str,
    body: bytes,
    claimed: Deferred[bool] | None = None,
) -> Idempotency:
    """Claim ``key`` for this request (or read the claim already sent as ``claimed``), or raise
    ``IdempotentReplay`` / a mismatch / in-progress error."""
    if key is None:
        return Idempotency(conn, access, None)
    if not valid_key(key):
        raise MalformedRequestError(f"Idempotency-Key must be 1..{MAX_KEY_CHARS} printable ASCII characters")
    principal = access.principal
    ids: dict[str, Any] = {"tenant_id": principal.tenant_id, "user_id": principal.user_id, "key": key}
    if claimed is None:
        claimed = queue_claim(conn, **ids, method=method, path=path, body=body)
    if claimed.result():
        return Idempotency(conn, access, key)
    row = repo.find(conn, **ids)
    if row is None:
        # Nothing claimed and nothing stored: the caller stopped being a member of the tenant here between
        # the access check and the claim (the tenant just left this cell): as the session check would say.
        raise UnauthenticatedError("the session has ended; sign in again")
    if bytes(row["request_hash"]) != request_fingerprint(method, path, body):
        raise IdempotencyMismatchError("this Idempotency-Key was used with a different request")
    if row["state"] != "completed":
        raise IdempotencyInProgressError("retry when the first request has finished")
    raise IdempotentReplay(
        status=row["response_status"],
        headers=dict(row["response_headers"] or {}),
        body=bytes(row["response_body"]),
    )
