"""Load a tenant archive into a database, streaming, in the caller's one transaction.

Everything is checked before or while loading and any refusal raises, so the caller's transaction rolls
back and nothing is half-loaded: the format version, the schema version (an archive from a newer schema
is refused), that each table and column exists in the target, that the tenant (and its slug) is not
there already, and each member's row count and SHA-256 against the manifest as its bytes stream in.

``new_tenant_id`` loads a copy: the tenant id and every key that identifies a tenant row (uuid primary
keys and the uuid columns referencing them) are replaced by ``uuid5(new_tenant_id, old)``, the same
mapping for a key and its references, so no look-up table is kept. Rows of tables with a key unique across
tenants that the mapping does not change (a Stripe customer or subscription id, a refresh-token hash)
cannot be shared by two tenants: those tables are left out of a copy and reported.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from saascore.archive.exceptions import ArchiveRefusedError
from saascore.archive.format import MANIFEST, Manifest, MemberEntry, parse_manifest
from saascore.archive.repositories import archive as repo
from saascore.db.connection import Connection
from saascore.db.tenant_tables import TenantTable, tenant_tables

BATCH_ROWS = 500
BATCH_BYTES = 2 * 1024 * 1024

RowRewrite = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class RestoreResult:
    manifest: Manifest
    tenant_id: uuid.UUID
    rows: dict[str, int]
    users_added: int
    left_out: dict[str, str] = field(default_factory=dict)  # table → why (copies only)


def open_manifest(archive: zipfile.ZipFile) -> Manifest:
    try:
        data = archive.read(MANIFEST)
    except KeyError as exc:
        raise ArchiveRefusedError(
            f"no {MANIFEST} in the archive: it is not a tenant archive or is truncated"
        ) from exc
    manifest = parse_manifest(data)
    present = set(archive.namelist())
    missing = sorted(m for m in manifest.checksums if m not in present)
    if missing:
        raise ArchiveRefusedError(f"the archive lacks {', '.join(missing)}: it is truncated; export it again")
    return manifest


def _lines(archive: zipfile.ZipFile, entry: MemberEntry) -> Iterator[bytes]:
    """The member's lines, verified: raises after the last line when the count or checksum differs."""
    digest = hashlib.sha256()
    rows = 0
    try:
        with archive.open(entry.member) as member:
            for line in member:
                digest.update(line)
                rows += 1
                yield line
    except zipfile.BadZipFile as exc:
        raise ArchiveRefusedError(f"{entry.member} is damaged ({exc}); nothing was restored") from exc
    if digest.hexdigest() != entry.sha256 or rows != entry.rows:
        raise ArchiveRefusedError(
            f"{entry.member} does not match the manifest (SHA-256 or row count): the archive is damaged or was"
            " altered; nothing was restored — export it again"
        )


def _load(
    conn: Connection,
    archive: zipfile.ZipFile,
    entry: MemberEntry,
    *,
    table: str,
    rewrite: RowRewrite | None,
    on_conflict_skip: bool = False,
) -> int:
    columns = [c.name for c in entry.columns]
    batch: list[str] = []
    size = 0
    inserted = 0
    for line in _lines(archive, entry):
        text = line.decode().rstrip("\n")
        if rewrite is not None:
            row = json.loads(text)
            rewrite(row)
            text = json.dumps(row)
        batch.append(text)
        size += len(text)
        if len(batch) >= BATCH_ROWS or size >= BATCH_BYTES:
            inserted += repo.insert_rows(
                conn,
                table=table,
                columns=columns,
                rows_json=f"[{','.join(batch)}]",
                on_conflict_skip=on_conflict_skip,
            )
            batch, size = [], 0
    if batch:
        inserted += repo.insert_rows(
            conn,
            table=table,
            columns=columns,
            rows_json=f"[{','.join(batch)}]",
            on_conflict_skip=on_conflict_skip,
        )
    return inserted


def _check_tables(manifest: Manifest, target: dict[str, TenantTable], user_columns: set[str]) -> None:
    for entry in (manifest.users, *manifest.tables):
        have = (
            user_columns
            if entry.name == "users"
            else set(target[entry.name].columns)
            if entry.name in target
            else None
        )
        if have is None:
            raise ArchiveRefusedError(
                f"the target has no tenant table {entry.name!r}; migrate the target to schema version"
                f" {manifest.schema_version} or later (saas migrate), then restore again"
            )
        unknown = sorted({c.name for c in entry.columns} - have)
        if unknown:
            raise ArchiveRefusedError(
                f"the target's {entry.name} has no column {', '.join(unknown)}; migrate the target to schema"
                f" version {manifest.schema_version} or later (saas migrate), then restore again"
            )


class _Copy:
    """How a copy (``new_tenant_id``) rewrites keys, and which tables it leaves out."""

    def __init__(self, conn: Connection, manifest: Manifest, new_tenant_id: uuid.UUID, slug: str) -> None:
        self.old = str(manifest.tenant_id)
        self.new = new_tenant_id
        self.slug = slug
        tables = {t.name: t for t in tenant_tables(conn)}
        types = {e.name: {c.name: c.type for c in e.columns} for e in manifest.tables}
        self.remapped: dict[str, set[str]] = {name: {t.tenant_column} for name, t in tables.items()}
        for name, t in tables.items():
            if len(t.primary_key) == 1 and types.get(name, {}).get(t.primary_key[0]) == "uuid":
                self.remapped[name].add(t.primary_key[0])
        for ref in repo.references(conn):
            if ref.table in tables and ref.referenced in tables:
                self.remapped[ref.table] |= {
                    c for c in ref.columns if types.get(ref.table, {}).get(c) == "uuid"
                }
        self.left_out: dict[str, str] = {}
        keys = repo.unique_keys(conn)
        parents = {name: set(t.parents) for name, t in tables.items()}
        for t in tables.values():
            if t.name == "tenants":
                continue
            shared = [k for k in keys.get(t.name, []) if not k & self.remapped[t.name]]
            if shared:
                self.left_out[t.name] = f"its key ({', '.join(sorted(shared[0]))}) is unique across tenants"
            elif parents[t.name] & self.left_out.keys():
                self.left_out[t.name] = "it references a table left out"

    def key(self, value: str | None) -> str | None:
        if value is None:
            return None
        return str(self.new) if value == self.old else str(uuid.uuid5(self.new, value))

    def rewrite_for(self, table: str) -> RowRewrite:
        columns = self.remapped[table]

        def rewrite(row: dict[str, Any]) -> None:
            for column in columns:
                if column in row:
                    row[column] = self.key(row[column])
            if table == "tenants":
                row["slug"] = self.slug

        return rewrite


def restore_archive(
    conn: Connection,
    archive_file: IO[bytes],
    *,
    tenant_id: uuid.UUID,
    new_copy: bool = False,
    slug: str | None = None,
) -> RestoreResult:
    """Load the archive as ``tenant_id`` (the transaction's tenant): the archive's own tenant, or with
    ``new_copy`` a copy under that new id and ``slug``."""
    with zipfile.ZipFile(archive_file) as archive:
        manifest = open_manifest(archive)
        if not new_copy and str(tenant_id) != manifest.tenant_id:
            raise ArchiveRefusedError(f"the archive holds tenant {manifest.tenant_id}, not {tenant_id}")
        target_version = repo.schema_version(conn)
        if manifest.schema_version > target_version:
            raise ArchiveRefusedError(
                f"the archive's schema version {manifest.schema_version} is newer than the target's"
                f" {target_version}: apply the newer migrations to the target first (saas migrate), then restore"
            )
        tables = {t.name: t for t in tenant_tables(conn)}
        _check_tables(manifest, tables, set(repo.column_types(conn)["users"]))
        if repo.tenant_exists(conn, tenant_id=tenant_id):
            raise ArchiveRefusedError(
                f"tenant {tenant_id} already exists in the target; restore with --new-id to load a copy"
            )
        wanted_slug = slug or manifest.tenant_slug
        if repo.slug_taken(conn, slug=wanted_slug):
            raise ArchiveRefusedError(
                f"the slug {wanted_slug!r} is taken in the target; pass --slug for the copy"
            )
        copy = _Copy(conn, manifest, tenant_id, wanted_slug) if new_copy else None
        repo.defer_constraints(conn)
        users_added = _load(conn, archive, manifest.users, table="users", rewrite=None, on_conflict_skip=True)
        by_name = {e.name: e for e in manifest.tables}
        rows: dict[str, int] = {}
        for table in tables.values():
            entry = by_name.get(table.name)
            if entry is None:
                continue
            if copy is not None and table.name in copy.left_out:
                for _ in _lines(archive, entry):  # still verified: a damaged archive is refused whole
                    pass
                continue
            rewrite = copy.rewrite_for(table.name) if copy is not None else None
            rows[table.name] = _load(conn, archive, entry, table=table.name, rewrite=rewrite)
    return RestoreResult(
        manifest=manifest,
        tenant_id=tenant_id,
        rows=rows,
        users_added=users_added,
        left_out={} if copy is None else {t: why for t, why in copy.left_out.items() if t in by_name},
    )
