"""Which cells an owner-role command reaches: `saas migrate`, `saas tenants move`, `saas tenants restore`.

The pooled cell (the control plane) from `--database-url` (or `$MIGRATE_DATABASE_URL`), dedicated ones
from `--cell NAME=URL` (repeatable) or `$MIGRATE_CELL_DATABASE_URLS` (JSON `{cell: url}`); `--local`
takes them all from the running local stack.
"""

from __future__ import annotations

import argparse
import json
import os

from saascore.db.cells import CELL_NAME, POOLED_CELL


class TargetError(ValueError):
    """The cells are not described well enough to start."""


def owner_urls(args: argparse.Namespace) -> dict[str, str]:
    """Cell name → its owner-role URL, the pooled cell first."""
    if args.local:
        from local.state import StackState

        state = StackState.load()
        return {POOLED_CELL: state.owner_database_url, **{c: u["owner"] for c, u in state.cells.items()}}
    pooled = args.database_url or os.environ.get("MIGRATE_DATABASE_URL")
    if not pooled:
        raise TargetError(
            "pass --database-url or set MIGRATE_DATABASE_URL (the owner role), or --local for `saas dev`"
        )
    targets = {POOLED_CELL: pooled}
    try:
        from_env = json.loads(os.environ.get("MIGRATE_CELL_DATABASE_URLS") or "{}")
    except ValueError as exc:
        raise TargetError("MIGRATE_CELL_DATABASE_URLS is not a JSON object of cell -> owner URL") from exc
    pairs = [*dict(from_env).items(), *(item.partition("=")[::2] for item in args.cell)]
    for cell, url in pairs:
        if cell == POOLED_CELL or not CELL_NAME.fullmatch(cell) or not url:
            raise TargetError(
                f"--cell {cell}=…: give a dedicated cell's name ({CELL_NAME.pattern}, not {POOLED_CELL!r}) "
                "and its owner-role URL as NAME=URL"
            )
        targets[cell] = url
    return targets


def add_cell_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url", help="the pooled cell's owner-role URL; default $MIGRATE_DATABASE_URL"
    )
    parser.add_argument(
        "--cell",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="a dedicated cell and its owner-role URL (repeatable; also $MIGRATE_CELL_DATABASE_URLS)",
    )
    parser.add_argument("--local", action="store_true", help="every cell of the running local stack")
