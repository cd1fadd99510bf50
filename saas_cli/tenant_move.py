"""`saas tenants move <tenant> --to <cell>`: move a tenant's data to another cell (``saascore.moves``).

The cells are reached as their owner role (``saas_cli.cell_targets``: `--local`, or `--database-url` and
`--cell NAME=URL`). Running the command again resumes an unfinished move where it stopped; `--abort` rolls
back one that has not flipped yet. Each step is printed as it completes.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

import psycopg

from saas_cli.cell_targets import TargetError, add_cell_arguments, owner_urls
from saascore.db.cells import CELL_NAME, UnknownCellError
from saascore.moves.exceptions import MoveError
from saascore.moves.move import (
    CellOwners,
    MoveSettings,
    TenantMove,
    abort_move,
    begin_move,
    find_tenant,
    run_move,
)

MAX_SETTLE_SECONDS = 3600
DEFAULTS = MoveSettings()


def _print_step(move: TenantMove) -> None:
    detail = ""
    if move.step == "copied":
        detail = f" ({move.rows} rows in {len(move.tables or {})} members)"
    elif move.step == "flipped" and move.freeze_seconds is not None:
        detail = (
            f" (the directory points at {move.target_cell}; writes were frozen {move.freeze_seconds:.3f} s)"
        )
    elif move.step == "rolled_back":
        detail = f" ({move.error})"
    print(f"  {move.step}{detail}", flush=True)


def run_move_command(args: argparse.Namespace) -> int:
    if args.abort == (args.to is not None):
        print("saas tenants move: give --to CELL, or --abort", file=sys.stderr)
        return 2
    try:
        owners = CellOwners(owner_urls(args))
    except (TargetError, FileNotFoundError, UnknownCellError) as exc:
        print(f"saas tenants move: {exc}", file=sys.stderr)
        return 2
    try:
        tenant_id = find_tenant(owners, args.tenant)
        if args.abort:
            move = abort_move(owners, tenant_id)
            print(f"move {move.id} of tenant {tenant_id} rolled back; it stays in {move.source_cell}")
            return 0
        move = begin_move(owners, tenant_id=tenant_id, target_cell=args.to, requested_by=args.requested_by)
        verb = "resuming" if move.step != "started" else "moving"
        print(f"{verb} tenant {tenant_id} from {move.source_cell} to {move.target_cell} (move {move.id})")
        settings = MoveSettings(
            settle_seconds=args.settle_seconds, freeze_timeout_seconds=args.freeze_timeout
        )
        move = run_move(owners, move, settings, on_step=_print_step)
    except (MoveError, UnknownCellError) as exc:
        print(f"saas tenants move: {exc}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        print(
            f"saas tenants move: a cell failed mid-step ({exc}); run the same command again to resume",
            file=sys.stderr,
        )
        return 1
    finally:
        owners.close()
    total = (move.finished_at - move.started_at).total_seconds() if move.finished_at else 0.0
    print(
        f"moved tenant {tenant_id} to {move.target_cell} in {total:.3f} s; {move.source_cell} no longer holds it"
    )
    return 0


def _cell(value: str) -> str:
    if not CELL_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(f"a cell name matches {CELL_NAME.pattern}")
    return value


def _seconds(value: str) -> float:
    number = float(value)
    if not 0 <= number <= MAX_SETTLE_SECONDS:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_SETTLE_SECONDS}")
    return number


def register(subparsers: Any) -> None:
    move = subparsers.add_parser("move", help="move a tenant's data to another cell (resumable)")
    move.add_argument("tenant", help="tenant id or slug")
    move.add_argument("--to", type=_cell, help="the target cell")
    move.add_argument("--abort", action="store_true", help="roll back the tenant's unfinished move")
    move.add_argument(
        "--settle-seconds",
        type=_seconds,
        default=DEFAULTS.settle_seconds,
        help="wait this long after the flip before deleting the source rows; at least the functions'"
        f" CELL_DIRECTORY_TTL (default {DEFAULTS.settle_seconds:g})",
    )
    move.add_argument(
        "--freeze-timeout",
        type=_seconds,
        default=DEFAULTS.freeze_timeout_seconds,
        help="how long in-flight writes may hold up the freeze before the move gives up"
        f" (default {DEFAULTS.freeze_timeout_seconds:g})",
    )
    move.add_argument("--requested-by", default=getpass.getuser(), help="who asked for it, for the audit log")
    add_cell_arguments(move)
    move.set_defaults(handler=run_move_command)
