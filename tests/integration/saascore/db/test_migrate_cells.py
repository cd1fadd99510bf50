"""Migrations across cells on real PostgreSQL: every cell, bounded parallelism, a failed cell named and the
others migrated; `saas migrate` / `saas migrate status`; the deploy-time function with one secret per cell."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid

import boto3
import psycopg
import pytest
from moto import mock_aws
from psycopg import sql

from local.postgres import OWNER_ROLE
from saascore.db import migrate_cells as cells_module
from saascore.db import migrate_handler
from saascore.db.migrate import discover, migrate
from saascore.db.migrate import migrate as migrate_one_database
from saascore.db.migrate_cells import cells_status, migrate_cells
from saascore.exceptions import MigrationError

LATEST = discover()[-1].version


@pytest.fixture
def empty_databases(pg_server):
    """Three empty databases owned by the owner role, as `{name: owner url}`."""
    names = [f"saas_cell_{uuid.uuid4().hex[:8]}" for _ in range(3)]
    with pg_server.admin() as admin:
        for name in names:
            admin.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(OWNER_ROLE)
                )
            )
    yield {name: pg_server.url(role=OWNER_ROLE, dbname=name) for name in names}
    with pg_server.admin() as admin:
        for name in names:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def missing_database(pg_server) -> str:
    return str(pg_server.url(role=OWNER_ROLE, dbname="saas_no_such_cell"))


def test_every_cell_is_migrated_and_reports_its_version(empty_databases):
    urls = list(empty_databases.values())
    targets = {"pooled": urls[0], "acme": urls[1], "globex": urls[2]}
    outcomes = migrate_cells(targets, parallelism=2)
    assert [o.cell for o in outcomes] == ["pooled", "acme", "globex"]
    assert all(o.ok and o.version == LATEST for o in outcomes)
    assert outcomes[0].applied[0] == "0001_tenancy_foundation.sql"
    assert [o.applied for o in migrate_cells(targets)] == [(), (), ()]


def test_a_failed_cell_does_not_stop_the_others_and_is_named(empty_databases, pg_server):
    urls = list(empty_databases.values())
    targets = {"pooled": urls[0], "broken": missing_database(pg_server), "acme": urls[1]}
    outcomes = {o.cell: o for o in migrate_cells(targets)}
    assert not outcomes["broken"].ok
    assert "saas_no_such_cell" in (outcomes["broken"].error or "")
    assert outcomes["pooled"].version == outcomes["acme"].version == LATEST


def test_at_most_parallelism_cells_migrate_at_once(empty_databases, monkeypatch):
    running, peak, lock = [0], [0], threading.Lock()
    real = migrate_one_database

    def counting(conninfo, **kwargs):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            return real(conninfo, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(cells_module, "migrate", counting)
    migrate_cells(dict(zip(["pooled", "a", "b"], empty_databases.values(), strict=True)), parallelism=1)
    assert peak == [1]
    with pytest.raises(MigrationError, match="between 1 and 16"):
        migrate_cells({"pooled": "x"}, parallelism=0)


def saas(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "saas_cli.main", "migrate", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_saas_migrate_every_cell_then_the_status_matrix(empty_databases, pg_server):
    pooled, acme, _ = empty_databases.values()
    migrate(pooled, migrations=[m for m in discover() if m.version < LATEST])
    status = saas("status", "--database-url", pooled, "--cell", f"acme={acme}")
    assert status.returncode == 0, status.stderr
    header, *rows = status.stdout.splitlines()
    assert header.split() == ["migration", "pooled", "acme"]
    first = next(r for r in rows if r.startswith("0001_"))
    last = next(r for r in rows if r.startswith(f"{LATEST:04d}_"))
    assert first.split()[1:] == ["applied", "pending"]
    assert last.split()[1:] == ["pending", "pending"]
    assert "cells behind or unreachable: pooled, acme" in status.stdout

    broken = saas(
        "--database-url", pooled, "--cell", f"acme={acme}", "--cell", f"gone={missing_database(pg_server)}"
    )
    assert broken.returncode == 1
    assert "failed in cell(s) gone" in broken.stderr
    assert f"pooled  version {LATEST:04d}" in broken.stdout
    assert f"acme    version {LATEST:04d}  applied 0001_tenancy_foundation.sql" in broken.stdout
    assert [
        s.recorded.keys() == {m.version for m in discover()} for s in cells_status({"p": pooled, "a": acme})
    ] == [
        True,
        True,
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cell", "acme=postgresql://x"], "MIGRATE_DATABASE_URL"),
        (["--database-url", "postgresql://x", "--cell", "pooled=postgresql://y"], "dedicated cell's name"),
        (["--database-url", "postgresql://x", "--cell", "Bad Name=postgresql://y"], "dedicated cell's name"),
        (["--database-url", "postgresql://x", "--cell", "acme"], "NAME=URL"),
    ],
)
def test_bad_cell_arguments_are_refused_before_anything_runs(args, message, monkeypatch):
    monkeypatch.delenv("MIGRATE_DATABASE_URL", raising=False)
    result = saas(*args)
    assert result.returncode == 2
    assert message in result.stderr


def _secret(client, name: str, url: str) -> str:
    parts = psycopg.conninfo.conninfo_to_dict(url)
    document = {
        "host": parts["host"],
        "port": int(str(parts["port"])),
        "dbname": parts["dbname"],
        "username": parts["user"],
        "password": parts["password"],
        "sslmode": "disable",
    }
    return str(client.create_secret(Name=name, SecretString=json.dumps(document))["ARN"])


@mock_aws
def test_the_deploy_time_function_migrates_every_cell_and_fails_naming_the_broken_one(
    empty_databases, pg_server, monkeypatch, lambda_context
):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    client = boto3.client("secretsmanager", region_name="eu-west-1")
    pooled, acme, _ = empty_databases.values()
    monkeypatch.setenv("MIGRATE_SECRET_ARN", _secret(client, "owner/pooled", pooled))
    cells = {"acme": _secret(client, "owner/acme", acme)}
    monkeypatch.setenv("MIGRATE_CELL_SECRET_ARNS", json.dumps(cells))
    result = migrate_handler.handler({}, lambda_context)
    assert {cell: report["version"] for cell, report in result["cells"].items()} == {
        "pooled": LATEST,
        "acme": LATEST,
    }

    cells["gone"] = _secret(client, "owner/gone", missing_database(pg_server))
    monkeypatch.setenv("MIGRATE_CELL_SECRET_ARNS", json.dumps(cells))
    with pytest.raises(MigrationError, match="failed in cell\\(s\\) gone; the others are migrated"):
        migrate_handler.handler({}, lambda_context)
