"""Write a tenant's archive streaming: rows go from COPY through the zip's compressor to ``out`` one at a
time, so memory stays bounded whatever the tenant's size (measured in ``bench/bench_archive.py``)."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO
from uuid import UUID

from psycopg import IsolationLevel

from saascore.archive.exceptions import ArchiveRefusedError
from saascore.archive.format import (
    MANIFEST,
    USERS_MEMBER,
    Column,
    Manifest,
    MemberEntry,
    table_member,
)
from saascore.archive.repositories import archive as repo
from saascore.db.connection import Connection
from saascore.db.tenancy import SET_TENANT_SQL
from saascore.db.tenant_tables import tenant_tables

WRITE_CHUNK_BYTES = 256 * 1024  # lines are gathered into chunks this size before compression


@contextmanager
def snapshot(conn: Connection, *, tenant_id: UUID) -> Iterator[Connection]:
    """One read-only repeatable-read transaction for ``tenant_id``: every table read at the same moment.

    ``conn`` is in autocommit mode (as ``saascore.db.connection`` keeps it); psycopg then opens the block
    with ``BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`` (no SET statement, so no proxy pinning).
    """
    previous = (conn.isolation_level, conn.read_only)
    conn.isolation_level, conn.read_only = IsolationLevel.REPEATABLE_READ, True
    try:
        with conn.transaction():
            conn.execute(SET_TENANT_SQL, (tenant_id, None))
            yield conn
    finally:
        conn.isolation_level, conn.read_only = previous


def _write_member(archive: zipfile.ZipFile, member: str, lines: Iterable[str]) -> tuple[int, str]:
    digest = hashlib.sha256()
    rows = 0
    chunk = bytearray()
    with archive.open(member, "w", force_zip64=True) as out:
        for line in lines:
            chunk += line.encode()
            chunk += b"\n"
            rows += 1
            if len(chunk) >= WRITE_CHUNK_BYTES:
                digest.update(chunk)
                out.write(chunk)
                chunk.clear()
        digest.update(chunk)
        out.write(chunk)
    return rows, digest.hexdigest()


def member_digests(conn: Connection, *, tenant_id: UUID) -> dict[str, dict[str, int | str]]:
    """Member → ``{"rows", "sha256"}`` of what ``write_archive`` would write now, without writing it:
    how a copy in another database is checked against its manifest (``Manifest.digests``)."""
    repo.use_archive_text_forms(conn)
    types = repo.column_types(conn)
    digests: dict[str, dict[str, int | str]] = {}
    users = repo.stream_member_users(conn, columns=tuple(types["users"]), tenant_id=tenant_id)
    for member, lines in (
        (USERS_MEMBER, users),
        *(
            (
                table_member(table.name),
                repo.stream_table(
                    conn,
                    table=table.name,
                    columns=table.columns,
                    tenant_column=table.tenant_column,
                    order_by=table.primary_key,
                    tenant_id=tenant_id,
                ),
            )
            for table in tenant_tables(conn)
        ),
    ):
        digest = hashlib.sha256()
        rows = 0
        for line in lines:
            digest.update(line.encode())
            digest.update(b"\n")
            rows += 1
        digests[member] = {"rows": rows, "sha256": digest.hexdigest()}
    return digests


def write_archive(conn: Connection, *, tenant_id: UUID, out: IO[bytes]) -> Manifest:
    """Write ``tenant_id``'s archive to ``out``, in ``conn``'s transaction (set to that tenant; a
    repeatable-read snapshot gives every table the same moment)."""
    repo.use_archive_text_forms(conn)
    slug = repo.tenant_slug(conn, tenant_id=tenant_id)
    if slug is None:
        raise ArchiveRefusedError(
            f"no tenant {tenant_id} in this database (or it is not the transaction's tenant)"
        )
    types = repo.column_types(conn)
    exported_at = datetime.now(UTC).isoformat()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        user_columns = tuple(types["users"])
        rows, sha = _write_member(
            archive, USERS_MEMBER, repo.stream_member_users(conn, columns=user_columns, tenant_id=tenant_id)
        )
        users = MemberEntry(
            "users", USERS_MEMBER, tuple(Column(c, types["users"][c]) for c in user_columns), rows, sha
        )
        entries = []
        for table in tenant_tables(conn):
            member = table_member(table.name)
            lines = repo.stream_table(
                conn,
                table=table.name,
                columns=table.columns,
                tenant_column=table.tenant_column,
                order_by=table.primary_key,
                tenant_id=tenant_id,
            )
            rows, sha = _write_member(archive, member, lines)
            columns = tuple(Column(c, types[table.name][c]) for c in table.columns)
            entries.append(MemberEntry(table.name, member, columns, rows, sha))
        manifest = Manifest(
            tenant_id=str(tenant_id),
            tenant_slug=slug,
            schema_version=repo.schema_version(conn),
            exported_at=exported_at,
            users=users,
            tables=tuple(entries),
        )
        archive.writestr(MANIFEST, manifest.to_json())
    return manifest
