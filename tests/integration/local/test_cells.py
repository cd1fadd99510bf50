"""The local stack's dedicated cell: a second database in the same cluster, migrated like the pooled one."""

from __future__ import annotations

import json

import psycopg
from psycopg import sql

from local.cells import DEDICATED_CELLS, cells_setting, prepare_dedicated_cells
from saascore.db.cells import CellSettings, build_router
from saascore.settings import DatabaseSettings


def test_dedicated_cells_are_created_migrated_and_named_in_the_functions_settings(pg):
    admin = pg.server.admin_url
    try:
        first = prepare_dedicated_cells(admin_url=admin, app_url=pg.app_url, owner_url=pg.owner_url)
        again = prepare_dedicated_cells(admin_url=admin, app_url=pg.app_url, owner_url=pg.owner_url)
        assert first == again  # idempotent across restarts of `make dev`
        assert set(first) == set(DEDICATED_CELLS) == {"contoso"}
        with psycopg.connect(first["contoso"]["app"]) as conn:
            assert conn.execute("SELECT current_database(), current_user").fetchone() == (
                "saas_contoso",
                "saas_app",
            )
            assert conn.execute("SELECT to_regprocedure('app.tenant_cell(uuid)') IS NOT NULL").fetchone() == (
                True,
            )
        settings = CellSettings.model_validate({"CELLS": json.loads(cells_setting(first))})
        router = build_router(settings, DatabaseSettings.model_validate({"DATABASE_URL": pg.app_url}))
        assert router.registry.names == ("pooled", "contoso")
        assert router.placement_cell("contoso") == "contoso"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier("saas_contoso"))
            )
