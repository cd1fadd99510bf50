"""Move one tenant to another cell, a step at a time, resumable after a crash at any step (decision 0141).

``started → frozen → copied → verified → flipped → done`` (or ``rolled_back``), recorded in the control
plane's ``control.tenant_moves`` after each step; every step is idempotent, so running the move again
continues where it stopped:

1. **freeze** the source: set ``tenants.moving_since`` (the write guard of migration 1000 then refuses
   every write of the tenant, 503 with Retry-After), then take the tenant row ``FOR UPDATE``, which waits
   for every write transaction that passed the guard before the flag was visible: after it, nothing in
   flight can still commit a write, so nothing is lost.
2. **copy**: the tenant's archive (``saascore.archive``) from a repeatable-read snapshot of the source,
   spooled (memory bounded), loaded into the target in one transaction as the owner; its manifest's
   per-member row counts and SHA-256 are kept in the move row.
3. **verify**: the same digests computed from the target's rows must equal the manifest's; a difference
   deletes the copy, unfreezes the source and stops (``rolled_back``).
4. **flip**: the directory entry points at the target, then the target's copy is unfrozen (with its audit
   entry, in one statement): the write freeze ends here.
5. **delete the source**, children first, once ``settle_seconds`` (at least the directory cache's TTL) have
   passed since the flip, so no container still routes the tenant to the source.

Everything runs as each cell's owner role; tenant transactions set ``app.tenant_id``, so forced RLS
still scopes every statement to the one tenant.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg import errors
from psycopg.rows import dict_row

from saascore.archive.exceptions import ArchiveError
from saascore.archive.export import member_digests, snapshot, write_archive
from saascore.archive.format import USERS_MEMBER
from saascore.archive.restore import restore_archive
from saascore.db.cells import POOLED_CELL, UnknownCellError
from saascore.db.connection import Connection
from saascore.db.tenancy import SET_TENANT_SQL
from saascore.db.tenant_tables import children_first, tenant_tables
from saascore.moves.exceptions import MoveRefusedError, MoveVerificationError
from saascore.moves.repositories import moves as repo
from saascore.observability import get_logger

logger = get_logger("moves")

STEPS = ("started", "frozen", "copied", "verified", "flipped", "done")
FINISHED_STEPS = ("done", "rolled_back")
SPOOL_IN_MEMORY_BYTES = 32 * 1024 * 1024  # a larger archive spills to a temporary file


@dataclass(frozen=True, slots=True)
class MoveSettings:
    settle_seconds: float = 60.0  # ≥ CELL_DIRECTORY_TTL: how long containers may still route to the source
    freeze_timeout_seconds: float = 30.0  # how long in-flight writers may keep the freeze from completing
    lock_timeout_ms: int = 2_000  # one wait for them; repeated until freeze_timeout_seconds


@dataclass(frozen=True, slots=True)
class TenantMove:
    id: UUID
    tenant_id: UUID
    source_cell: str
    target_cell: str
    step: str
    requested_by: str
    tables: dict[str, dict[str, Any]] | None
    error: str | None
    started_at: datetime
    frozen_at: datetime | None
    flipped_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TenantMove:
        return cls(**{name: row[name] for name in cls.__slots__})

    @property
    def freeze_seconds(self) -> float | None:
        """How long the tenant was read-only: from the freeze to the flip."""
        if self.frozen_at is None or self.flipped_at is None:
            return None
        return (self.flipped_at - self.frozen_at).total_seconds()

    @property
    def rows(self) -> int:
        return sum(int(d["rows"]) for d in (self.tables or {}).values())


class CellOwners:
    """One owner-role connection per cell (autocommit; each step opens its own transactions)."""

    def __init__(self, urls: Mapping[str, str]) -> None:
        if POOLED_CELL not in urls:
            raise UnknownCellError(POOLED_CELL, tuple(urls))
        self._urls = dict(urls)
        self._connections: dict[str, Connection] = {}
        self.names = tuple(urls)

    def connection(self, cell: str) -> Connection:
        if cell not in self._urls:
            raise UnknownCellError(cell, self.names)
        conn = self._connections.get(cell)
        if conn is None or conn.closed:
            conn = self._connections[cell] = psycopg.connect(
                self._urls[cell], autocommit=True, row_factory=dict_row, prepare_threshold=None
            )
        return conn

    @contextmanager
    def control(self) -> Iterator[Connection]:
        """A transaction in the control plane (the pooled cell), no tenant set."""
        conn = self.connection(POOLED_CELL)
        with conn.transaction():
            yield conn

    @contextmanager
    def tenant(self, cell: str, tenant_id: UUID) -> Iterator[Connection]:
        conn = self.connection(cell)
        with conn.transaction():
            conn.execute(SET_TENANT_SQL, (tenant_id, None))
            yield conn

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()


def find_tenant(owners: CellOwners, tenant: str) -> UUID:
    """A tenant id, or the id of the tenant with this slug in one of the cells."""
    try:
        return UUID(tenant)
    except ValueError:
        pass
    for cell in owners.names:
        with owners.connection(cell).transaction() as tx:
            row = tx.connection.execute("SELECT app.tenant_id_by_slug(%s) AS id", (tenant,)).fetchone()
        if row is not None and row["id"] is not None:
            return UUID(str(row["id"]))
    raise MoveRefusedError(f"no tenant {tenant!r} in any of the cells {', '.join(owners.names)}")


def current_move(owners: CellOwners, tenant_id: UUID) -> TenantMove | None:
    with owners.control() as conn:
        row = repo.unfinished_move(conn, tenant_id=tenant_id)
    return None if row is None else TenantMove.from_row(row)


def begin_move(owners: CellOwners, *, tenant_id: UUID, target_cell: str, requested_by: str) -> TenantMove:
    """The tenant's unfinished move to ``target_cell`` (resumed), or a new one; refused with what to do
    when the target is unknown, the tenant is there already or mid-move elsewhere. Changes no tenant data."""
    owners.connection(target_cell)  # unknown cell → UnknownCellError
    with owners.control() as conn:
        unfinished = repo.unfinished_move(conn, tenant_id=tenant_id)
        if unfinished is not None:
            if unfinished["target_cell"] != target_cell:
                raise MoveRefusedError(
                    f"tenant {tenant_id} is mid-move from {unfinished['source_cell']} to"
                    f" {unfinished['target_cell']} (step {unfinished['step']}): finish it with"
                    f" `saas tenants move {tenant_id} --to {unfinished['target_cell']}` or roll it back with"
                    f" `saas tenants move {tenant_id} --abort`, then move it again"
                )
            return TenantMove.from_row(unfinished)
        source_cell = repo.directory_cell(conn, tenant_id=tenant_id) or POOLED_CELL
    if source_cell == target_cell:
        raise MoveRefusedError(f"tenant {tenant_id} is already in cell {target_cell}: nothing to move")
    if source_cell not in owners.names:
        raise MoveRefusedError(
            f"tenant {tenant_id} is in cell {source_cell}, which is not among the cells given"
            f" ({', '.join(owners.names)}): pass its owner URL too"
        )
    with owners.tenant(source_cell, tenant_id) as conn:
        slug = repo.tenant_slug(conn, tenant_id=tenant_id)
        members = repo.member_identities(conn, tenant_id=tenant_id)
    if slug is None:
        raise MoveRefusedError(
            f"the directory places tenant {tenant_id} in {source_cell}, which does not hold it"
        )
    with owners.tenant(target_cell, tenant_id) as conn:
        if repo.tenant_slug(conn, tenant_id=tenant_id) is not None:
            raise MoveRefusedError(
                f"cell {target_cell} already holds a copy of tenant {tenant_id} that no move is tracking:"
                " delete it there first (it is not the tenant's live data: the directory points elsewhere)"
            )
        if conn.execute("SELECT app.tenant_id_by_slug(%s) AS id", (slug,)).fetchone()["id"]:  # type: ignore[index]
            raise MoveRefusedError(f"the slug {slug!r} is taken in cell {target_cell} by another tenant")
        shared = repo.shared_identities(
            conn,
            identities=[(m["idp_issuer"], m["idp_subject"]) for m in members],
            user_ids=[m["id"] for m in members],
        )
    if shared:
        raise MoveRefusedError(
            f"{shared} member(s) of tenant {tenant_id} also belong to a tenant of cell {target_cell} under"
            " another user id there; a move cannot merge identities yet — move the tenant to another cell"
        )
    with owners.control() as conn:
        row = repo.insert_move(
            conn,
            tenant_id=tenant_id,
            source_cell=source_cell,
            target_cell=target_cell,
            requested_by=requested_by,
        )
    logger.info("tenant move started", extra={"tenant_id": str(tenant_id), "to": target_cell})
    return TenantMove.from_row(row)


def _record(owners: CellOwners, move: TenantMove, **changes: Any) -> TenantMove:
    with owners.control() as conn:
        return TenantMove.from_row(repo.update_move(conn, move_id=move.id, changes=changes))


def _audit_document(move: TenantMove, **extra: Any) -> dict[str, Any]:
    return {
        "move_id": str(move.id),
        "from_cell": move.source_cell,
        "to_cell": move.target_cell,
        "requested_by": move.requested_by,
        **extra,
    }


def _freeze(owners: CellOwners, move: TenantMove, settings: MoveSettings) -> TenantMove:
    with owners.tenant(move.source_cell, move.tenant_id) as conn:
        if repo.freeze(conn, tenant_id=move.tenant_id):
            repo.audit(
                conn, tenant_id=move.tenant_id, action="tenant.move_started", after=_audit_document(move)
            )
    deadline = time.monotonic() + settings.freeze_timeout_seconds
    while True:
        try:
            with owners.tenant(move.source_cell, move.tenant_id) as conn:
                repo.wait_for_writers(
                    conn, tenant_id=move.tenant_id, lock_timeout_ms=settings.lock_timeout_ms
                )
                frozen_at = repo.frozen_since(conn, tenant_id=move.tenant_id)
            break
        except errors.LockNotAvailable:
            if time.monotonic() >= deadline:
                why = f"writers of the tenant kept it busy for {settings.freeze_timeout_seconds:g} s"
                _roll_back(owners, move, why)
                raise MoveRefusedError(
                    f"{why}; the move was rolled back and nothing changed: retry later"
                ) from None
    return _record(owners, move, step="frozen", frozen_at=frozen_at)


def _copy(owners: CellOwners, move: TenantMove) -> TenantMove:
    with owners.tenant(move.target_cell, move.tenant_id) as conn:
        copied = repo.tenant_slug(conn, tenant_id=move.tenant_id) is not None
    if copied:  # the copy committed before a crash: the frozen source still says what it must hold
        with snapshot(owners.connection(move.source_cell), tenant_id=move.tenant_id) as conn:
            tables = member_digests(conn, tenant_id=move.tenant_id)
        return _record(owners, move, step="copied", tables=tables)
    source = owners.connection(move.source_cell)
    try:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as spool:
            with snapshot(source, tenant_id=move.tenant_id) as conn:
                manifest = write_archive(conn, tenant_id=move.tenant_id, out=spool)
            spool.seek(0)
            with owners.tenant(move.target_cell, move.tenant_id) as conn:
                restore_archive(conn, spool, tenant_id=move.tenant_id)
    except (ArchiveError, psycopg.IntegrityError) as exc:
        why = f"cell {move.target_cell} refused the copy ({exc})"
        _roll_back(owners, move, why)
        raise MoveRefusedError(f"{why}; the move was rolled back and nothing changed") from exc
    return _record(owners, move, step="copied", tables=manifest.digests)


def _same(member: str, expected: Mapping[str, Any] | None, found: Mapping[str, Any] | None) -> bool:
    """Tenant tables must match row for row. Users are global rows: a member who also belongs to another
    tenant of the target keeps the target's row (the restore never overwrites it), so for them every
    member's identity being there is the check."""
    if member == USERS_MEMBER and expected is not None and found is not None:
        return bool(expected["rows"] == found["rows"])
    return expected == found


def _verify(owners: CellOwners, move: TenantMove) -> TenantMove:
    with snapshot(owners.connection(move.target_cell), tenant_id=move.tenant_id) as conn:
        found = member_digests(conn, tenant_id=move.tenant_id)
    expected = move.tables or {}
    differing = sorted(
        m for m in expected.keys() | found.keys() if not _same(m, expected.get(m), found.get(m))
    )
    if differing:
        why = f"the copy in {move.target_cell} differs from the source in {', '.join(differing)}"
        _roll_back(owners, move, why)
        raise MoveVerificationError(f"{why}; the copy was deleted and the source unfrozen: retry the move")
    return _record(owners, move, step="verified")


def _flip(owners: CellOwners, move: TenantMove) -> TenantMove:
    with owners.tenant(move.target_cell, move.tenant_id) as conn:
        slug = repo.tenant_slug(conn, tenant_id=move.tenant_id)
    assert slug is not None, "verified copies hold the tenant row"
    with owners.control() as conn:
        repo.point_directory(conn, tenant_id=move.tenant_id, cell=move.target_cell, slug=slug)
    with owners.tenant(move.target_cell, move.tenant_id) as conn:
        repo.unfreeze(
            conn,
            tenant_id=move.tenant_id,
            audit_action="tenant.moved",
            audit_after=_audit_document(move, rows=move.rows),
        )
    return _record(owners, move, step="flipped", flipped_at=datetime.now(UTC))


def _delete_source(
    owners: CellOwners, move: TenantMove, settings: MoveSettings, sleep: Callable[[float], None]
) -> TenantMove:
    assert move.flipped_at is not None
    wait = (move.flipped_at + timedelta(seconds=settings.settle_seconds) - datetime.now(UTC)).total_seconds()
    if wait > 0:
        sleep(wait)
    _delete_tenant(owners, move.source_cell, move.tenant_id)
    return _record(owners, move, step="done", finished_at=datetime.now(UTC))


def _delete_tenant(owners: CellOwners, cell: str, tenant_id: UUID) -> None:
    """Every row of the tenant in ``cell``, then its members' identities no other tenant there has: a
    cell keeps no personal data of a tenant that left it."""
    with owners.tenant(cell, tenant_id) as conn:
        members = repo.member_user_ids(conn, tenant_id=tenant_id)
        for table in children_first(tenant_tables(conn)):
            repo.delete_tenant_rows(
                conn, table=table.name, tenant_column=table.tenant_column, tenant_id=tenant_id
            )
        repo.delete_unaffiliated_users(conn, user_ids=members)


def _roll_back(owners: CellOwners, move: TenantMove, why: str) -> TenantMove:
    """Undo a move that has not flipped: delete the target's copy, unfreeze the source."""
    _delete_tenant(owners, move.target_cell, move.tenant_id)
    with owners.tenant(move.source_cell, move.tenant_id) as conn:
        repo.unfreeze(
            conn,
            tenant_id=move.tenant_id,
            audit_action="tenant.move_rolled_back",
            audit_after=_audit_document(move, reason=why),
        )
    logger.warning("tenant move rolled back", extra={"tenant_id": str(move.tenant_id), "reason": why})
    return _record(owners, move, step="rolled_back", error=why, finished_at=datetime.now(UTC))


def advance(
    owners: CellOwners,
    move: TenantMove,
    settings: MoveSettings,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> TenantMove:
    """Run the move's next step; returns it as recorded after that step."""
    if move.step == "started":
        return _freeze(owners, move, settings)
    if move.step == "frozen":
        return _copy(owners, move)
    if move.step == "copied":
        return _verify(owners, move)
    if move.step == "verified":
        return _flip(owners, move)
    if move.step == "flipped":
        return _delete_source(owners, move, settings, sleep)
    raise MoveRefusedError(f"move {move.id} is {move.step}: nothing left to do")


def run_move(
    owners: CellOwners,
    move: TenantMove,
    settings: MoveSettings,
    *,
    on_step: Callable[[TenantMove], None] = lambda move: None,
    sleep: Callable[[float], None] = time.sleep,
) -> TenantMove:
    """Run the move's remaining steps."""
    while move.step not in FINISHED_STEPS:
        move = advance(owners, move, settings, sleep=sleep)
        on_step(move)
    return move


def abort_move(owners: CellOwners, tenant_id: UUID) -> TenantMove:
    """Roll back the tenant's unfinished move; refused once the directory has flipped."""
    move = current_move(owners, tenant_id)
    if move is None:
        raise MoveRefusedError(f"tenant {tenant_id} has no unfinished move")
    if move.step == "flipped":
        raise MoveRefusedError(
            f"the move of tenant {tenant_id} already flipped to {move.target_cell}: finish it with"
            f" `saas tenants move {tenant_id} --to {move.target_cell}`, then move the tenant back if needed"
        )
    return _roll_back(owners, move, "aborted by an operator")
