"""`saas dev` (the local stack), `saas dev info` (how to reach its parts), `saas dev txt` (a TXT record in its DNS)
and `saas token` (dev IdP tokens)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from local.dns import ZONE_FILE
from local.state import DEFAULT_ROOT, LOCAL_WEBHOOK_SECRET, ROOT_ENV, STATE_FILE, StackState


def run_dev(args: argparse.Namespace) -> int:
    from local.aws import QueueTimings
    from local.stack import LocalStack, StackError, StackOptions

    options = StackOptions(
        root=Path(args.root),
        port=args.port,
        postgres_port=args.postgres_port,
        moto_port=args.moto_port,
        database_url=os.environ.get("DATABASE_URL") or None,
        webhook_secret=os.environ.get("STRIPE_WEBHOOK_SECRET") or LOCAL_WEBHOOK_SECRET,
        stripe_api_key=os.environ.get("STRIPE_API_KEY") or None,
        stripe_api_base=os.environ.get("STRIPE_API_BASE") or None,
        schedule_compression=args.schedule_compression,
        timings=QueueTimings(webhooks_visibility=args.visibility, job_timeout=args.job_timeout),
        color=not args.no_color and sys.stdout.isatty(),
    )
    stack = LocalStack(options)
    signal.signal(signal.SIGINT, lambda *_: stack.request_stop())
    signal.signal(signal.SIGTERM, lambda *_: stack.request_stop())
    try:
        state = stack.start()
        saas = saas_command()
        print(
            f"\nLocal stack on {state.gateway_url}  (status: {state.gateway_url}/_local/status)\n"
            f"URLs, database URLs, webhook signing secret, dev IdP:  {saas} dev info\n"
            f"Get a token:  {saas} token --email alice@example.com --tenant acme\n"
            "Walk-through: docs/local-stack.md.  Stop with Ctrl-C.\n",
            flush=True,
        )
        stack.run_until_stopped()
    except StackError as exc:
        print(f"saas dev: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    return 0


def saas_command() -> str:
    """How to run `saas` as written: the script next to this interpreter (`.venv/bin/saas` from the
    repository root), since `make dev` does not put the virtualenv on PATH."""
    script = Path(sys.executable).parent / "saas"
    if not script.exists():
        return "saas"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def stack_info(state: StackState) -> dict[str, Any]:
    """Everything a developer needs to reach the running stack's parts, grouped for printing."""
    return {
        "gateway": {"url": state.gateway_url, "status": f"{state.gateway_url}/_local/status"},
        "database": {
            "app": state.database_url,
            "owner": state.owner_database_url,
            "admin": state.admin_database_url,
        },
        "aws": {
            "endpoint_url": state.moto_url,
            "webhooks_queue": state.webhooks.url,
            "webhooks_dlq": state.webhooks.dlq_url,
            "jobs_queue": state.jobs.url,
            "jobs_dlq": state.jobs.dlq_url,
            "reports_bucket": state.reports_bucket,
            "audit_log_bucket": state.audit_log_bucket,
            "rate_limit_table": state.rate_limit_table,
            "ses_sender": state.ses_sender,
        },
        "stripe": {
            "webhook_signing_secret": state.stripe_webhook_secret,
            "webhook_secret_name": state.stripe_webhook_secret_name,
            "webhook_url": f"{state.gateway_url}/webhooks/stripe",
            "api_base": state.stripe_api_base,
        },
        "dev_idp": {
            "issuer": state.idp_issuer,
            "jwks": f"{state.idp_issuer}/.well-known/jwks.json",
            "client_id": state.idp_client_id,
            "signing_key": state.idp_key_path,
        },
        "sessions": {"issuer": state.session_issuer, "signing_key": state.session_key_path},
        "dns": {
            "server": f"127.0.0.1:{state.dns_port}",
            "zone_file": str(Path(state.root) / ZONE_FILE),
        },
        "state_file": str(Path(state.root) / STATE_FILE),
    }


NOTES = {
    "database.app": "saas_app: the functions' role, forced RLS",
    "database.owner": "saas_owner: migrations (saas migrate)",
    "database.admin": "cluster administrator: psql, every tenant's rows",
    "aws.endpoint_url": "moto: set AWS_ENDPOINT_URL to use it with boto3 / the aws CLI",
    "dns.server": "TXT records for SSO domain verification (saas dev txt NAME VALUE)",
    "stripe.webhook_signing_secret": "the receiver checks it; STRIPE_WEBHOOK_SECRET=whsec_... make dev sets another",
}


def run_info(args: argparse.Namespace) -> int:
    import httpx

    try:
        state = StackState.load(Path(args.root))
    except FileNotFoundError as exc:
        print(f"saas dev info: {exc}", file=sys.stderr)
        return 1
    info = stack_info(state)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for group, values in info.items():
            if not isinstance(values, dict):
                print(f"{group}: {values}")
                continue
            print(f"{group}:")
            for name, value in values.items():
                note = NOTES.get(f"{group}.{name}")
                print(f"  {name:<24} {value}" + (f"    # {note}" if note else ""))
    try:
        httpx.get(f"{state.gateway_url}/_local/ping", timeout=2).raise_for_status()
    except httpx.HTTPError:
        print(f"saas dev info: the gateway at {state.gateway_url} is not answering", file=sys.stderr)
        return 1
    return 0


def run_txt(args: argparse.Namespace) -> int:
    from local.dns import publish, zone_path

    try:
        state = StackState.load(Path(args.root))
    except FileNotFoundError as exc:
        print(f"saas dev txt: {exc}", file=sys.stderr)
        return 2
    values = publish(zone_path(Path(state.root)), args.name, args.value)
    print(f"{args.name.rstrip('.').lower()} TXT (127.0.0.1:{state.dns_port}): {len(values)} value(s)")
    for value in values:
        print(f"  {value}")
    return 0


def _ensure_membership(client: Any, token: str, tenant: str) -> str | None:
    """Sign up (tenant + owner) unless the tenant exists; None when the user can sign in to it."""
    created = client.post(
        "/api/v1/signup", json={"id_token": token, "tenant_name": tenant.title(), "tenant_slug": tenant}
    )
    if created.status_code in (200, 201):
        return None
    session = client.post("/api/v1/sessions", json={"id_token": token, "tenant": tenant})
    if session.status_code in (200, 201):
        return None
    return f"sign-up answered {created.status_code}, sign-in answered {session.status_code}: {session.text}"


def run_token(args: argparse.Namespace) -> int:
    import httpx

    from local.idp import DevIdp

    try:
        state = StackState.load(Path(args.root))
    except FileNotFoundError as exc:
        print(f"saas token: {exc}", file=sys.stderr)
        return 1
    idp = DevIdp(state.idp_issuer, Path(state.idp_key_path), state.idp_client_id)
    token = idp.issue(args.email, name=args.name, provider=args.sso_provider, groups=args.group or ())
    # A federated token signs in through its SSO connection (POST /api/v1/sessions provisions the member).
    if args.tenant and not args.sso_provider:
        with httpx.Client(base_url=state.gateway_url, timeout=30) as client:
            try:
                problem = _ensure_membership(client, token, args.tenant)
            except httpx.HTTPError as exc:
                print(
                    f"saas token: the gateway at {state.gateway_url} is not answering: {exc}", file=sys.stderr
                )
                return 1
        if problem:
            print(f"saas token: {args.email} cannot use tenant {args.tenant!r}: {problem}", file=sys.stderr)
            return 1
    print(token)
    return 0


def register(subparsers: Any) -> None:
    root_default = os.environ.get(ROOT_ENV, str(DEFAULT_ROOT))
    dev = subparsers.add_parser("dev", help="run the local stack on http://127.0.0.1:8000")
    dev.add_argument("--root", default=root_default, help="state directory (default .local)")
    dev.add_argument("--port", type=int, default=8000, help="gateway port")
    dev.add_argument("--postgres-port", type=int, default=5433, help="port of the local cluster")
    dev.add_argument("--moto-port", type=int, default=0, help="moto server port (default: a free one)")
    dev.add_argument("--visibility", type=int, default=10, help="webhooks queue visibility timeout, s")
    dev.add_argument("--job-timeout", type=int, default=10, help="jobs function timeout, s (min 10)")
    dev.add_argument(
        "--schedule-compression", type=float, default=120.0, help="schedules fire this many times faster"
    )
    dev.add_argument("--no-color", action="store_true", help="plain log lines")
    dev.set_defaults(handler=run_dev)
    dev_commands = dev.add_subparsers(dest="dev_command", metavar="{info,txt}")
    info = dev_commands.add_parser(
        "info", help="print the running stack's URLs, database URLs, webhook signing secret and dev IdP"
    )
    info.add_argument("--root", default=root_default, help="state directory of the running stack")
    info.add_argument("--json", action="store_true", help="one JSON object instead of text")
    info.set_defaults(handler=run_info)

    txt = dev_commands.add_parser(
        "txt", help="publish a TXT record in the local stack's DNS (SSO domain verification)"
    )
    txt.add_argument("name", help="e.g. _saas-verification.acme.example")
    txt.add_argument("value", help="e.g. saas-verification=<token>")
    txt.add_argument("--root", default=root_default, help="state directory of the running stack")
    txt.set_defaults(handler=run_txt)

    token = subparsers.add_parser("token", help="print a dev IdP token (creates the user and tenant)")
    token.add_argument("--email", required=True)
    token.add_argument("--tenant", help="tenant slug; signed up with this user as owner when new")
    token.add_argument("--name", help="display name (default: the email's local part)")
    token.add_argument(
        "--sso-provider",
        help="issue a federated token through this SSO connection's provider_name (docs/identity.md)",
    )
    token.add_argument("--group", action="append", help="an IdP group of the federated user (repeatable)")
    token.add_argument("--root", default=root_default, help="state directory of the running stack")
    token.set_defaults(handler=run_token)
