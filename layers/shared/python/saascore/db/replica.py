"""Reads that a streaming replica may serve: reports, exports, business metrics, audit-log listing.

``replica_reads(tenant)`` opens read-only flights (see ``tenancy.tenant_reads``) on the read endpoint
(``DATABASE_READ_URL`` / ``DB_READ_HOST``), and the first flight also asks the replica how far behind
it is. Further behind than ``DB_MAX_REPLICA_LAG_SECONDS``, unreachable, or no read endpoint at all:
the same flights run on the primary instead. RLS and ``app.set_tenant`` work on a hot standby exactly
as on the primary (``set_config`` writes nothing); the standby refuses writes by itself.

Read-your-writes: only work that has not written uses this. The API gives replica reads to safe-method
routes only, so a request that wrote reads its own transaction on the primary (``api.deps``).

Lag is zero when the replica has replayed all the WAL it received, else the age of the last replayed
commit (an over-estimate after an idle spell, which errs towards the primary). A replica whose stream
has stopped but that replayed all it got also reads as zero; CloudWatch's ReplicaLag alarm covers that.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal
from uuid import UUID

from saascore.db.connection import Connection, Cursor, Database, Deferred, get_database
from saascore.db.tenancy import tenant_reads
from saascore.exceptions import DatabaseUnavailableError
from saascore.observability import get_logger
from saascore.settings import DatabaseSettings

LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 'Infinity')
END::float8 AS lag_seconds
"""
# After the replica failed to answer, reads skip it for this long (no connect timeout per read).
REPLICA_RETRY_SECONDS = 30.0

logger = get_logger("db")


@dataclass(frozen=True, slots=True)
class ReadSource:
    """Where a replica read ran, and why: what the caller may log or show."""

    endpoint: Literal["replica", "primary"]
    lag_seconds: float | None  # measured on the replica; None when it was not asked
    reason: Literal["replica", "no-replica", "lagging", "unreachable"]


@dataclass
class Replica:
    database: Database
    skip_until: float = field(default=0.0)


@lru_cache(maxsize=4)
def replica_for(settings: DatabaseSettings) -> Replica | None:
    """The container's replica connection for a primary with these settings (None: no read endpoint)."""
    return Replica(Database(settings.read_endpoint())) if settings.has_read_endpoint else None


def _read_lag(cursor: Cursor) -> float:
    row = cursor.fetchone()
    return math.inf if row is None else float(row["lag_seconds"])


def _lag(conn: Connection) -> Deferred[float]:
    return Deferred(conn.execute(LAG_SQL), _read_lag)


@contextmanager
def replica_reads(
    tenant_id: UUID | str, *, database: Database | None = None, max_lag_seconds: float | None = None
) -> Iterator[tuple[Connection, ReadSource]]:
    """Read-only flights for ``tenant_id`` on the replica when it is close enough, else on the primary
    ``database``; yields the connection and where it points."""
    primary = database or get_database()
    allowed = primary.settings.max_replica_lag_seconds if max_lag_seconds is None else max_lag_seconds
    replica = replica_for(primary.settings)
    reason: Literal["no-replica", "lagging", "unreachable"] = "no-replica"
    lag: float | None = None
    if replica is not None and time.monotonic() >= replica.skip_until:
        stack = ExitStack()
        try:
            conn, measured = stack.enter_context(tenant_reads(tenant_id, _lag, database=replica.database))
            lag = measured.result()
        except DatabaseUnavailableError:
            replica.skip_until = time.monotonic() + REPLICA_RETRY_SECONDS
            logger.warning(
                "replica unreachable; reading from the primary", extra={"skip_s": REPLICA_RETRY_SECONDS}
            )
            reason = "unreachable"
        else:
            if lag <= allowed:
                with stack:
                    yield conn, ReadSource("replica", lag, "replica")
                return
            stack.close()
            logger.info("replica lagging; reading from the primary", extra={"lag_s": lag, "max_s": allowed})
            reason = "lagging"
    elif replica is not None:
        reason = "unreachable"
    with tenant_reads(tenant_id, lambda conn: None, database=primary) as (conn, _):
        yield conn, ReadSource("primary", lag, reason)
