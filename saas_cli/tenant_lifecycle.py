"""`saas tenants suspend|reactivate|offboard <tenant>`: an operator moves a tenant through its lifecycle.

- ``suspend`` refuses every request of the tenant from its next request on (its Stripe events and
  scheduled jobs keep being recorded); ``reactivate`` lifts the operator's suspension, or cancels an
  offboarding. A billing suspension is lifted by billing alone (decision 0110).
- ``offboard`` starts the grace period (``--grace-days``, default ``$LIFECYCLE_ERASURE_GRACE_DAYS`` or
  30) after which the tenant's data is erased; the tenant can still read its data until then.
- ``receipt <tenant-id>`` prints an erased tenant's receipt and verifies its signature.

Each command is idempotent (repeating it changes nothing and says so) and audited in the tenant's audit
log. A transition that does not start from the tenant's state exits 1 naming that state.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from saas_cli.tenant_db import database_url, open_database, resolve_tenant
from saascore.db.tenancy import tenant_transaction, tenantless_transaction
from saascore.exceptions import ConfigurationError
from saascore.lifecycle.exceptions import LifecycleError
from saascore.lifecycle.receipts import receipt_document, verify_receipt
from saascore.lifecycle.repositories.lifecycle import erasure_receipt
from saascore.lifecycle.settings import get_lifecycle_settings
from saascore.lifecycle.states import MAX_GRACE_DAYS, MAX_NOTE_CHARS, Action, describe
from saascore.lifecycle.transitions import apply_operator_action
from saascore.secrets import resolve_secret


def run_transition(args: argparse.Namespace) -> int:
    action = Action(args.tenant_command)
    grace_days = args.grace_days if action is Action.OFFBOARD else None
    grace = (
        timedelta(days=grace_days)
        if grace_days is not None
        else get_lifecycle_settings().erasure_grace_period
    )
    try:
        database = open_database(database_url(args.database_url))
        tenant_id = resolve_tenant(database, args.tenant)
        with tenant_transaction(tenant_id, database=database) as conn:
            transition = apply_operator_action(
                conn,
                tenant_id=tenant_id,
                action=action,
                requested_by=args.requested_by,
                now=datetime.now(UTC),
                grace_period=grace,
                note=args.note,
            )
    except (LifecycleError, ConfigurationError) as exc:
        print(f"saas tenants {action.value}: {exc}", file=sys.stderr)
        return 1
    after = transition.after
    state = describe(after)
    if not transition.changed:
        print(f"tenant {tenant_id} is already {state}; nothing changed")
        return 0
    print(f"tenant {tenant_id}: {transition.before.state.value} -> {state}")
    if after.erase_after is not None:
        print(f"its data is erased after {after.erase_after.isoformat()} unless it is reactivated before")
    return 0


def _note(value: str) -> str:
    if len(value) > MAX_NOTE_CHARS:
        raise argparse.ArgumentTypeError(f"at most {MAX_NOTE_CHARS} characters")
    return value


def _grace_days(value: str) -> int:
    days = int(value)
    if not 0 <= days <= MAX_GRACE_DAYS:
        raise argparse.ArgumentTypeError(f"between 0 and {MAX_GRACE_DAYS} days")
    return days


def register(subparsers: Any) -> None:
    helps = {
        Action.SUSPEND: "refuse every request of the tenant until it is reactivated",
        Action.REACTIVATE: "lift an operator's suspension, or cancel an offboarding",
        Action.OFFBOARD: "start the grace period after which the tenant's data is erased",
    }
    for action, help_text in helps.items():
        parser = subparsers.add_parser(action.value, help=help_text)
        parser.add_argument("tenant", help="tenant id or slug")
        parser.add_argument("--database-url", help="default $DATABASE_URL, else the local stack's")
        parser.add_argument(
            "--requested-by", default=getpass.getuser(), help="who asked for it, for the audit log"
        )
        parser.add_argument("--note", type=_note, help="why (kept with the state and in the audit log)")
        if action is Action.OFFBOARD:
            parser.add_argument(
                "--grace-days",
                type=_grace_days,
                help="days until erasure (default $LIFECYCLE_ERASURE_GRACE_DAYS)",
            )
        parser.set_defaults(handler=run_transition)
    register_receipt(subparsers)


def run_receipt(args: argparse.Namespace) -> int:
    """Print an erased tenant's receipt and check its signature with the receipt key."""
    try:
        tenant_id = uuid.UUID(args.tenant_id)
    except ValueError:
        print("saas tenants receipt: pass the erased tenant's id (a UUID)", file=sys.stderr)
        return 2
    try:
        database = open_database(database_url(args.database_url))
        with tenantless_transaction(database=database) as conn:
            receipt = erasure_receipt(conn, tenant_id=tenant_id)
        key = os.environ.get("ERASURE_RECEIPT_KEY")
        if not key:
            raise ConfigurationError("set ERASURE_RECEIPT_KEY (the key or its secretsmanager: reference)")
        secret = resolve_secret(key)
    except ConfigurationError as exc:
        print(f"saas tenants receipt: {exc}", file=sys.stderr)
        return 1
    if receipt is None or receipt["completed_at"] is None:
        state = "no erasure" if receipt is None else "an erasure that has not finished"
        print(f"saas tenants receipt: tenant {tenant_id} has {state}", file=sys.stderr)
        return 1
    valid = verify_receipt(
        secret,
        receipt["signature"],
        tenant_id=tenant_id,
        completed_at=receipt["completed_at"],
        requested_by=receipt["requested_by"],
        row_counts=receipt["row_counts"],
    )
    document = receipt_document(
        tenant_id=tenant_id,
        completed_at=receipt["completed_at"],
        requested_by=receipt["requested_by"],
        row_counts=receipt["row_counts"],
    )
    print(json.dumps({**json.loads(document), "signature": receipt["signature"]}, indent=2))
    print(
        "signature valid"
        if valid
        else "SIGNATURE INVALID: the receipt was altered or signed with another key"
    )
    return 0 if valid else 1


def register_receipt(subparsers: Any) -> None:
    parser = subparsers.add_parser("receipt", help="show an erased tenant's signed receipt and verify it")
    parser.add_argument("tenant_id", help="the erased tenant's id")
    parser.add_argument("--database-url", help="default $DATABASE_URL, else the local stack's")
    parser.set_defaults(handler=run_receipt)
