"""`saas tenants export|restore`: the round trip into an empty database gives identical checksums; a damaged
archive, a newer schema or an existing tenant is refused with nothing loaded; `--new-id` loads a copy."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from saas_cli.main import main
from saascore.archive.format import MANIFEST
from tests.integration.api.harness import ApiHarness, Session, api
from tests.support import postgres
from tests.support.cells import DEDICATED_CELL
from tests.support.postgres import clone_database, drop_database

__all__ = ["api"]


@pytest.fixture
def empty(pg_template) -> Iterator[postgres.TestDatabase]:
    """A second database, migrated and without tenants (the restore target)."""
    database = clone_database(pg_template)
    try:
        yield database
    finally:
        drop_database(database)


def populated_tenant(api: ApiHarness) -> Session:
    owner = api.sign_up()
    api.join(owner, "member")
    for n in range(3):
        headers = {**owner.headers, "Idempotency-Key": f"key-{n}"}
        created = api.client.post(
            "/api/v1/projects", json={"name": f"P{n}", "description": 'ü \\ "q"\n'}, headers=headers
        )
        assert created.status_code == 201, created.text
    refreshed = api.client.post("/api/v1/sessions/refresh", json={"refresh_token": owner.refresh_token})
    assert refreshed.status_code == 200, refreshed.text  # a replaced_by chain in refresh_tokens
    api.owner_sql(
        owner.tenant_id,
        "INSERT INTO billing_customers (tenant_id, stripe_customer_id) VALUES (%s, 'cus_archive1')",
        (owner.tenant_id,),
    )
    return owner


@pytest.fixture
def exported(api, pg, tmp_path) -> tuple[Session, Path]:
    owner = populated_tenant(api)
    path = tmp_path / "good.zip"
    assert saas("export", str(owner.tenant_id), "--out", str(path), "--database-url", pg.app_url) == 0
    return owner, path


def tenant_rows(url: str) -> dict[str, int]:
    """Rows per table of the whole database, as the administrator would count them (RLS aside)."""
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        counts = {}
        for table in tables:
            conn.execute("SELECT app.set_tenant(NULL)")
            counts[table] = scalar(conn, f"SELECT count(*) FROM {table}")
        return counts


def scalar(conn: psycopg.Connection[Any], query: Any) -> Any:
    row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def manifest_of(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as archive:
        manifest: dict[str, Any] = json.loads(archive.read(MANIFEST))
        return manifest


def rewrite_archive(source: Path, target: Path, *, member: str, change) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            new.writestr(info.filename, change(data) if info.filename == member else data)


def saas(*args: str) -> int:
    return main(["tenants", *args])


def owner_count(url: str, tenant_id, table: str) -> int:
    with psycopg.connect(url) as conn:
        conn.execute("SELECT app.set_tenant(%s)", (tenant_id,))
        return int(scalar(conn, f"SELECT count(*) FROM {table}"))


def test_export_then_restore_into_an_empty_database_gives_identical_checksums(
    api, pg, empty, tmp_path, capsys
):
    owner = populated_tenant(api)
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    assert saas("export", str(owner.tenant_id), "--out", str(first), "--database-url", pg.app_url) == 0
    manifest = manifest_of(first)
    counts = {t["name"]: t["rows"] for t in manifest["tables"]}
    assert counts["tenants"] == 1
    assert counts["projects"] == 3
    assert counts["memberships"] == 2
    assert counts["audit_logs"] >= 4
    assert counts["refresh_tokens"] == 3  # two sign-ins and one rotation
    assert manifest["users"]["rows"] == 2
    assert manifest["schema_version"] >= 601

    assert saas("restore", str(first), "--into", empty.owner_url) == 0
    assert "restored tenant" in capsys.readouterr().out
    assert saas("export", str(owner.tenant_id), "--out", str(second), "--database-url", empty.app_url) == 0
    again = manifest_of(second)
    assert {t["member"]: t["sha256"] for t in again["tables"]} == {
        t["member"]: t["sha256"] for t in manifest["tables"]
    }
    assert again["users"]["sha256"] == manifest["users"]["sha256"]
    assert owner_count(empty.owner_url, owner.tenant_id, "projects") == 3


def test_the_checksums_are_those_of_the_member_bytes(api, pg, tmp_path):
    import hashlib

    owner = populated_tenant(api)
    path = tmp_path / "a.zip"
    assert saas("export", str(owner.tenant_id), "--out", str(path), "--database-url", pg.app_url) == 0
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        for entry in manifest["tables"]:
            data = archive.read(entry["member"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert data.count(b"\n") == entry["rows"]
        [project] = [json.loads(line) for line in archive.read("tables/projects.jsonl").splitlines()][:1]
    assert project["tenant_id"] == str(owner.tenant_id)
    assert project["created_at"].endswith("+00:00")  # UTC whatever the session's time zone


DAMAGES = {
    # The last table loaded: every table before it was inserted, and must be rolled back.
    "a forged row in the last table": (
        "tables/usage_events.jsonl",
        lambda data: data + b'{"forged": 1}\n',
        "does not match the manifest",
    ),
    "an altered value": (
        "tables/projects.jsonl",
        lambda data: data.replace(b"P1", b"PX"),
        "does not match the manifest",
    ),
    "a newer schema": (
        MANIFEST,
        lambda data: json.dumps({**json.loads(data), "schema_version": 99999}).encode(),
        "newer than the target's",
    ),
    "a newer format": (
        MANIFEST,
        lambda data: json.dumps({**json.loads(data), "format_version": 2}).encode(),
        "format version 2",
    ),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_or_newer_archive_is_refused_with_nothing_loaded(exported, empty, tmp_path, capsys, damage):
    member, change, says = DAMAGES[damage]
    owner, good = exported
    bad = tmp_path / "bad.zip"
    rewrite_archive(good, bad, member=member, change=change)
    before = tenant_rows(empty.owner_url)
    assert saas("restore", str(bad), "--into", empty.owner_url) == 1
    err = capsys.readouterr().err
    assert says in err
    assert "saas migrate" in err or "export it again" in err or "release that wrote it" in err
    assert owner_count(empty.owner_url, owner.tenant_id, "tenants") == 0
    assert tenant_rows(empty.owner_url) == before


def test_restoring_a_tenant_that_exists_is_refused_and_new_id_loads_a_copy(api, pg, tmp_path, capsys):
    owner = populated_tenant(api)
    path = tmp_path / "a.zip"
    assert saas("export", str(owner.tenant_id), "--out", str(path), "--database-url", pg.app_url) == 0
    assert saas("restore", str(path), "--into", pg.owner_url) == 1
    assert "already exists in the target; restore with --new-id" in capsys.readouterr().err
    assert saas("restore", str(path), "--into", pg.owner_url, "--new-id") == 1
    assert "pass --slug" in capsys.readouterr().err

    assert saas("restore", str(path), "--into", pg.owner_url, "--new-id", "--slug", "copy-of-it") == 0
    out = capsys.readouterr().out
    assert "billing_customers: left out of the copy" in out
    with psycopg.connect(pg.owner_url) as conn:
        copy_id = scalar(conn, "SELECT app.tenant_id_by_slug('copy-of-it')")
    assert copy_id not in (None, owner.tenant_id)
    original = api.owner_sql(
        owner.tenant_id,
        "SELECT id, name FROM projects WHERE tenant_id = %s ORDER BY name",
        (owner.tenant_id,),
    )
    copied = api.owner_sql(
        copy_id, "SELECT id, name FROM projects WHERE tenant_id = %s ORDER BY name", (copy_id,)
    )
    assert [name for _, name in copied] == [name for _, name in original]
    assert not {pid for pid, _ in copied} & {pid for pid, _ in original}
    # (the owner's directory policy sees every tenant's customers, hence the filter)
    assert api.owner_sql(
        copy_id, "SELECT count(*) FROM billing_customers WHERE tenant_id = %s", (copy_id,)
    ) == [(0,)]
    # Memberships follow the copied roles (the same mapping for a key and its references).
    assert api.owner_sql(
        copy_id,
        "SELECT count(*) FROM memberships m JOIN roles r ON r.id = m.role_id AND r.tenant_id = m.tenant_id"
        " WHERE m.tenant_id = %s",
        (copy_id,),
    ) == [(2,)]
    assert owner_count(pg.owner_url, owner.tenant_id, "projects") == 3


def test_an_unknown_target_or_a_file_that_is_not_an_archive_is_refused(tmp_path, capsys):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    assert saas("restore", str(junk), "--into", "Not A Cell") == 1
    assert "unknown restore target 'Not A Cell'" in capsys.readouterr().err
    assert saas("restore", str(junk), "--into", "acme-cell") == 1  # a cell, but where are the cells?
    assert "pass --database-url or set MIGRATE_DATABASE_URL" in capsys.readouterr().err
    assert saas("restore", str(junk), "--into", "postgresql://127.0.0.1:1/none") == 1
    assert "not a zip archive" in capsys.readouterr().err


@pytest.mark.usefixtures("cells")
def test_a_restore_into_a_cell_places_the_tenant_there_and_it_signs_in(
    api, pg, dedicated_pg, tmp_path, capsys
):
    owner = populated_tenant(api)
    path = tmp_path / "a.zip"
    assert saas("export", str(owner.tenant_id), "--out", str(path), "--database-url", pg.app_url) == 0
    cells = ["--database-url", pg.owner_url, "--cell", f"{DEDICATED_CELL}={dedicated_pg.owner_url}"]

    assert saas("restore", str(path), "--into", "nowhere", *cells) == 1
    assert "unknown cell 'nowhere'; known cells: pooled, dedicated" in capsys.readouterr().err
    # The same tenant into another cell would be a second live copy: that is what a move is for.
    assert saas("restore", str(path), "--into", DEDICATED_CELL, *cells) == 1
    assert "use `saas tenants move" in capsys.readouterr().err
    assert owner_count(dedicated_pg.owner_url, owner.tenant_id, "projects") == 0

    assert (
        saas("restore", str(path), "--into", DEDICATED_CELL, "--new-id", "--slug", "cell-copy", *cells) == 0
    )
    assert f"the directory places it in cell {DEDICATED_CELL}" in capsys.readouterr().out
    with psycopg.connect(pg.owner_url) as conn:
        placed = conn.execute(
            "SELECT tenant_id, cell FROM control.tenant_cells WHERE slug = 'cell-copy'"
        ).fetchone()
    assert placed is not None
    copy_id, cell = placed
    assert cell == DEDICATED_CELL
    assert owner_count(dedicated_pg.owner_url, copy_id, "projects") == 3
    copy = api.sign_in("cell-copy", email=owner.email)  # by slug, through the directory, into the cell
    assert copy.tenant_id == copy_id
    listed = api.client.get("/api/v1/projects", headers=copy.headers)
    assert sorted(p["name"] for p in listed.json()["items"]) == ["P0", "P1", "P2"]
