"""Deploy-time migrate function: invoked by a CDK Trigger before the new API version goes live.

It connects straight to each cell's database instance (not RDS Proxy) as the owner role, whose credentials
are the RDS-generated JSON secrets named by ``MIGRATE_SECRET_ARN`` (the pooled cell) and
``MIGRATE_CELL_SECRET_ARNS`` (JSON ``{cell: arn}``, the dedicated cells), and applies the same migration
files the tests and ``make dev`` apply, ``MIGRATE_PARALLELISM`` cells at a time. Every cell is attempted;
then a failure in any raises naming the cells, which fails the deployment before any function uses the
schema.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from psycopg.conninfo import make_conninfo

from saascore.db.cells import POOLED_CELL
from saascore.db.migrate_cells import DEFAULT_PARALLELISM, migrate_cells
from saascore.exceptions import ConfigurationError, MigrationError
from saascore.observability import get_logger
from saascore.secrets import resolve_secret

logger = get_logger("migrate")


def owner_conninfo(secret_json: str) -> str:
    try:
        secret: dict[str, Any] = json.loads(secret_json)
        return make_conninfo(
            host=secret["host"],
            port=int(secret.get("port", 5432)),
            dbname=secret.get("dbname", "saas"),
            user=secret["username"],
            password=secret["password"],
            sslmode=secret.get("sslmode", "require"),
            connect_timeout=10,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError("the migrate secret is not an RDS credentials JSON document") from exc


def cell_secret_arns(environ: Mapping[str, str]) -> dict[str, str]:
    pooled = environ.get("MIGRATE_SECRET_ARN")
    if not pooled:
        raise ConfigurationError("MIGRATE_SECRET_ARN is not set")
    try:
        dedicated = json.loads(environ.get("MIGRATE_CELL_SECRET_ARNS") or "{}")
    except ValueError as exc:
        raise ConfigurationError(
            "MIGRATE_CELL_SECRET_ARNS is not a JSON object of cell -> secret ARN"
        ) from exc
    if not isinstance(dedicated, dict) or POOLED_CELL in dedicated:
        raise ConfigurationError("MIGRATE_CELL_SECRET_ARNS must map dedicated cell names to secret ARNs")
    return {POOLED_CELL: pooled, **{str(cell): str(arn) for cell, arn in dedicated.items()}}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    targets = {
        cell: owner_conninfo(resolve_secret(f"secretsmanager:{arn}"))
        for cell, arn in cell_secret_arns(os.environ).items()
    }
    parallelism = int(os.environ.get("MIGRATE_PARALLELISM", str(DEFAULT_PARALLELISM)))
    outcomes = migrate_cells(targets, parallelism=parallelism)
    report = {
        outcome.cell: {"version": outcome.version, "applied": list(outcome.applied), "error": outcome.error}
        for outcome in outcomes
    }
    logger.info("migrations done", extra={"cells": report})
    failed = [outcome.cell for outcome in outcomes if not outcome.ok]
    if failed:
        raise MigrationError(f"migrations failed in cell(s) {', '.join(failed)}; the others are migrated")
    return {"cells": report}
