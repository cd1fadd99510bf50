"""Migrations across cells: the same files applied to every cell's database, a few cells at a time.

A failed cell does not stop the others: each cell's outcome (version reached, migrations applied, or the
error) is reported, and the caller fails afterwards naming the cells that failed. Each cell keeps its own
history table and advisory lock (``saascore.db.migrate``), so cells never wait for one another.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg

from saascore.db.migrate import Migration, discover, migrate
from saascore.exceptions import MigrationError
from saascore.observability import get_logger

DEFAULT_PARALLELISM = 4
MAX_PARALLELISM = 16

logger = get_logger("migrate")


@dataclass(frozen=True, slots=True)
class CellOutcome:
    cell: str
    version: int | None  # highest version recorded after the run (None: unreachable or empty)
    applied: tuple[str, ...]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class CellStatus:
    cell: str
    recorded: Mapping[int, str]  # version -> checksum recorded in the cell
    error: str | None = None


def _recorded(conninfo: str) -> dict[int, str]:
    with psycopg.connect(conninfo, autocommit=True, prepare_threshold=None) as conn:
        exists = conn.execute("SELECT to_regclass('migrations.schema_migrations') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return {}
        rows = conn.execute("SELECT version, checksum FROM migrations.schema_migrations").fetchall()
    return {int(version): str(checksum) for version, checksum in rows}


def _migrate_one(cell: str, conninfo: str, migrations: list[Migration]) -> CellOutcome:
    try:
        applied = migrate(conninfo, migrations=migrations)
        recorded = _recorded(conninfo)
    except (MigrationError, psycopg.Error) as exc:
        logger.error("migrations failed in a cell", extra={"cell": cell, "error": str(exc)})
        return CellOutcome(cell, None, (), error=str(exc).strip().splitlines()[0])
    return CellOutcome(cell, max(recorded, default=None), tuple(m.filename for m in applied))


def _bounded(parallelism: int) -> int:
    if not 1 <= parallelism <= MAX_PARALLELISM:
        raise MigrationError(f"parallelism must be between 1 and {MAX_PARALLELISM}, not {parallelism}")
    return parallelism


def migrate_cells(
    targets: Mapping[str, str],
    *,
    parallelism: int = DEFAULT_PARALLELISM,
    migrations: list[Migration] | None = None,
) -> list[CellOutcome]:
    """Apply pending migrations to every cell (``{cell: owner conninfo}``), ``parallelism`` at a time;
    outcomes in the order of ``targets``."""
    available = discover() if migrations is None else migrations
    with ThreadPoolExecutor(max_workers=_bounded(parallelism), thread_name_prefix="migrate") as pool:
        futures = [pool.submit(_migrate_one, cell, url, available) for cell, url in targets.items()]
        return [future.result() for future in futures]


def cells_status(targets: Mapping[str, str], *, parallelism: int = DEFAULT_PARALLELISM) -> list[CellStatus]:
    """What each cell has recorded (read only; an unreachable cell carries its error)."""

    def one(cell: str, url: str) -> CellStatus:
        try:
            return CellStatus(cell, _recorded(url))
        except psycopg.Error as exc:
            return CellStatus(cell, {}, error=str(exc).strip().splitlines()[0])

    with ThreadPoolExecutor(max_workers=_bounded(parallelism), thread_name_prefix="migrate") as pool:
        return list(pool.map(lambda item: one(*item), targets.items()))
