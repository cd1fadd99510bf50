"""`saas sso check-domain` and `saas sso reconcile`.

`check-domain`: what the DNS says about a domain's SSO verification record, as the API reads it. A tenant
admin (or an operator helping one) runs it before `POST /api/v1/sso/domains/{id}/verify`: it looks up the
TXT record at `_saas-verification.<domain>` with the same resolver and parsing the API uses, prints every
value there, and with `--token` exits 0 only if the claim's value is among them.

`reconcile`: the tenants' SSO connections (every cell's `sso_connections`, read as the owner role) against
the Cognito user pool's identity providers and the app client's SupportedIdentityProviders. A `cdk deploy`
that updates the app client resets that list to the template's, which silently turns every tenant's
connection off; this puts them back in one UpdateUserPoolClient. Providers named like a connection's
(`sso-<12 hex>-<12 hex>`) with no row are orphans: reported, deleted only with `--delete-orphans`.
Connections whose provider is gone are reported (registering the connection again restores them).
While it reads and writes, it holds the API's app-client advisory lock in every cell, so no connection
is created or deleted halfway through.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from api.exceptions import DnsLookupError, IdentityProviderError
from api.repositories.sso import APP_CLIENT_LOCK
from api.schemas.sso import VERIFICATION_VALUE_PREFIX
from api.services.dns_txt import TxtResolver, resolver_for, txt_values
from api.services.federation import CognitoFederation
from api.services.sso_domains import challenge_for, normalize_domain
from saas_cli.cell_targets import TargetError, add_cell_arguments, owner_urls
from saas_cli.deployment import DeploymentError, deployment

# The names `api.services.sso.provider_name` gives; other providers in the pool are not the tenants'.
CONNECTION_PROVIDER = re.compile(r"sso-[0-9a-f]{12}-[0-9a-f]{12}")
# Exit codes of `saas sso reconcile`.
IN_SYNC, DRIFT_LEFT, BAD_TARGET, CALL_FAILED = 0, 1, 2, 3


def resolver() -> TxtResolver:
    """The API's resolver: the system's, or the DNS server `$SSO_DNS_SERVER` names (the local stack's)."""
    return resolver_for(os.environ.get("SSO_DNS_SERVER"))


def run_check(args: argparse.Namespace) -> int:
    domain = normalize_domain(args.domain)
    if domain is None:
        print(
            f"saas sso check-domain: {args.domain!r} is not a domain name with two labels or more",
            file=sys.stderr,
        )
        return 2
    token = (args.token or "").removeprefix(VERIFICATION_VALUE_PREFIX)
    challenge = challenge_for(domain, token or "<token>")
    try:
        values = txt_values(resolver().txt(challenge.record_name))
    except DnsLookupError as exc:
        print(f"saas sso check-domain: {exc.detail}", file=sys.stderr)
        return 3
    verified = bool(token) and challenge.record_value in values
    report: dict[str, Any] = {
        "domain": domain,
        "record_name": challenge.record_name,
        "values": values,
        "verification_values": [value for value in values if value.startswith(VERIFICATION_VALUE_PREFIX)],
    }
    if token:
        report["expected"] = challenge.record_value
        report["verified"] = verified
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{challenge.record_name} TXT: {len(values)} value(s)")
        for value in values:
            print(f"  {value}")
        if token:
            print("verification record found" if verified else f"missing: {challenge.record_value}")
    return 0 if verified or not token else 1


@dataclass(frozen=True, slots=True)
class Connection:
    provider_name: str
    tenant_id: str
    cell: str


@dataclass
class Plan:
    """What differs, and what applying it does: ``enable`` and (with ``delete_orphans``) ``delete``."""

    enable: list[Connection] = field(default_factory=list)
    missing: list[Connection] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    delete_orphans: bool = False

    @property
    def changes(self) -> bool:
        return bool(self.enable or (self.orphans and self.delete_orphans))

    @property
    def settled(self) -> bool:
        """Nothing is left once the plan is applied."""
        return not self.missing and not (self.orphans and not self.delete_orphans)

    def report(self) -> dict[str, Any]:
        return {
            "enable": [vars_of(c) for c in self.enable],
            "missing": [vars_of(c) for c in self.missing],
            "orphans": self.orphans,
            "delete_orphans": self.delete_orphans,
        }


def vars_of(connection: Connection) -> dict[str, str]:
    return {
        "provider_name": connection.provider_name,
        "tenant_id": connection.tenant_id,
        "cell": connection.cell,
    }


def plan_for(
    connections: list[Connection], pool: list[str], on_client: list[str], *, delete_orphans: bool
) -> Plan:
    in_pool, enabled = set(pool), set(on_client)
    known = {connection.provider_name for connection in connections}
    return Plan(
        enable=[c for c in connections if c.provider_name in in_pool and c.provider_name not in enabled],
        missing=[c for c in connections if c.provider_name not in in_pool],
        orphans=sorted(n for n in in_pool if CONNECTION_PROVIDER.fullmatch(n) and n not in known),
        delete_orphans=delete_orphans,
    )


def apply_plan(cognito: CognitoFederation, plan: Plan) -> None:
    """One UpdateUserPoolClient for the whole provider list, then each deleted orphan's provider."""
    gone = set(plan.orphans) if plan.delete_orphans else set()
    added = [c.provider_name for c in plan.enable]
    if added or gone & set(cognito.client_providers()):
        cognito.change_client_providers(
            lambda current: [n for n in current if n not in gone] + [n for n in added if n not in current]
        )
    for name in sorted(gone):
        cognito.delete_provider(name)


@contextmanager
def locked_connections(targets: Mapping[str, str]) -> Iterator[list[Connection]]:
    """Every cell's connections, read while this holds the API's app-client lock in each cell."""
    with ExitStack() as stack:
        found: list[Connection] = []
        for cell, url in targets.items():
            conn = stack.enter_context(psycopg.connect(url, row_factory=dict_row, connect_timeout=10))
            stack.enter_context(conn.transaction())
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (APP_CLIENT_LOCK,))
            rows = conn.execute(
                "SELECT provider_name, tenant_id::text AS tenant_id FROM sso_connections ORDER BY provider_name"
            ).fetchall()
            found.extend(Connection(row["provider_name"], row["tenant_id"], cell) for row in rows)
        yield found


def federation_for(args: argparse.Namespace) -> CognitoFederation:
    """The user pool and app client: the running local stack's (`--local`) or the deployed stack's outputs."""
    if args.local and args.env:
        raise TargetError("give --env or --local, not both")
    if args.local:
        from local.aws import CREDENTIALS
        from local.state import REGION, StackState

        state = StackState.load()
        for name, value in CREDENTIALS.items():  # moto takes any; the stack's own when none are set
            os.environ.setdefault(name, value)
        if not state.sso_user_pool_id or not state.sso_app_client_id:
            raise TargetError("the local stack has no SSO user pool; restart it with `make dev`")
        return CognitoFederation(
            user_pool_id=state.sso_user_pool_id,
            app_client_id=state.sso_app_client_id,
            secret_prefix="",
            region=REGION,
            endpoint_url=state.moto_url,
        )
    if not args.env:
        raise TargetError("pass --env dev|prod (the deployed user pool) or --local")
    target = deployment(args.env, region=args.region)
    return CognitoFederation(
        user_pool_id=target.output("UserPoolId"),
        app_client_id=target.output("UserPoolClientId"),
        secret_prefix="",
        region=target.config.region,
    )


def print_plan(plan: Plan, *, dry_run: bool) -> None:
    verb = "would" if dry_run else "did"
    for c in plan.enable:
        print(f"enable   {c.provider_name}  tenant {c.tenant_id} ({c.cell}): {verb} add it to the app client")
    for c in plan.missing:
        print(
            f"missing  {c.provider_name}  tenant {c.tenant_id} ({c.cell}): no such provider in the user pool; "
            "the tenant deletes the connection and registers it again"
        )
    for name in plan.orphans:
        if plan.delete_orphans:
            print(f"orphan   {name}  no connection row: {verb} delete the provider")
        else:
            print(f"orphan   {name}  no connection row: kept (pass --delete-orphans to delete it)")
    if not (plan.enable or plan.missing or plan.orphans):
        print("nothing to do: every connection's provider is in the user pool and on the app client")


def run_reconcile(args: argparse.Namespace) -> int:
    try:
        targets = owner_urls(args)
        cognito = federation_for(args)
    except (TargetError, DeploymentError, FileNotFoundError) as exc:
        print(f"saas sso reconcile: {exc}", file=sys.stderr)
        return BAD_TARGET
    try:
        with locked_connections(targets) as connections:
            plan = plan_for(
                connections,
                cognito.list_providers(),
                cognito.client_providers(),
                delete_orphans=args.delete_orphans,
            )
            if plan.changes and not args.dry_run:
                apply_plan(cognito, plan)
    except (IdentityProviderError, psycopg.Error) as exc:
        detail = exc.detail if isinstance(exc, IdentityProviderError) else str(exc).strip()
        print(f"saas sso reconcile: {detail}; nothing after that call was changed", file=sys.stderr)
        return CALL_FAILED
    if args.json:
        print(json.dumps({**plan.report(), "dry_run": args.dry_run}, indent=2))
    else:
        print_plan(plan, dry_run=args.dry_run)
    if args.dry_run and plan.changes:
        return DRIFT_LEFT
    return IN_SYNC if plan.settled else DRIFT_LEFT


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sso", help="per-tenant SSO: verified domains, Cognito drift")
    commands = parser.add_subparsers(dest="sso_command", required=True)
    check = commands.add_parser(
        "check-domain",
        help="show the _saas-verification TXT record of a domain (exit 1 if --token is missing)",
    )
    check.add_argument("domain", help="the e-mail domain, e.g. acme.example")
    check.add_argument(
        "--token", help="the claim's token (or its whole saas-verification= value) to look for"
    )
    check.add_argument("--json", action="store_true", help="print a JSON report")
    check.set_defaults(handler=run_check)
    reconcile = commands.add_parser(
        "reconcile",
        help="put the tenants' SSO providers back on the app client (after a cdk deploy); report orphans",
    )
    add_cell_arguments(reconcile)
    reconcile.add_argument("--env", choices=("dev", "prod"), help="the deployed environment's user pool")
    reconcile.add_argument("--region", help="override the environment's home region")
    reconcile.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    reconcile.add_argument(
        "--delete-orphans",
        action="store_true",
        help="delete connection-named providers that no tenant's connection has",
    )
    reconcile.add_argument("--json", action="store_true", help="print the plan as JSON")
    reconcile.set_defaults(handler=run_reconcile)
