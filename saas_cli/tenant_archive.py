"""`saas tenants export|restore`: a tenant's portable archive (the format: ``saascore.archive.format``).

- ``export <tenant> --out FILE`` writes the archive streaming (the file appears only once complete) and
  prints the manifest's row counts.
- ``restore <archive> --into <cell|database-url>`` loads it in one transaction as the migration owner: the
  same tenant id, or with ``--new-id`` a copy under a new id (``--slug`` for it); into a cell, the directory
  then places the tenant there. A damaged archive, a newer
  schema or an existing tenant is refused with what to do, and nothing is loaded.
"""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from saas_cli.cell_targets import TargetError, add_cell_arguments, owner_urls
from saas_cli.tenant_db import database_url, open_database, resolve_tenant
from saascore.archive.exceptions import ArchiveError
from saascore.archive.export import snapshot, write_archive
from saascore.archive.restore import restore_archive
from saascore.db.cells import CELL_NAME, POOLED_CELL
from saascore.db.tenancy import SET_TENANT_SQL
from saascore.exceptions import ConfigurationError
from saascore.lifecycle.exceptions import LifecycleError
from saascore.moves.repositories import moves as directory

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")  # the tenants.slug CHECK
DATABASE_URL_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class RestoreTarget:
    url: str  # the target database's owner URL
    cell: str | None = None  # a cell name: the directory then places the tenant there
    control_url: str | None = None  # the pooled cell's owner URL (the directory), with a cell


def restore_target(args: argparse.Namespace) -> RestoreTarget:
    """Where ``--into`` points: a database's owner URL (the directory is not touched), or a cell's name
    (resolved through `--local` or `--database-url` / `--cell`, like `saas migrate`)."""
    into: str = args.into
    if into.startswith(DATABASE_URL_SCHEMES):
        return RestoreTarget(url=into)
    if not CELL_NAME.fullmatch(into):
        raise ConfigurationError(
            f"unknown restore target {into!r}: pass a cell's name or the target database's owner URL"
            " (postgresql://…)"
        )
    urls = owner_urls(args)
    if into not in urls:
        raise ConfigurationError(
            f"unknown cell {into!r}; known cells: {', '.join(urls)} (pass its owner URL with --cell {into}=URL)"
        )
    return RestoreTarget(url=urls[into], cell=into, control_url=urls[POOLED_CELL])


def _placed_cell(target: RestoreTarget, tenant_id: uuid.UUID) -> str | None:
    assert target.control_url is not None
    with psycopg.connect(target.control_url, row_factory=dict_row) as conn:
        return directory.directory_cell(conn, tenant_id=tenant_id)


def _place(target: RestoreTarget, tenant_id: uuid.UUID, slug: str) -> None:
    """The directory names the restored tenant's cell, with its slug (sign-in by slug asks it first)."""
    assert target.control_url is not None
    assert target.cell is not None
    with psycopg.connect(target.control_url, row_factory=dict_row) as conn:
        directory.point_directory(conn, tenant_id=tenant_id, cell=target.cell, slug=slug)


def run_export(args: argparse.Namespace) -> int:
    out = Path(args.out)
    partial = out.with_name(out.name + ".partial")
    try:
        url = database_url(args.database_url)
        tenant_id = resolve_tenant(open_database(url), args.tenant)
        with (
            psycopg.connect(url, autocommit=True, row_factory=dict_row, prepare_threshold=None) as conn,
            partial.open("wb") as file,
            snapshot(conn, tenant_id=tenant_id),
        ):
            manifest = write_archive(conn, tenant_id=tenant_id, out=file)
        partial.replace(out)
    except (ArchiveError, LifecycleError, ConfigurationError) as exc:
        partial.unlink(missing_ok=True)
        print(f"saas tenants export: {exc}", file=sys.stderr)
        return 1
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    total = sum(manifest.row_counts.values())
    print(
        f"exported tenant {tenant_id} ({manifest.tenant_slug}): {total} rows, schema {manifest.schema_version}"
    )
    for table, rows in manifest.row_counts.items():
        print(f"  {table}: {rows}")
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    if args.slug is not None and not args.new_id:
        print("saas tenants restore: --slug is for a copy (--new-id)", file=sys.stderr)
        return 2
    try:
        target = restore_target(args)
        tenant_id = uuid.uuid4() if args.new_id else _archive_tenant(args.archive)
        placed = None if target.cell is None else _placed_cell(target, tenant_id)
        if placed is not None and placed != target.cell:
            raise ConfigurationError(
                f"the directory places tenant {tenant_id} in cell {placed}: to take it to {target.cell} use"
                f" `saas tenants move {tenant_id} --to {target.cell}`, or restore a copy with --new-id"
            )
        with (
            psycopg.connect(
                target.url, autocommit=True, row_factory=dict_row, prepare_threshold=None
            ) as conn,
            open(args.archive, "rb") as file,
            conn.transaction(),
        ):
            conn.execute(SET_TENANT_SQL, (tenant_id, None))
            result = restore_archive(conn, file, tenant_id=tenant_id, new_copy=args.new_id, slug=args.slug)
    except (ArchiveError, ConfigurationError, TargetError, OSError) as exc:
        print(f"saas tenants restore: {exc}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        # A constraint of the target refused a row; the transaction rolled back.
        print(
            f"saas tenants restore: the target refused the data ({exc}); nothing was restored",
            file=sys.stderr,
        )
        return 1
    print(f"restored tenant {result.tenant_id} from {args.archive}: {sum(result.rows.values())} rows")
    if target.cell is not None:
        slug = args.slug or result.manifest.tenant_slug
        try:
            _place(target, result.tenant_id, slug)
        except psycopg.Error as exc:
            print(
                f"saas tenants restore: the tenant is loaded in cell {target.cell} but the directory refused"
                f" it ({exc}); restore again after fixing that, with --new-id, or delete the copy",
                file=sys.stderr,
            )
            return 1
        print(f"  the directory places it in cell {target.cell}")
    for table, rows in result.rows.items():
        print(f"  {table}: {rows}")
    for table, why in result.left_out.items():
        print(f"  {table}: left out of the copy ({why})")
    return 0


def _archive_tenant(path: str) -> uuid.UUID:
    import zipfile

    from saascore.archive.restore import open_manifest

    try:
        with zipfile.ZipFile(path) as archive:
            return uuid.UUID(open_manifest(archive).tenant_id)
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"{path} is not a zip archive ({exc}): export the tenant again") from exc


def _slug(value: str) -> str:
    if not SLUG.match(value):
        raise argparse.ArgumentTypeError("3 to 63 of a-z, 0-9 and '-', not starting or ending with '-'")
    return value


def register(subparsers: Any) -> None:
    export = subparsers.add_parser("export", help="write one tenant's portable archive")
    export.add_argument("tenant", help="tenant id or slug")
    export.add_argument("--out", required=True, help="the archive file to write (.zip)")
    export.add_argument("--database-url", help="default $DATABASE_URL, else the local stack's")
    export.set_defaults(handler=run_export)

    restore = subparsers.add_parser("restore", help="load a tenant archive into a database (one transaction)")
    restore.add_argument("archive", help="an archive written by `saas tenants export`")
    restore.add_argument(
        "--into",
        required=True,
        help="a cell's name (placed there in the directory) or the target database's owner URL",
    )
    restore.add_argument("--new-id", action="store_true", help="load a copy under a new tenant id")
    restore.add_argument("--slug", type=_slug, help="the copy's slug (default: the archive's)")
    add_cell_arguments(restore)
    restore.set_defaults(handler=run_restore)
