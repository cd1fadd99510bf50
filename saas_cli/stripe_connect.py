"""`saas stripe connect --env dev`: Stripe keys into the stack's secret, the webhook endpoint created for
the deployed URL with exactly the events the processor handles, and its signing secret stored.

The key comes from `--api-key-stdin` (one line; not an argument, so it stays out of shell history), else
`STRIPE_API_KEY`, else the one already stored. Everything is checked before anything is written: the key's
shape and mode (live for prod, test otherwise: the receiver refuses the other mode's events), Stripe
accepting it (`GET /v1/account`), the endpoint's API version. A second run finds everything in place and
changes nothing. Stripe returns an endpoint's signing secret only when it creates it, so rotation makes a
second endpoint: `--rotate` creates it and stores `whsec_new,whsec_old` (the receiver accepts both; Stripe
delivers to both, and the event id de-duplicates), `--finish-rotation` deletes the old endpoint and keeps
only the new secret.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from saas_cli.deployment import Deployment, DeploymentError, deployment

KEY_PATTERN = re.compile(r"(sk|rk)_(test|live)_[A-Za-z0-9]{8,255}")
SIGNING_SECRET_PATTERN = re.compile(r"whsec_[A-Za-z0-9+/=_-]{8,255}")
ENDPOINT_ID_KEY = "webhook_endpoint_id"
PREVIOUS_ENDPOINT_ID_KEY = "previous_webhook_endpoint_id"


class ConnectError(Exception):
    """Refused before any change; the message says why and what to do."""


def handled_events() -> list[str]:
    """The event types the processor has a handler for: exactly what the endpoint subscribes to."""
    from webhooks.billing import HANDLERS

    return sorted(HANDLERS)


def stripe_client(api_key: str) -> Any:
    import stripe

    from saascore.billing.stripe_api import STRIPE_API_VERSION

    base = os.environ.get("STRIPE_API_BASE")
    return stripe.StripeClient(
        api_key, stripe_version=STRIPE_API_VERSION, base_addresses={"api": base} if base else {}
    )


def signing_secrets(value: Any) -> list[str]:
    """The stored `whsec_…` secrets (comma-separated during a rotation); [] while the placeholder is there."""
    secrets = [part.strip() for part in str(value or "").split(",") if part.strip()]
    return secrets if secrets and all(SIGNING_SECRET_PATTERN.fullmatch(s) for s in secrets) else []


def key_is_real(value: Any) -> bool:
    return isinstance(value, str) and KEY_PATTERN.fullmatch(value) is not None


@dataclass
class Plan:
    """What one run will do; `changes` empty means it is all in place."""

    secret: dict[str, Any]
    changes: list[str] = field(default_factory=list)
    created_endpoint: str | None = None
    endpoint_to_delete: str | None = None


class Connector:
    def __init__(
        self,
        target: Deployment,
        *,
        client_for: Callable[[str], Any] = stripe_client,
        events: list[str] | None = None,
    ) -> None:
        self.target = target
        self.client_for = client_for
        self.events = events if events is not None else handled_events()
        self.secrets = target.client("secretsmanager")

    def stored(self, secret_arn: str) -> dict[str, Any]:
        value = self.secrets.get_secret_value(SecretId=secret_arn)["SecretString"]
        try:
            stored = json.loads(value)
        except ValueError as exc:
            raise ConnectError(f"{secret_arn} does not hold a JSON object; fix or delete its value") from exc
        if not isinstance(stored, dict):
            raise ConnectError(f"{secret_arn} does not hold a JSON object; fix or delete its value")
        return stored

    def _checked_key(self, api_key: str | None, stored: dict[str, Any]) -> str:
        key = api_key or (stored.get("api_key") if key_is_real(stored.get("api_key")) else None)
        if key is None:
            raise ConnectError("no Stripe key: pipe one to --api-key-stdin (or set STRIPE_API_KEY)")
        if not key_is_real(key):
            raise ConnectError("that is not a Stripe secret or restricted key (sk_test_…, sk_live_…, rk_…)")
        live = "_live_" in key
        if live != (self.target.config.name == "prod"):
            wanted = "live" if self.target.config.name == "prod" else "test"
            raise ConnectError(
                f"environment {self.target.config.name} takes a {wanted}-mode key: its receiver refuses "
                f"{'test' if live else 'live'}-mode events"
            )
        return key

    def plan(self, *, api_key: str | None, rotate: bool, finish_rotation: bool) -> tuple[Plan, Any, str]:
        from stripe import AuthenticationError, PermissionError, StripeError

        from saascore.billing.stripe_api import STRIPE_API_VERSION

        secret_arn = self.target.output("StripeSecretArn")
        url = self.target.output("StripeWebhookEndpoint")
        stored = self.stored(secret_arn)
        key = self._checked_key(api_key, stored)
        client = self.client_for(key)
        try:
            client.v1.accounts.retrieve_current()
            endpoints = list(client.v1.webhook_endpoints.list({"limit": 100}).auto_paging_iter())
        except (AuthenticationError, PermissionError) as exc:
            raise ConnectError(f"Stripe refused the key: {exc.user_message or exc}") from exc
        except StripeError as exc:
            raise ConnectError(f"Stripe could not be reached or answered an error: {exc}") from exc

        plan = Plan(secret=dict(stored))
        if stored.get("api_key") != key:
            plan.secret["api_key"] = key
            plan.changes.append("store the API key")
        ours = {e.id: e for e in endpoints if e.url == url}
        known = stored.get(ENDPOINT_ID_KEY)
        secrets = signing_secrets(stored.get("webhook_secret"))
        if finish_rotation:
            return self._finish(plan, stored, ours, secrets), client, secret_arn
        if rotate and stored.get(PREVIOUS_ENDPOINT_ID_KEY):
            raise ConnectError("a rotation is in progress: run --finish-rotation first")
        endpoint = ours.get(known) if known else None
        if endpoint is None and len(ours) == 1 and secrets and not known:
            endpoint = next(iter(ours.values()))  # made by hand earlier, its secret already stored
            plan.secret[ENDPOINT_ID_KEY] = endpoint.id
            plan.changes.append(f"record endpoint {endpoint.id}")
        if endpoint is None and ours:
            raise ConnectError(
                f"Stripe has endpoint(s) {sorted(ours)} for {url} whose signing secret is not stored; "
                "delete them in Stripe (Developers → Webhooks) and run this again"
            )
        if endpoint is not None and endpoint.api_version not in (None, STRIPE_API_VERSION) and not rotate:
            raise ConnectError(
                f"endpoint {endpoint.id} sends API version {endpoint.api_version}, the code reads "
                f"{STRIPE_API_VERSION}; run with --rotate to replace it"
            )
        if rotate and endpoint is None:
            raise ConnectError("nothing to rotate: no endpoint is connected yet (run without --rotate)")
        if endpoint is None or rotate:
            plan.changes.append(f"create the webhook endpoint for {url} ({len(self.events)} events)")
            plan.secret[PREVIOUS_ENDPOINT_ID_KEY] = endpoint.id if endpoint is not None else None
        elif sorted(endpoint.enabled_events) != self.events:
            plan.changes.append(
                f"set the events of {endpoint.id} to the {len(self.events)} the processor handles"
            )
        return plan, client, secret_arn

    def _finish(self, plan: Plan, stored: dict[str, Any], ours: dict[str, Any], secrets: list[str]) -> Plan:
        previous = stored.get(PREVIOUS_ENDPOINT_ID_KEY)
        if not previous or len(secrets) < 2:
            raise ConnectError("no rotation in progress: nothing to finish")
        plan.secret["webhook_secret"] = secrets[0]
        plan.secret.pop(PREVIOUS_ENDPOINT_ID_KEY, None)
        plan.changes.append(f"keep only the new signing secret; delete endpoint {previous}")
        plan.endpoint_to_delete = previous if previous in ours else None
        return plan

    def apply(self, plan: Plan, client: Any, secret_arn: str) -> None:
        from saascore.billing.stripe_api import STRIPE_API_VERSION

        url = self.target.output("StripeWebhookEndpoint")
        creating = any(change.startswith("create the webhook endpoint") for change in plan.changes)
        if creating:
            created = client.v1.webhook_endpoints.create(
                {
                    "url": url,
                    "enabled_events": self.events,
                    "api_version": STRIPE_API_VERSION,
                    "description": f"{self.target.config.stack_prefix} (saas stripe connect)",
                    "metadata": {"stack": self.target.service_stack},
                }
            )
            plan.created_endpoint = created.id
            old = signing_secrets(plan.secret.get("webhook_secret"))
            rotating = plan.secret.get(PREVIOUS_ENDPOINT_ID_KEY) is not None
            plan.secret["webhook_secret"] = ",".join(
                [created.secret, *old[:1]] if rotating else [created.secret]
            )
            plan.secret[ENDPOINT_ID_KEY] = created.id
            if not rotating:
                plan.secret.pop(PREVIOUS_ENDPOINT_ID_KEY, None)
        elif any(change.startswith("set the events") for change in plan.changes):
            client.v1.webhook_endpoints.update(plan.secret[ENDPOINT_ID_KEY], {"enabled_events": self.events})
        try:
            self.secrets.put_secret_value(
                SecretId=secret_arn, SecretString=json.dumps(plan.secret, sort_keys=True)
            )
        except Exception:
            # Stripe shows a new endpoint's secret only once: an endpoint whose secret is lost must go.
            if plan.created_endpoint is not None:
                client.v1.webhook_endpoints.delete(plan.created_endpoint)
            raise
        if plan.endpoint_to_delete is not None:
            client.v1.webhook_endpoints.delete(plan.endpoint_to_delete)


def connect(
    target: Deployment,
    *,
    api_key: str | None,
    rotate: bool = False,
    finish_rotation: bool = False,
    client_for: Callable[[str], Any] = stripe_client,
) -> list[str]:
    """Bring the secret and the endpoint in line; returns what changed ([] when nothing had to)."""
    connector = Connector(target, client_for=client_for)
    plan, client, secret_arn = connector.plan(api_key=api_key, rotate=rotate, finish_rotation=finish_rotation)
    if plan.changes:
        connector.apply(plan, client, secret_arn)
    return plan.changes


def run_connect(args: argparse.Namespace) -> int:
    api_key = sys.stdin.readline().strip() if args.api_key_stdin else os.environ.get("STRIPE_API_KEY")
    try:
        target = deployment(args.env, region=args.region)
        changes = connect(
            target, api_key=api_key or None, rotate=args.rotate, finish_rotation=args.finish_rotation
        )
    except (ConnectError, DeploymentError) as exc:
        print(f"saas stripe connect: {exc}. Nothing was changed.", file=sys.stderr)
        return 1
    if not changes:
        print(
            f"nothing to change: the key, the webhook endpoint for {target.output('StripeWebhookEndpoint')} "
            f"and its signing secret are in place in {target.output('StripeSecretArn')}"
        )
        return 0
    for change in changes:
        print(f"done: {change}")
    if args.rotate:
        print(
            "both signing secrets are accepted now; once Stripe delivers to the new endpoint, run --finish-rotation"
        )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    stripe_parser = subparsers.add_parser("stripe", help="connect a deployed environment to Stripe")
    commands = stripe_parser.add_subparsers(dest="stripe_command", required=True)
    parser = commands.add_parser(
        "connect", help="store the keys, create the webhook endpoint, store its secret"
    )
    parser.add_argument("--env", required=True, choices=("dev", "prod"))
    parser.add_argument("--region", help="override the environment's home region")
    parser.add_argument("--api-key-stdin", action="store_true", help="read the Stripe secret key from stdin")
    rotation = parser.add_mutually_exclusive_group()
    rotation.add_argument(
        "--rotate", action="store_true", help="new endpoint + secret; old secret still accepted"
    )
    rotation.add_argument(
        "--finish-rotation", action="store_true", help="delete the old endpoint and its secret"
    )
    parser.set_defaults(handler=run_connect)
