"""Audit-log export benchmarks (``saascore.archive.audit_export``): a tenant with 100k audit entries.

1. Stream: time (untraced) and tracemalloc peak (a second, traced run) of ``audit_lines`` (keyset pages of 500 → JSON Lines) of all entries
   into a file — the daily job's path, and the API's within its caps — at 10k and at 100k entries (bounded:
   about the same peak at both), against the baseline of a plain ``COPY (SELECT … ) TO STDOUT`` of the same
   rows into a file.
2. Caps: the time of ``stop_key`` (where a capped API response stops: it reads at most 5,001 entries)
   over the 100k-entry window, against streaming the 5,000 entries it admits.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from bench.bench_archive import databases, line, measured

ROWS = 100_000
SMALL_ROWS = 10_000
DAY = datetime(2026, 11, 2, tzinfo=UTC)


def seed(owner_url: str, rows: int) -> uuid.UUID:
    """``rows`` entries across one day, each with a before/after diff like a project update's."""
    tenant = uuid.uuid4()
    with psycopg.connect(owner_url) as conn:
        conn.execute("SELECT app.set_tenant(%s)", (tenant,))
        slug = f"bench-{tenant.hex[:8]}"
        conn.execute("INSERT INTO tenants (id, name, slug) VALUES (%s, %s, %s)", (tenant, slug, slug))
        conn.execute(
            "INSERT INTO audit_logs (tenant_id, actor_type, actor_user_id, action, resource_type, resource_id,"
            " before, after, request_id, ip, user_agent, created_at)"
            " SELECT %s, 'user', gen_random_uuid(), 'project.updated', 'project', gen_random_uuid()::text,"
            " jsonb_build_object('name', 'Project ' || g, 'description', md5(g::text)),"
            " jsonb_build_object('name', 'Renamed ' || g, 'description', md5((g * 7)::text)),"
            " md5(g::text), '198.51.100.7', 'Mozilla/5.0 (bench)', %s + g * interval '800 milliseconds'"
            " FROM generate_series(1, %s) g",
            (tenant, DAY, rows),
        )
    return tenant


def _stream_once(app_url: str, tenant: uuid.UUID, path: Path) -> None:
    from saascore.archive.audit_export import audit_lines

    with (
        psycopg.connect(app_url, row_factory=dict_row, prepare_threshold=None) as conn,
        path.open("wb") as out,
    ):
        conn.execute("SELECT app.set_tenant(%s)", (tenant,))
        for entry in audit_lines(conn, since=DAY, until=DAY + timedelta(days=2)):
            out.write(entry)


def stream(app_url: str, tenant: uuid.UUID, path: Path) -> dict[str, float]:
    """Time of an untraced run (tracemalloc slows this allocation-heavy loop several times over) and the
    peak of a traced one."""
    started = time.perf_counter()
    _stream_once(app_url, tenant, path)
    seconds = time.perf_counter() - started
    with measured() as figures:
        _stream_once(app_url, tenant, path)
    return {"seconds": seconds, "peak": figures["peak"]}


def plain_copy(app_url: str, tenant: uuid.UUID, path: Path) -> dict[str, float]:
    with psycopg.connect(app_url) as conn, measured() as figures, path.open("wb") as out:
        conn.execute("SELECT app.set_tenant(%s)", (tenant,))
        query = (
            f"COPY (SELECT * FROM audit_logs WHERE tenant_id = '{tenant}' ORDER BY created_at, id) TO STDOUT"
        )
        with conn.cursor().copy(query) as copy:
            for chunk in copy:
                out.write(chunk)
    return figures


def caps(app_url: str, tenant: uuid.UUID) -> tuple[float, float]:
    from saascore.archive.audit_export import audit_lines
    from saascore.archive.repositories.audit_log import stop_key

    with psycopg.connect(app_url, row_factory=dict_row, prepare_threshold=None) as conn:
        conn.execute("SELECT app.set_tenant(%s)", (tenant,))
        until = DAY + timedelta(days=2)
        started = time.perf_counter()
        stop = stop_key(conn, since=DAY, until=until, start=None, max_rows=5000, max_bytes=4 * 1024 * 1024)
        planned = time.perf_counter() - started
        started = time.perf_counter()
        count = sum(1 for _ in audit_lines(conn, since=DAY, until=until, stop=stop))
        streamed = time.perf_counter() - started
    assert count == 5000
    return planned, streamed


def main() -> None:
    for fresh in databases():
        source = fresh()
        with tempfile.TemporaryDirectory(prefix="bench-audit-files-") as tmp:
            files = Path(tmp)
            small = seed(source.owner_url, SMALL_ROWS)
            small_stream = stream(source.app_url, small, files / "small.jsonl")
            tenant = seed(source.owner_url, ROWS)
            baseline = plain_copy(source.app_url, tenant, files / "plain.copy")
            big_stream = stream(source.app_url, tenant, files / "big.jsonl")
            print(line("audit-log export", ROWS, big_stream, baseline, "plain COPY to a file"))
            print(
                f"audit-log export peak at {SMALL_ROWS:,} entries {small_stream['peak']:.1f} MiB, at {ROWS:,}"
                f" {big_stream['peak']:.1f} MiB (ratio {big_stream['peak'] / small_stream['peak']:.2f}x for"
                f" {ROWS // SMALL_ROWS}x the entries); JSON Lines"
                f" {(files / 'big.jsonl').stat().st_size / (1024 * 1024):.1f} MiB"
            )
            planned, streamed = caps(source.app_url, tenant)
            print(
                f"audit-log export caps over {ROWS:,} entries: finding the stop {planned * 1000:.0f} ms,"
                f" streaming the 5,000 entries it admits {streamed * 1000:.0f} ms"
                f" (ratio {planned / streamed:.2f}x)"
            )


if __name__ == "__main__":
    main()
