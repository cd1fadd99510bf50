"""Tenant archive benchmarks (``saascore.archive``): export and restore of a tenant with 100k projects.

1. Export: time and tracemalloc peak of ``write_archive`` (COPY → JSON Lines → zip, SHA-256 per member)
   into a file, at 10k and at 100k rows (a bounded export has about the same peak at both), against the
   baseline of a plain ``COPY (SELECT * …) TO STDOUT`` of the same rows into a file.
2. Restore: time and peak of ``restore_archive`` into an empty database (batched inserts, checksums
   verified while streaming), against the baseline of ``COPY … FROM STDIN`` of the plain COPY's output
   (as the administrator: PostgreSQL refuses COPY FROM into a table with row-level security).

tracemalloc traces Python allocations (libpq's own buffers are not traced; they hold one COPY chunk).
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import dict_row

ROWS = 100_000
SMALL_ROWS = 10_000
MIB = 1024 * 1024


@contextmanager
def measured() -> Iterator[dict[str, float]]:
    figures: dict[str, float] = {}
    tracemalloc.start()
    started = time.perf_counter()
    try:
        yield figures
    finally:
        figures["seconds"] = time.perf_counter() - started
        figures["peak"] = tracemalloc.get_traced_memory()[1] / MIB
        tracemalloc.stop()


def seed(owner_url: str, rows: int) -> uuid.UUID:
    tenant = uuid.uuid4()
    with psycopg.connect(owner_url) as conn:
        conn.execute("SELECT app.set_tenant(%s)", (tenant,))
        slug = f"bench-{tenant.hex[:8]}"
        conn.execute("INSERT INTO tenants (id, name, slug) VALUES (%s, %s, %s)", (tenant, slug, slug))
        conn.execute(
            "INSERT INTO projects (tenant_id, name, description) SELECT %s, 'Project ' || g,"
            " repeat(md5(g::text), 7) FROM generate_series(1, %s) g",
            (tenant, rows),
        )
    return tenant


def export(app_url: str, tenant: uuid.UUID, path: Path) -> dict[str, float]:
    from saascore.archive.export import snapshot, write_archive

    with (
        psycopg.connect(app_url, autocommit=True, row_factory=dict_row, prepare_threshold=None) as conn,
        measured() as figures,
        path.open("wb") as out,
        snapshot(conn, tenant_id=tenant),
    ):
        write_archive(conn, tenant_id=tenant, out=out)
    return figures


def plain_copy(app_url: str, tenant: uuid.UUID, path: Path) -> dict[str, float]:
    with psycopg.connect(app_url) as conn, measured() as figures, path.open("wb") as out:
        conn.execute("SELECT app.set_tenant(%s)", (tenant,))
        query = f"COPY (SELECT * FROM projects WHERE tenant_id = '{tenant}') TO STDOUT"
        with conn.cursor().copy(query) as copy:
            for chunk in copy:
                out.write(chunk)
    return figures


def restore(owner_url: str, tenant: uuid.UUID, path: Path) -> dict[str, float]:
    from saascore.archive.restore import restore_archive

    with (
        psycopg.connect(owner_url, autocommit=True, row_factory=dict_row, prepare_threshold=None) as conn,
        measured() as figures,
        path.open("rb") as archive,
        conn.transaction(),
    ):
        conn.execute("SELECT app.set_tenant(%s)", (tenant,))
        restore_archive(conn, archive, tenant_id=tenant)
    return figures


def plain_copy_in(admin_url: str, tenant: uuid.UUID, path: Path) -> dict[str, float]:
    with psycopg.connect(admin_url) as conn, measured() as figures, path.open("rb") as data:
        slug = f"copy-{tenant.hex[:8]}"
        conn.execute("INSERT INTO tenants (id, name, slug) VALUES (%s, %s, %s)", (tenant, slug, slug))
        with conn.cursor().copy("COPY projects FROM STDIN") as copy:
            while chunk := data.read(1024 * 1024):
                copy.write(chunk)
    return figures


def databases() -> Iterator[Callable[[], Any]]:
    from tests.support.postgres import build_template, clone_database, start_server

    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        for server in start_server(Path(tmp)):
            build_template(server)

            def fresh(server: Any = server) -> Any:
                return clone_database(server)

            yield fresh


def line(label: str, rows: int, subject: dict[str, float], baseline: dict[str, float], name: str) -> str:
    return (
        f"{label} {rows:,} rows: {subject['seconds']:.2f} s, peak {subject['peak']:.1f} MiB | {name}:"
        f" {baseline['seconds']:.2f} s, peak {baseline['peak']:.1f} MiB | time ratio"
        f" {subject['seconds'] / baseline['seconds']:.1f}x"
    )


def main() -> None:
    for fresh in databases():
        source, empty_archive, empty_copy = fresh(), fresh(), fresh()
        with tempfile.TemporaryDirectory(prefix="bench-archive-files-") as tmp:
            files = Path(tmp)
            small = seed(source.owner_url, SMALL_ROWS)
            small_export = export(source.app_url, small, files / "small.zip")
            tenant = seed(source.owner_url, ROWS)
            big_copy = plain_copy(source.app_url, tenant, files / "plain.copy")
            big_export = export(source.app_url, tenant, files / "big.zip")
            print(line("archive export", ROWS, big_export, big_copy, "plain COPY to a file"))
            print(
                f"archive export peak at {SMALL_ROWS:,} rows {small_export['peak']:.1f} MiB, at {ROWS:,} rows"
                f" {big_export['peak']:.1f} MiB (ratio {big_export['peak'] / small_export['peak']:.2f}x for"
                f" {ROWS // SMALL_ROWS}x the rows); archive {(files / 'big.zip').stat().st_size / MIB:.1f} MiB,"
                f" plain COPY {(files / 'plain.copy').stat().st_size / MIB:.1f} MiB"
            )
            big_restore = restore(empty_archive.owner_url, tenant, files / "big.zip")
            admin = urlsplit(empty_copy.server.admin_url)
            admin_url = urlunsplit(admin._replace(path=f"/{empty_copy.name}"))
            copy_in = plain_copy_in(admin_url, tenant, files / "plain.copy")
            print(line("archive restore", ROWS, big_restore, copy_in, "plain COPY FROM a file"))


if __name__ == "__main__":
    main()
