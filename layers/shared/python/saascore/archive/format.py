"""The tenant archive format, version 1.

A zip file (DEFLATE, ZIP64) holding, in this order:

- ``users.jsonl`` — the global identities of the tenant's members (``users`` rows), so memberships load;
- ``tables/<table>.jsonl`` — one member per tenant table, parents before children, the audit log included;
  one JSON object per line, keys the table's columns in order, values in PostgreSQL's own JSON forms (the
  export runs with UTC and ISO text forms), rows in primary-key order;
- ``manifest.json`` — written last, read first: format and version, the schema version (newest migration)
  of the database it came from, the tenant, and per member its columns, row count and SHA-256 of its bytes.

JSON Lines and zip are readable with any tool; the checksums cover the uncompressed member bytes, so
``sha256sum`` of an extracted member equals the manifest's value.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

from saascore.archive.exceptions import ArchiveRefusedError

FORMAT = "saas-tenant-archive"
ARCHIVE_CONTENT_TYPE = "application/zip"
EXPORTS_PREFIX = "exports/"  # customer exports' keys in the reports bucket (IAM grants are scoped to it)
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
USERS_MEMBER = "users.jsonl"


def table_member(table: str) -> str:
    return f"tables/{table}.jsonl"


def export_object_key(tenant_id: UUID, export_id: UUID) -> str:
    """Where a customer export lives in the reports bucket (the job writes it, the API presigns it)."""
    return f"{EXPORTS_PREFIX}{tenant_id}/{export_id}.zip"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # format_type(): e.g. "uuid", "timestamp with time zone", "text[]"


@dataclass(frozen=True, slots=True)
class MemberEntry:
    name: str  # the table, or "users"
    member: str
    columns: tuple[Column, ...]
    rows: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    tenant_id: str
    tenant_slug: str
    schema_version: int
    exported_at: str
    users: MemberEntry
    tables: tuple[MemberEntry, ...]
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode() + b"\n"

    @property
    def row_counts(self) -> dict[str, int]:
        return {entry.name: entry.rows for entry in self.tables}

    @property
    def digests(self) -> dict[str, dict[str, int | str]]:
        """Member → ``{"rows", "sha256"}``, comparable with ``export.member_digests`` of a database."""
        return {e.member: {"rows": e.rows, "sha256": e.sha256} for e in (self.users, *self.tables)}

    @property
    def checksums(self) -> dict[str, str]:
        return {entry.member: entry.sha256 for entry in (self.users, *self.tables)}


def _entry(raw: dict[str, Any]) -> MemberEntry:
    return MemberEntry(
        name=str(raw["name"]),
        member=str(raw["member"]),
        columns=tuple(Column(str(c["name"]), str(c["type"])) for c in raw["columns"]),
        rows=int(raw["rows"]),
        sha256=str(raw["sha256"]),
    )


def parse_manifest(data: bytes) -> Manifest:
    """The manifest, or a refusal saying why it cannot be used."""
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise ArchiveRefusedError(
            f"{MANIFEST} is not JSON ({exc}); the archive is damaged: export it again"
        ) from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ArchiveRefusedError(f"not a tenant archive: {MANIFEST} does not say format {FORMAT!r}")
    version = raw.get("format_version")
    if version != FORMAT_VERSION:
        raise ArchiveRefusedError(
            f"archive format version {version} is not {FORMAT_VERSION}, the one this tool reads; restore it with"
            " the release that wrote it"
        )
    try:
        return Manifest(
            tenant_id=str(raw["tenant_id"]),
            tenant_slug=str(raw["tenant_slug"]),
            schema_version=int(raw["schema_version"]),
            exported_at=str(raw["exported_at"]),
            users=_entry(raw["users"]),
            tables=tuple(_entry(t) for t in raw["tables"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArchiveRefusedError(
            f"{MANIFEST} is incomplete ({exc!r}); the archive is damaged: export it again"
        ) from exc
