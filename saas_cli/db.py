"""`saas migrate`: apply the shared layer's migrations as the owner role."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from saascore.db.migrate import migrate
from saascore.exceptions import MigrationError


def run_migrate(args: argparse.Namespace) -> int:
    url = args.database_url or os.environ.get("MIGRATE_DATABASE_URL")
    if not url:
        print(
            "saas migrate: pass --database-url or set MIGRATE_DATABASE_URL (the owner role)", file=sys.stderr
        )
        return 2
    try:
        applied = migrate(url)
    except MigrationError as exc:
        print(f"saas migrate: {exc}", file=sys.stderr)
        return 1
    if applied:
        for migration in applied:
            print(f"applied {migration.filename}")
    else:
        print("database is up to date")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("migrate", help="apply pending database migrations (owner role)")
    parser.add_argument("--database-url", help="owner-role URL; default $MIGRATE_DATABASE_URL")
    parser.set_defaults(handler=run_migrate)
