"""`saas ops`: the business report from the reporting views, and who the platform operators are.

Both speak to the database as the owner role (`--database-url`, else $OPS_DATABASE_URL, else the running
local stack's owner URL), which owns the views of migration 0400; the API's `GET /api/v1/ops/report`
prints the same figures for operators (both build them with `saascore.business_metrics`). Each cell has its
own views over its own tenants: the report sums the pooled cell and every `--cell NAME=URL` (all the local
stack's cells by default), as the refresh job's published figures do.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

import psycopg

from saascore.business_metrics import BusinessReport, Month, build_report, format_report
from saascore.db.cells import CELL_NAME, POOLED_CELL
from saascore.exceptions import InvalidPeriodError

EXIT_USAGE = 2


class OpsCommandError(Exception):
    """A refusal the command explains on stderr."""


def _database_url(args: argparse.Namespace) -> str:
    return _report_urls(args)[POOLED_CELL]


def _report_urls(args: argparse.Namespace) -> dict[str, str]:
    """Cell → owner URL: the pooled cell's (see the module), then each `--cell`; with the local stack's
    default, all of the stack's cells."""
    dedicated = {}
    for item in getattr(args, "cell", []):
        cell, _, url = item.partition("=")
        if cell == POOLED_CELL or not CELL_NAME.fullmatch(cell) or not url:
            raise OpsCommandError(
                f"--cell {item!r}: give a dedicated cell's name and owner-role URL as NAME=URL"
            )
        dedicated[cell] = url
    url = args.database_url or os.environ.get("OPS_DATABASE_URL")
    if url:
        return {POOLED_CELL: str(url), **dedicated}
    from local.state import StackState

    try:
        state = StackState.load()
    except (FileNotFoundError, ValueError, TypeError) as exc:
        raise OpsCommandError(
            "pass --database-url or set OPS_DATABASE_URL (the owner role), or start the local stack"
        ) from exc
    return {
        POOLED_CELL: state.owner_database_url,
        **{c: u["owner"] for c, u in state.cells.items()},
        **dedicated,
    }


def read_report(conns: Sequence[psycopg.Connection[Any]], month: Month, *, refresh: bool) -> BusinessReport:
    """One month over every cell: daily figures summed per day, MRR and active users per tenant."""
    days: dict[date, list[int]] = {}
    mrr: list[tuple[int, int]] = []
    active: list[tuple[str, date, int]] = []
    for conn in conns:
        if refresh:
            conn.execute("SELECT * FROM app.refresh_business_views()")
        for day, *figures in conn.execute(
            "SELECT day, signups, stripe_trials_started, first_payments, signups_converted"
            " FROM app.business_daily WHERE day BETWEEN %s AND %s",
            (month.first_day, month.last_day),
        ):
            days[day] = [a + b for a, b in zip(days.get(day, [0, 0, 0, 0]), figures, strict=True)]
        mrr.extend(
            conn.execute(
                "SELECT start_mrr, end_mrr FROM app.mrr_monthly WHERE month = %s", (month.first_day,)
            )
        )
        active.extend(
            conn.execute(
                "SELECT tenant_id::text, day, active_users FROM app.active_users_daily"
                " WHERE day BETWEEN %s AND %s",
                (month.first_day, month.last_day),
            )
        )
    return build_report(
        month,
        days=[(day, f[0], f[1], f[2], f[3]) for day, f in sorted(days.items())],
        mrr=mrr,
        active_users=sorted(active, key=lambda row: (row[1], row[0])),
    )


def _json_default(value: Any) -> str:
    if isinstance(value, date):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def run_report(args: argparse.Namespace) -> int:
    try:
        month = Month.parse(args.month) if args.month else Month(datetime.now(UTC).date().replace(day=1))
        with ExitStack() as stack:
            conns = [
                stack.enter_context(psycopg.connect(url, autocommit=True))
                for url in _report_urls(args).values()
            ]
            report = read_report(conns, month, refresh=args.refresh)
    except (InvalidPeriodError, OpsCommandError, psycopg.Error) as exc:
        print(f"saas ops report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        document = {
            **asdict(report),
            "month": str(report.month),
            "signups": report.signups,
            "stripe_trials_started": report.stripe_trials_started,
            "first_payments": report.first_payments,
            "trial_to_paid_rate": report.trial_to_paid_rate,
            "mrr": {**asdict(report.mrr), "net": report.mrr.net},
        }
        print(json.dumps(document, default=_json_default, indent=2))
    else:
        print(format_report(report))
    return 0


def run_operators(args: argparse.Namespace) -> int:
    try:
        with psycopg.connect(_database_url(args), autocommit=True) as conn:
            if args.action != "list":
                if not args.tenant:
                    raise OpsCommandError(f"{args.action} needs --tenant <slug or id>")
                row = conn.execute(
                    "SELECT id FROM tenants WHERE slug = %s OR id::text = %s", (args.tenant, args.tenant)
                ).fetchone()
                if row is None:
                    raise OpsCommandError(f"no tenant {args.tenant!r} (give its slug or id)")
                if args.action == "add":
                    conn.execute(
                        "INSERT INTO app.platform_operators (tenant_id) VALUES (%s) ON CONFLICT DO NOTHING",
                        row,
                    )
                else:
                    conn.execute("DELETE FROM app.platform_operators WHERE tenant_id = %s", row)
            rows = conn.execute(
                "SELECT t.slug, t.id::text FROM app.platform_operators o JOIN tenants t ON t.id = o.tenant_id "
                "ORDER BY t.slug"
            ).fetchall()
    except (OpsCommandError, psycopg.Error) as exc:
        print(f"saas ops operators: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for slug, tenant_id in rows:
        print(f"{slug}  {tenant_id}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("ops", help="business report and platform operators (owner role)")
    commands = parser.add_subparsers(dest="ops_command", required=True)
    report = commands.add_parser(
        "report", help="sign-ups, trials, trial -> paid, MRR movements and active users of one UTC month"
    )
    report.add_argument("--month", help="YYYY-MM (default: this month)")
    report.add_argument("--refresh", action="store_true", help="refresh the reporting views first")
    report.add_argument("--json", action="store_true", help="one JSON document")
    report.add_argument(
        "--database-url",
        help="the pooled cell's owner-role URL; default $OPS_DATABASE_URL or the local stack (all its cells)",
    )
    report.add_argument(
        "--cell",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="a dedicated cell and its owner-role URL, summed into the report (repeatable)",
    )
    report.set_defaults(handler=run_report)
    operators = commands.add_parser("operators", help="list, add or remove platform-operator tenants")
    operators.add_argument("action", choices=("list", "add", "remove"))
    operators.add_argument("--tenant", help="the tenant's slug or id (add, remove)")
    operators.add_argument(
        "--database-url", help="owner-role URL; default $OPS_DATABASE_URL or the local stack"
    )
    operators.set_defaults(handler=run_operators)
