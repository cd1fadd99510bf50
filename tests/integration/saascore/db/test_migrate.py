"""The migration runner against real PostgreSQL: fresh, no-op, edited, missing, failing, concurrent."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import uuid
from dataclasses import replace

import boto3
import psycopg
import pytest
from moto import mock_aws
from psycopg import sql

from local.postgres import OWNER_ROLE
from saascore.db import migrate_handler
from saascore.db.migrate import Migration, discover, migrate
from saascore.exceptions import MigrationError


@pytest.fixture
def empty_db(pg_server):
    """An empty database owned by the owner role (nothing migrated)."""
    name = f"saas_empty_{uuid.uuid4().hex[:10]}"
    with pg_server.admin() as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(OWNER_ROLE))
        )
    yield pg_server.url(role=OWNER_ROLE, dbname=name)
    with pg_server.admin() as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def recorded(url: str) -> list[tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return [
            (int(v), str(n))
            for v, n in conn.execute("SELECT version, name FROM migrations.schema_migrations ORDER BY 1")
        ]


def test_fresh_apply_then_reapply_is_a_no_op(empty_db):
    available = discover()
    applied = migrate(empty_db)
    assert [m.version for m in applied] == [m.version for m in available]
    assert recorded(empty_db) == [(m.version, m.name) for m in available]
    assert migrate(empty_db) == []


def test_an_edited_applied_migration_is_refused(empty_db):
    migrations = discover()
    migrate(empty_db, migrations=migrations[:2])
    edited = [migrations[0], replace(migrations[1], sql=migrations[1].sql + "\n-- edited\n"), *migrations[2:]]
    with pytest.raises(
        MigrationError, match=re.escape(f"{migrations[1].filename} was edited after it was applied")
    ):
        migrate(empty_db, migrations=edited)
    assert [v for v, _ in recorded(empty_db)] == [m.version for m in migrations[:2]]


def test_an_applied_migration_whose_file_vanished_is_refused(empty_db):
    migrations = discover()
    migrate(empty_db, migrations=migrations[:2])
    with pytest.raises(MigrationError, match="file is missing"):
        migrate(empty_db, migrations=migrations[:1])


def test_a_failing_migration_is_rolled_back_and_not_recorded(empty_db):
    migrations = discover()
    broken = Migration(9999, "broken", "CREATE TABLE half_done (id int); SELECT no_such_function();")
    with pytest.raises(MigrationError, match=r"9999_broken\.sql failed"):
        migrate(empty_db, migrations=[*migrations, broken])
    assert 9999 not in [v for v, _ in recorded(empty_db)]
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT to_regclass('public.half_done')").fetchone() == (None,)


def test_two_concurrent_runs_apply_each_migration_once(empty_db):
    slow = Migration(9998, "slow", "SELECT pg_sleep(0.5); CREATE TABLE slow_marker (id int);")
    migrations = [*discover(), slow]
    results: list[list[Migration]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(migrate(empty_db, migrations=migrations))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(len(r) for r in results) == [0, len(migrations)]
    assert [v for v, _ in recorded(empty_db)] == [m.version for m in migrations]


def test_duplicate_versions_are_refused(tmp_path, monkeypatch):
    package = tmp_path / "dupmigrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "0001_a.sql").write_text("SELECT 1;")
    (package / "0001_b.sql").write_text("SELECT 2;")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MigrationError, match="two migrations share version 0001"):
        discover("dupmigrations")


def test_saas_migrate_command(empty_db):
    run = [sys.executable, "-m", "saas_cli.main", "migrate", "--database-url", empty_db]
    first = subprocess.run(run, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    assert "applied 0001_tenancy_foundation.sql" in first.stdout
    second = subprocess.run(run, capture_output=True, text=True, check=False)
    latest = discover()[-1].version
    assert (second.returncode, second.stdout.strip()) == (0, f"pooled  version {latest:04d}  up to date")


def test_saas_migrate_without_a_url_explains_itself(monkeypatch):
    monkeypatch.delenv("MIGRATE_DATABASE_URL", raising=False)
    result = subprocess.run(
        [sys.executable, "-m", "saas_cli.main", "migrate"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "MIGRATE_DATABASE_URL" in result.stderr


@mock_aws
def test_deploy_time_migrate_function_reads_the_rds_secret(empty_db, monkeypatch, lambda_context):
    parts = psycopg.conninfo.conninfo_to_dict(empty_db)
    secret = {
        "host": parts["host"],
        "port": int(str(parts["port"])),
        "dbname": parts["dbname"],
        "username": parts["user"],
        "password": parts["password"],
        "sslmode": "disable",
    }
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    arn = boto3.client("secretsmanager", region_name="eu-west-1").create_secret(
        Name="saas/db/owner", SecretString=json.dumps(secret)
    )["ARN"]
    monkeypatch.setenv("MIGRATE_SECRET_ARN", arn)
    result = migrate_handler.handler({}, lambda_context)
    assert result["cells"]["pooled"]["applied"][0] == "0001_tenancy_foundation.sql"
    latest = discover()[-1].version
    again = migrate_handler.handler({}, lambda_context)
    assert again == {"cells": {"pooled": {"version": latest, "applied": [], "error": None}}}
