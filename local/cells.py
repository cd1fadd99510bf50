"""The local stack's cells: the pooled cell is database ``saas``; the dedicated cell ``contoso`` (for the tenant
slug ``contoso``) is a second database in the same cluster. In AWS every cell is an instance with its own RDS
Proxy; locally one cluster holds both, which is enough to route, isolate and migrate across cells."""

from __future__ import annotations

import json

import psycopg

from local.postgres import ensure_database, with_database
from saascore.db.migrate import migrate

# dedicated cell -> (its database in the local cluster, tenant slugs it is reserved for)
DEDICATED_CELLS: dict[str, tuple[str, tuple[str, ...]]] = {"contoso": ("saas_contoso", ("contoso",))}


def prepare_dedicated_cells(*, admin_url: str, app_url: str, owner_url: str) -> dict[str, dict[str, str]]:
    """Create and migrate each dedicated cell's database; returns {cell: {"app": url, "owner": url}}."""
    cells: dict[str, dict[str, str]] = {}
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        for database, _ in DEDICATED_CELLS.values():
            ensure_database(conn, database)
    for cell, (database, _) in DEDICATED_CELLS.items():
        urls = {"app": with_database(app_url, database), "owner": with_database(owner_url, database)}
        migrate(urls["owner"])
        cells[cell] = urls
    return cells


def cells_setting(cells: dict[str, dict[str, str]]) -> str:
    """The functions' ``CELLS`` value (``saascore.db.cells.CellSettings``) for these cells."""
    return json.dumps(
        {
            cell: {"url": urls["app"], "reserved_for": list(DEDICATED_CELLS[cell][1])}
            for cell, urls in cells.items()
            if cell in DEDICATED_CELLS
        }
    )
