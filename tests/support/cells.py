"""Cells for tests: the test's own database is the pooled cell, a second clone is a dedicated cell.

Both are databases of the same local cluster (as in `make dev`), cloned from the one migrated template,
so they carry the same schema, exactly as every cell in AWS runs the same migrations.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from saascore.db.cells import get_cell_router
from tests.support.postgres import PgServer, TestDatabase, clone_database, drop_database

DEDICATED_CELL = "dedicated"


@dataclass
class TestCells:
    """The pooled cell (``pg``) and one dedicated cell; ``place`` reserves slugs for the dedicated one."""

    __test__ = False

    pooled: TestDatabase
    dedicated: TestDatabase
    monkeypatch: pytest.MonkeyPatch

    def place(self, *slugs: str) -> None:
        """Route these tenant slugs' sign-ups to the dedicated cell (a fresh router, caches empty)."""
        cells = {DEDICATED_CELL: {"url": self.dedicated.app_url, "reserved_for": list(slugs)}}
        self.monkeypatch.setenv("CELLS", json.dumps(cells))
        reset_router()

    def database_of(self, cell: str) -> TestDatabase:
        return self.dedicated if cell == DEDICATED_CELL else self.pooled


def reset_router() -> None:
    get_cell_router().registry.close()
    get_cell_router.cache_clear()


def dedicated_database(server: PgServer) -> Iterator[TestDatabase]:
    database = clone_database(server)
    try:
        yield database
    finally:
        drop_database(database)


def configure_cells(
    pg: TestDatabase, dedicated: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestCells]:
    cells = TestCells(pg, dedicated, monkeypatch)
    cells.place()
    try:
        yield cells
    finally:
        monkeypatch.delenv("CELLS", raising=False)
        reset_router()
