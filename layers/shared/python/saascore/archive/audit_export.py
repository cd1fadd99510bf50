"""Streaming the audit log as JSON Lines (``saascore.archive.audit_format``): keyset pages of
``PAGE_ROWS`` entries, one line at a time, so memory does not grow with the window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Final

from saascore.archive.audit_format import audit_line
from saascore.archive.repositories import audit_log as repo
from saascore.archive.repositories.audit_log import Key
from saascore.db.connection import Connection

PAGE_ROWS: Final = 500


def audit_lines(
    conn: Connection,
    *,
    since: datetime,
    until: datetime,
    start: Key | None = None,
    stop: Key | None = None,
    page_rows: int = PAGE_ROWS,
) -> Iterator[bytes]:
    """The tenant's entries of ``[since, until)`` from ``start`` (inclusive) to ``stop`` (exclusive)."""
    after: Key | None = None
    while True:
        rows = repo.page(conn, since=since, until=until, start=start, after=after, stop=stop, limit=page_rows)
        for row in rows:
            yield audit_line(row)
        if len(rows) < page_rows:
            return
        after = (rows[-1]["created_at"], rows[-1]["id"])
