"""`saas migrate` and `saas migrate status`: the shared layer's migrations in every cell, as the owner role.

Cells: the pooled cell from `--database-url` (or `$MIGRATE_DATABASE_URL`), dedicated ones from
`--cell NAME=URL` (repeatable) or `$MIGRATE_CELL_DATABASE_URLS` (JSON `{cell: url}`); `--local` takes
them all from the running local stack. Every cell is attempted; the exit status is 1 when any failed,
and the failed cells are named.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from saas_cli.cell_targets import TargetError, add_cell_arguments, owner_urls
from saascore.db.migrate import discover
from saascore.db.migrate_cells import (
    DEFAULT_PARALLELISM,
    MAX_PARALLELISM,
    CellStatus,
    cells_status,
    migrate_cells,
)
from saascore.exceptions import MigrationError


def run_migrate(args: argparse.Namespace) -> int:
    try:
        targets = owner_urls(args)
    except (TargetError, FileNotFoundError) as exc:
        print(f"saas migrate: {exc}", file=sys.stderr)
        return 2
    try:
        if args.action == "status":
            return _print_status(cells_status(targets, parallelism=args.parallelism))
        outcomes = migrate_cells(targets, parallelism=args.parallelism)
    except MigrationError as exc:
        print(f"saas migrate: {exc}", file=sys.stderr)
        return 2
    width = max(len(cell) for cell in targets)
    for outcome in outcomes:
        if not outcome.ok:
            print(f"{outcome.cell:<{width}}  FAILED: {outcome.error}")
            continue
        version = f"{outcome.version:04d}" if outcome.version is not None else "none"
        done = f"applied {', '.join(outcome.applied)}" if outcome.applied else "up to date"
        print(f"{outcome.cell:<{width}}  version {version}  {done}")
    failed = [outcome.cell for outcome in outcomes if not outcome.ok]
    if failed:
        print(
            f"saas migrate: failed in cell(s) {', '.join(failed)}; the other cells are migrated. "
            "Fix the cause and run it again (applied migrations are skipped).",
            file=sys.stderr,
        )
        return 1
    return 0


def _print_status(statuses: list[CellStatus]) -> int:
    """One row per migration file, one column per cell: applied, pending or edited (checksum differs)."""
    migrations = discover()
    cells = [status.cell for status in statuses]
    name_width = max(len(m.filename) for m in migrations)
    widths = [max(len(cell), 7) for cell in cells]
    print(
        f"{'migration':<{name_width}}  " + "  ".join(f"{c:<{w}}" for c, w in zip(cells, widths, strict=True))
    )
    for migration in migrations:
        marks = []
        for status, width in zip(statuses, widths, strict=True):
            recorded = status.recorded.get(migration.version)
            if status.error is not None:
                mark = "?"
            elif recorded is None:
                mark = "pending"
            else:
                mark = "applied" if recorded == migration.checksum else "edited"
            marks.append(f"{mark:<{width}}")
        print(f"{migration.filename:<{name_width}}  " + "  ".join(marks))
    for status in statuses:
        if status.error is not None:
            print(f"cell {status.cell} unreachable: {status.error}", file=sys.stderr)
    behind = [s.cell for s in statuses if s.error or len(s.recorded) < len(migrations)]
    unreachable = any(s.error for s in statuses)
    if behind:
        print(f"cells behind or unreachable: {', '.join(behind)}")
    return 1 if unreachable else 0


def _parallelism(value: str) -> int:
    number = int(value)
    if not 1 <= number <= MAX_PARALLELISM:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_PARALLELISM}")
    return number


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "migrate", help="apply pending database migrations to every cell (owner role); `status`: the matrix"
    )
    parser.add_argument("action", nargs="?", choices=["status"], help="status: what each cell has applied")
    add_cell_arguments(parser)
    parser.add_argument(
        "--parallelism",
        type=_parallelism,
        default=DEFAULT_PARALLELISM,
        help=f"cells migrated at once (1-{MAX_PARALLELISM}, default {DEFAULT_PARALLELISM})",
    )
    parser.set_defaults(handler=run_migrate)
