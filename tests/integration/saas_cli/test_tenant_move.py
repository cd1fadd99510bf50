"""`saas tenants move`: a tenant moves between two real cells with every row verified, writes are refused
(503, nothing lost) only while it is frozen, a crash at any step resumes, and bad requests change nothing."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from saas_cli.main import main
from saascore.archive.export import member_digests, snapshot
from saascore.archive.restore import restore_archive
from saascore.db.cells import POOLED_CELL, get_cell_router
from saascore.moves import move as moves
from saascore.moves.exceptions import MoveRefusedError, MoveVerificationError
from saascore.moves.move import CellOwners, MoveSettings, advance, begin_move, current_move
from tests.integration.api.harness import ApiHarness, Session, api
from tests.support.cells import DEDICATED_CELL

__all__ = ["api"]

NO_SETTLE = MoveSettings(settle_seconds=0)


def populated_tenant(api: ApiHarness) -> Session:
    owner = api.sign_up()
    api.join(owner, "member")
    for n in range(3):
        created = api.client.post(
            "/api/v1/projects",
            json={"name": f"P{n}", "description": 'ü \\ "q"\n'},
            headers={**owner.headers, "Idempotency-Key": f"key-{n}"},
        )
        assert created.status_code == 201, created.text
    return owner


@pytest.fixture
def owners(pg, dedicated_pg) -> Iterator[CellOwners]:
    cell_owners = CellOwners({POOLED_CELL: pg.owner_url, DEDICATED_CELL: dedicated_pg.owner_url})
    yield cell_owners
    cell_owners.close()


def cell_args(pg, dedicated_pg) -> list[str]:
    return ["--database-url", pg.owner_url, "--cell", f"{DEDICATED_CELL}={dedicated_pg.owner_url}"]


def saas_move(pg, dedicated_pg, *args: str) -> int:
    return main(["tenants", "move", *args, *cell_args(pg, dedicated_pg)])


def digests(url: str, tenant_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    with (
        psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn,
        snapshot(conn, tenant_id=tenant_id),
    ):
        return member_digests(conn, tenant_id=tenant_id)


def tenant_row_counts(url: str, tenant_id: uuid.UUID) -> dict[str, int]:
    return {
        m.removeprefix("tables/").removesuffix(".jsonl"): int(d["rows"])
        for m, d in digests(url, tenant_id).items()
    }


def audit_actions(url: str, tenant_id: uuid.UUID) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT app.set_tenant(%s)", (tenant_id,))
        return [r[0] for r in conn.execute("SELECT action FROM audit_logs ORDER BY created_at, id")]


def directory(pg, tenant_id: uuid.UUID) -> str | None:
    with psycopg.connect(pg.owner_url) as conn:
        row = conn.execute(
            "SELECT cell FROM control.tenant_cells WHERE tenant_id = %s", (tenant_id,)
        ).fetchone()
        return None if row is None else str(row[0])


def test_a_tenant_moves_with_every_row_verified_and_the_source_emptied(api, cells, pg, dedicated_pg, capsys):
    owner = populated_tenant(api)
    before = digests(pg.owner_url, owner.tenant_id)
    assert int(before["tables/projects.jsonl"]["rows"]) == 3

    code = saas_move(pg, dedicated_pg, str(owner.tenant_id), "--to", DEDICATED_CELL, "--settle-seconds", "0")

    out = capsys.readouterr().out
    assert code == 0, out
    for step in ("frozen", "copied", "verified", "flipped", "done"):
        assert f"  {step}" in out
    assert directory(pg, owner.tenant_id) == DEDICATED_CELL
    after = digests(dedicated_pg.owner_url, owner.tenant_id)
    changed = {m for m in before if before[m] != after[m]}
    # Only what the move itself wrote differs: the tenant row's freeze flag (cleared) and its audit entries.
    assert changed == {"tables/tenants.jsonl", "tables/audit_logs.jsonl"}
    assert audit_actions(dedicated_pg.owner_url, owner.tenant_id)[-2:] == [
        "tenant.move_started",
        "tenant.moved",
    ]
    assert all(n == 0 for n in tenant_row_counts(pg.owner_url, owner.tenant_id).values())
    with psycopg.connect(pg.owner_url) as conn:  # no personal data of the members stays behind
        assert conn.execute("SELECT count(*) FROM users WHERE id = %s", (owner.user_id,)).fetchone() == (0,)

    # The session picks the new cell up at its next refresh; its old token's claim now finds nothing.
    get_cell_router().invalidate(owner.tenant_id)
    assert api.client.get("/api/v1/projects", headers=owner.headers).status_code == 401
    stale_write = api.client.post(
        "/api/v1/projects",
        json={"name": "stale"},
        headers={**owner.headers, "Idempotency-Key": "stale-claim"},
    )
    assert stale_write.status_code == 401, stale_write.text
    refreshed = api.client.post("/api/v1/sessions/refresh", json={"refresh_token": owner.refresh_token})
    assert refreshed.status_code == 200, refreshed.text
    headers = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    listed = api.client.get("/api/v1/projects", headers=headers)
    assert listed.status_code == 200, listed.text
    assert sorted(p["name"] for p in listed.json()["items"]) == ["P0", "P1", "P2"]
    created = api.client.post("/api/v1/projects", json={"name": "after"}, headers=headers)
    assert created.status_code == 201, created.text


def test_writes_during_the_freeze_get_503_with_retry_after_and_reads_go_on(
    api, cells, pg, dedicated_pg, owners
):
    owner = populated_tenant(api)
    move = begin_move(owners, tenant_id=owner.tenant_id, target_cell=DEDICATED_CELL, requested_by="ops")
    move = advance(owners, move, NO_SETTLE)
    assert move.step == "frozen"

    refused = api.client.post("/api/v1/projects", json={"name": "frozen"}, headers=owner.headers)
    assert refused.status_code == 503
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["retry-after"] == "5"
    assert refused.json()["type"].endswith("/tenant-moving")
    # With an idempotency key the claim is written in the request's first round trip: refused the same way.
    keyed = api.client.post(
        "/api/v1/projects",
        json={"name": "frozen"},
        headers={**owner.headers, "Idempotency-Key": "during-freeze"},
    )
    assert keyed.status_code == 503, keyed.text
    assert keyed.headers["retry-after"] == "5"
    assert api.client.get("/api/v1/projects", headers=owner.headers).status_code == 200

    while move.step != "flipped":
        move = advance(owners, move, NO_SETTLE)
    assert move.freeze_seconds is not None
    assert move.freeze_seconds > 0
    with psycopg.connect(dedicated_pg.owner_url) as conn:
        conn.execute("SELECT app.set_tenant(%s)", (owner.tenant_id,))
        names = [r[0] for r in conn.execute("SELECT name FROM projects")]
    assert sorted(names) == ["P0", "P1", "P2"]  # the refused write is nowhere, not half-written


def test_the_freeze_waits_for_a_write_in_flight_and_the_copy_holds_it(api, cells, pg, dedicated_pg, owners):
    owner = populated_tenant(api)
    writer = psycopg.connect(pg.app_url, autocommit=True)
    writer.execute("BEGIN")
    writer.execute("SELECT app.set_tenant(%s)", (owner.tenant_id,))
    writer.execute("INSERT INTO projects (tenant_id, name) VALUES (%s, 'in flight')", (owner.tenant_id,))
    move = begin_move(owners, tenant_id=owner.tenant_id, target_cell=DEDICATED_CELL, requested_by="ops")
    frozen: list[Any] = []
    freezer = threading.Thread(target=lambda: frozen.append(advance(owners, move, MoveSettings())))
    freezer.start()
    time.sleep(0.5)
    assert not frozen, "the freeze completed while a write transaction was still open"
    writer.execute("COMMIT")
    writer.close()
    freezer.join(10)
    assert frozen
    assert frozen[0].step == "frozen"
    moved = moves.run_move(owners, frozen[0], NO_SETTLE)
    assert moved.step == "done"
    with psycopg.connect(dedicated_pg.owner_url) as conn:
        conn.execute("SELECT app.set_tenant(%s)", (owner.tenant_id,))
        names = [r[0] for r in conn.execute("SELECT name FROM projects")]
    assert "in flight" in names


def lock_waiters(owner_url: str) -> int:
    with psycopg.connect(owner_url) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE NOT l.granted AND a.datname = current_database()"
        ).fetchone()
        return int(row[0]) if row else 0


def test_a_write_that_waited_on_the_source_deletion_is_refused_not_a_foreign_key_error(
    api, cells, pg, dedicated_pg, owners
):
    """The race the shared-stack walk-through once hit: a write with a stale cell claim starts (its snapshot
    still sees the memberships) while the mover deletes the tenant from the source, waits on the tenant row,
    and then finds it gone. It must get the stale session's 401, never the foreign-key violation's 500."""
    owner = populated_tenant(api)
    move = begin_move(owners, tenant_id=owner.tenant_id, target_cell=DEDICATED_CELL, requested_by="ops")
    assert advance(owners, move, NO_SETTLE).step == "frozen"
    with psycopg.connect(pg.owner_url) as deleter:
        deleter.execute("SELECT app.set_tenant(%s)", (owner.tenant_id,))
        deleted = deleter.execute("DELETE FROM tenants WHERE id = %s", (owner.tenant_id,))  # cascades
        assert deleted.rowcount == 1
        answers: list[Any] = []
        write = threading.Thread(
            target=lambda: answers.append(
                api.client.post(
                    "/api/v1/projects",
                    json={"name": "raced"},
                    headers={**owner.headers, "Idempotency-Key": "raced-deletion"},
                )
            )
        )
        write.start()
        deadline = time.monotonic() + 10
        while lock_waiters(pg.owner_url) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lock_waiters(pg.owner_url) == 1, "the write never waited on the deletion"
    write.join(10)
    assert answers, "the write did not finish"
    assert answers[0].status_code == 401, answers[0].text  # refresh: the new session routes to the new cell
    assert answers[0].json()["type"].endswith("/unauthenticated")
    assert "moved to another cell" in answers[0].json()["detail"]
    assert tenant_row_counts(pg.owner_url, owner.tenant_id)["projects"] == 0


@pytest.mark.usefixtures("cells")
def test_a_moved_tenant_signs_in_by_slug_and_its_slug_stays_taken(api, pg, dedicated_pg):
    slug = api.unique("moving")
    owner = api.sign_up(slug)
    assert saas_move(pg, dedicated_pg, slug, "--to", DEDICATED_CELL, "--settle-seconds", "0") == 0
    get_cell_router().invalidate(owner.tenant_id)

    # The pooled cell (where the placement rule puts the slug) no longer holds it; the directory does.
    signed_in = api.sign_in(slug, email=owner.email)
    assert signed_in.tenant_id == owner.tenant_id
    listed = api.client.get("/api/v1/projects", headers=signed_in.headers)
    assert listed.status_code == 200, listed.text
    taken = api.client.post(
        "/api/v1/signup",
        json={
            "id_token": api.id_token(email="someone@else.example"),
            "tenant_name": "X",
            "tenant_slug": slug,
        },
    )
    assert taken.status_code == 409, taken.text
    assert "slug is taken" in taken.json()["detail"]

    # Moved back: the directory's entry follows it.
    assert saas_move(pg, dedicated_pg, slug, "--to", POOLED_CELL, "--settle-seconds", "0") == 0
    get_cell_router().invalidate(owner.tenant_id)
    assert api.sign_in(slug, email=owner.email).tenant_id == owner.tenant_id


@pytest.mark.usefixtures("cells")
@pytest.mark.parametrize("crash_after", ["started", "frozen", "copied", "verified", "flipped"])
def test_a_move_interrupted_after_any_step_finishes_when_run_again(
    api, pg, dedicated_pg, owners, crash_after
):
    owner = populated_tenant(api)
    expected = tenant_row_counts(pg.owner_url, owner.tenant_id)
    move = begin_move(owners, tenant_id=owner.tenant_id, target_cell=DEDICATED_CELL, requested_by="ops")
    while move.step != crash_after:
        move = advance(owners, move, NO_SETTLE)
    owners.close()  # the operator's process dies here

    code = saas_move(pg, dedicated_pg, str(owner.tenant_id), "--to", DEDICATED_CELL, "--settle-seconds", "0")
    assert code == 0  # pytest shows the captured output if not
    assert directory(pg, owner.tenant_id) == DEDICATED_CELL
    counts = tenant_row_counts(dedicated_pg.owner_url, owner.tenant_id)
    assert counts["projects"] == expected["projects"] == 3
    assert counts["memberships"] == expected["memberships"]
    assert audit_actions(dedicated_pg.owner_url, owner.tenant_id).count("tenant.moved") == 1
    assert all(n == 0 for n in tenant_row_counts(pg.owner_url, owner.tenant_id).values())


@pytest.mark.usefixtures("cells")
def test_a_crash_inside_the_copy_leaves_nothing_in_the_target_and_resumes(
    api, pg, dedicated_pg, owners, monkeypatch
):
    owner = populated_tenant(api)
    move = begin_move(owners, tenant_id=owner.tenant_id, target_cell=DEDICATED_CELL, requested_by="ops")
    move = advance(owners, move, NO_SETTLE)
    real_restore = restore_archive

    def crash_after_loading(*args: Any, **kwargs: Any) -> Any:
        real_restore(*args, **kwargs)
        raise ConnectionError("the operator's laptop went to sleep")

    monkeypatch.setattr("saascore.moves.move.restore_archive", crash_after_loading)
    with pytest.raises(ConnectionError):
        advance(owners, move, NO_SETTLE)
    assert tenant_row_counts(dedicated_pg.owner_url, owner.tenant_id)["tenants"] == 0
    monkeypatch.setattr(moves, "restore_archive", real_restore)
    assert moves.run_move(owners, current_move(owners, owner.tenant_id), NO_SETTLE).step == "done"  # type: ignore[arg-type]
    assert tenant_row_counts(dedicated_pg.owner_url, owner.tenant_id)["projects"] == 3


def test_a_copy_that_differs_is_deleted_and_the_source_unfrozen(api, cells, pg, dedicated_pg, owners):
    owner = populated_tenant(api)
    move = begin_move(owners, tenant_id=owner.tenant_id, target_cell=DEDICATED_CELL, requested_by="ops")
    while move.step != "copied":
        move = advance(owners, move, NO_SETTLE)
    with psycopg.connect(dedicated_pg.owner_url) as conn:  # the copy is damaged before verification
        conn.execute("SELECT app.set_tenant(%s)", (owner.tenant_id,))
        conn.execute("UPDATE projects SET name = 'tampered' WHERE name = 'P1'")

    with pytest.raises(MoveVerificationError, match=r"tables/projects\.jsonl"):
        advance(owners, move, NO_SETTLE)

    assert all(n == 0 for n in tenant_row_counts(dedicated_pg.owner_url, owner.tenant_id).values())
    assert directory(pg, owner.tenant_id) in (None, POOLED_CELL)
    assert current_move(owners, owner.tenant_id) is None
    created = api.client.post("/api/v1/projects", json={"name": "writable again"}, headers=owner.headers)
    assert created.status_code == 201, created.text
    assert "tenant.move_rolled_back" in audit_actions(pg.owner_url, owner.tenant_id)


@pytest.mark.usefixtures("cells")
def test_bad_moves_are_refused_with_what_to_do_and_change_nothing(api, pg, dedicated_pg, owners, capsys):
    owner = populated_tenant(api)
    tenant = str(owner.tenant_id)
    before = digests(pg.owner_url, owner.tenant_id)

    assert saas_move(pg, dedicated_pg, tenant, "--to", "nowhere") == 1
    assert "unknown cell 'nowhere'" in capsys.readouterr().err
    assert saas_move(pg, dedicated_pg, tenant, "--to", POOLED_CELL) == 1
    assert "already in cell pooled: nothing to move" in capsys.readouterr().err
    assert saas_move(pg, dedicated_pg, "no-such-tenant", "--to", DEDICATED_CELL) == 1
    assert "no tenant 'no-such-tenant'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as bad_name:
        saas_move(pg, dedicated_pg, tenant, "--to", "Bad_Name")
    assert bad_name.value.code == 2
    assert "a cell name matches" in capsys.readouterr().err
    assert digests(pg.owner_url, owner.tenant_id) == before

    move = begin_move(owners, tenant_id=owner.tenant_id, target_cell=DEDICATED_CELL, requested_by="ops")
    advance(owners, move, NO_SETTLE)
    with pytest.raises(MoveRefusedError, match="mid-move from pooled to dedicated"):
        begin_move(owners, tenant_id=owner.tenant_id, target_cell=POOLED_CELL, requested_by="ops")

    assert saas_move(pg, dedicated_pg, tenant, "--abort") == 0
    assert "rolled back" in capsys.readouterr().out
    assert current_move(owners, owner.tenant_id) is None
    assert api.client.post("/api/v1/projects", json={"name": "x"}, headers=owner.headers).status_code == 201
    assert saas_move(pg, dedicated_pg, tenant, "--abort") == 1
    assert "no unfinished move" in capsys.readouterr().err
