"""`GET /api/v1/audit-logs/export`: the tenant's audit log of a window as JSON Lines, streamed.

A response holds at most ``MAX_ROWS`` entries and about ``MAX_BYTES`` (the Function URL buffers a response
of at most 6 MB); when the window holds more, the response stops before the first entry past the caps and
its ``Link: <…>; rel="next"`` header is the same query with a cursor that starts there. The stopping point
is found before the first byte is sent (one bounded query), so the body is nothing but entries. Entries are
read in keyset pages inside the stream (``saascore.archive.audit_export``), from the replica when one is
close enough, as the audit-log listing is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import urlencode
from uuid import UUID

from api.exceptions import MalformedRequestError
from api.services.pagination import encode_cursor, keyset_after
from saascore.archive.audit_export import audit_lines
from saascore.archive.repositories import audit_log as repo
from saascore.archive.repositories.audit_log import Key
from saascore.db.connection import Connection, Database
from saascore.db.replica import replica_reads

PATH: Final = "/api/v1/audit-logs/export"
MAX_WINDOW: Final = timedelta(days=31)
MAX_ROWS: Final = 5000
MAX_BYTES: Final = 4 * 1024 * 1024
CHUNK_BYTES: Final = 64 * 1024  # what one body message carries


@dataclass(frozen=True, slots=True)
class ExportPlan:
    since: datetime
    until: datetime
    start: Key | None
    stop: Key | None
    next_cursor: str | None

    @property
    def next_link(self) -> str | None:
        """The ``Link`` header value of a capped response."""
        if self.next_cursor is None:
            return None
        query = urlencode(
            {"since": self.since.isoformat(), "until": self.until.isoformat(), "cursor": self.next_cursor}
        )
        return f'<{PATH}?{query}>; rel="next"'


def _instant(name: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MalformedRequestError(
            f"{name} is not an ISO 8601 date-time (e.g. 2026-12-01T00:00:00Z)", parameter=name
        ) from exc
    if parsed.tzinfo is None:
        raise MalformedRequestError(f"{name} needs a UTC offset (e.g. Z or +01:00)", parameter=name)
    return parsed


def plan_export(
    conn: Connection, *, since: str | None, until: str | None, cursor: str | None, now: datetime
) -> ExportPlan:
    """Check the window and find where this response stops; bad input is a 400 problem."""
    if since is None:
        raise MalformedRequestError("since is required (an ISO 8601 date-time)", parameter="since")
    start_at = _instant("since", since)
    end = _instant("until", until) if until is not None else now
    if end <= start_at:
        raise MalformedRequestError("until must be later than since", parameter="until")
    if end - start_at > MAX_WINDOW:
        raise MalformedRequestError(
            f"the window is longer than {MAX_WINDOW.days} days; export it in parts", parameter="until"
        )
    scope = {"list": "audit-export", "since": start_at.isoformat(), "until": end.isoformat()}
    start = keyset_after(cursor, scope)
    stop = repo.stop_key(conn, since=start_at, until=end, start=start, max_rows=MAX_ROWS, max_bytes=MAX_BYTES)
    next_cursor = None if stop is None else encode_cursor([stop[0].isoformat(), str(stop[1])], scope)
    return ExportPlan(since=start_at, until=end, start=start, stop=stop, next_cursor=next_cursor)


def stream(database: Database, tenant_id: UUID, plan: ExportPlan) -> Iterator[bytes]:
    """The response body: runs after the request's own database work has ended, in read flights of its
    own (the replica's when it is close enough)."""
    with replica_reads(tenant_id, database=database) as (conn, _source):
        chunk = bytearray()
        for line in audit_lines(conn, since=plan.since, until=plan.until, start=plan.start, stop=plan.stop):
            chunk += line
            if len(chunk) >= CHUNK_BYTES:
                yield bytes(chunk)
                chunk.clear()
        if chunk:
            yield bytes(chunk)
