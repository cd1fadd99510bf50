"""Moving a tenant between cells (``saas tenants move``): move time and write-freeze time at 100k rows.

1. Move: a tenant with 100k projects moved from one cell to another (two databases of one local cluster),
   every step timed; the freeze is from the flag to the flip (what writers see as 503s). Baseline: the
   same tenant's plain archive export into a file and restore into an empty cell (``saas tenants export``
   then ``restore``), the copying a move cannot avoid.
2. The write guard (``refuse_write_while_moving``, one ``FOR KEY SHARE`` per write statement of a tenant
   transaction): single-row updates as the application role, each in its own tenant transaction, with the
   trigger against the same table with the trigger disabled, interleaved rounds.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from bench.bench_archive import databases, seed

ROWS = 100_000
GUARD_ROUNDS = 7
GUARD_WRITES = 300


def export_then_restore(source_url: str, empty_url: str, tenant: uuid.UUID, path: Path) -> float:
    """The baseline: the archive written to a file, then loaded into an empty cell (no tracing)."""
    from saascore.archive.export import snapshot, write_archive
    from saascore.archive.restore import restore_archive

    started = time.perf_counter()
    with (
        psycopg.connect(source_url, autocommit=True, row_factory=dict_row) as conn,
        path.open("wb") as out,
        snapshot(conn, tenant_id=tenant),
    ):
        write_archive(conn, tenant_id=tenant, out=out)
    with (
        psycopg.connect(empty_url, autocommit=True, row_factory=dict_row) as conn,
        path.open("rb") as archive,
        conn.transaction(),
    ):
        conn.execute("SELECT app.set_tenant(%s)", (tenant,))
        restore_archive(conn, archive, tenant_id=tenant)
    return time.perf_counter() - started


def move(source_url: str, target_url: str, tenant: uuid.UUID) -> tuple[float, dict[str, float], Any]:
    from saascore.db.cells import POOLED_CELL
    from saascore.moves.move import CellOwners, MoveSettings, begin_move, run_move

    owners = CellOwners({POOLED_CELL: source_url, "dedicated": target_url})
    steps: dict[str, float] = {}
    last = time.perf_counter()

    def on_step(step: Any) -> None:
        nonlocal last
        now = time.perf_counter()
        steps[step.step] = now - last
        last = now

    try:
        started = time.perf_counter()
        moving = begin_move(owners, tenant_id=tenant, target_cell="dedicated", requested_by="bench")
        last = time.perf_counter()
        steps["started"] = last - started
        done = run_move(owners, moving, MoveSettings(settle_seconds=0), on_step=on_step)
        return time.perf_counter() - started, steps, done
    finally:
        owners.close()


def timed_writes(app_url: str, tenant: uuid.UUID, project: uuid.UUID) -> float:
    """Seconds per single-row UPDATE, each in its own tenant transaction (median of the batch)."""
    samples = []
    with psycopg.connect(app_url, autocommit=True) as conn:
        for n in range(GUARD_WRITES):
            started = time.perf_counter()
            with conn.transaction():
                conn.execute("SELECT app.set_tenant(%s)", (tenant,))
                conn.execute("UPDATE projects SET name = %s WHERE id = %s", (f"p{n}", project))
            samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def guard_overhead(owner_url: str, app_url: str) -> Iterator[tuple[float, float]]:
    tenant = seed(owner_url, 10)
    with psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as owner:
        with owner.transaction():
            owner.execute("SELECT app.set_tenant(%s)", (tenant,))
            project = owner.execute("SELECT id FROM projects LIMIT 1").fetchone()["id"]  # type: ignore[index]
        for _ in range(GUARD_ROUNDS):
            owner.execute("ALTER TABLE projects ENABLE TRIGGER refuse_write_while_moving")
            guarded = timed_writes(app_url, tenant, project)
            owner.execute("ALTER TABLE projects DISABLE TRIGGER refuse_write_while_moving")
            unguarded = timed_writes(app_url, tenant, project)
            yield guarded, unguarded
        owner.execute("ALTER TABLE projects ENABLE TRIGGER refuse_write_while_moving")


def main() -> None:
    for fresh in databases():
        source, target, empty = fresh(), fresh(), fresh()
        tenant = seed(source.owner_url, ROWS)
        with tempfile.TemporaryDirectory(prefix="bench-moves-") as tmp:
            baseline = export_then_restore(
                source.owner_url, empty.owner_url, tenant, Path(tmp) / "tenant.zip"
            )
        total, steps, done = move(source.owner_url, target.owner_url, tenant)
        assert done.step == "done", done
        print(
            f"move of {done.rows:,} rows: {total:.2f} s, write freeze {done.freeze_seconds:.2f} s | plain export +"
            f" restore: {baseline:.2f} s | move/baseline {total / baseline:.2f}x, freeze/baseline"
            f" {done.freeze_seconds / baseline:.2f}x"
        )
        print("move steps: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in steps.items()))
        rounds = list(guard_overhead(source.owner_url, source.app_url))
        guarded = statistics.median(g for g, _ in rounds)
        unguarded = statistics.median(u for _, u in rounds)
        print(
            f"write guard: single-row update in a tenant transaction {guarded * 1e6:.0f} µs with the trigger,"
            f" {unguarded * 1e6:.0f} µs without | ratio {guarded / unguarded:.2f}x"
            f" ({(guarded - unguarded) * 1e6:+.0f} µs per write transaction)"
        )


if __name__ == "__main__":
    main()
