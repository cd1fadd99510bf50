"""`saas doctor --env dev`: what a deployed environment still lacks, each with the command that fixes it.

Checks, in the order a fresh account meets them: credentials; CDK bootstrap in the home region and in
us-east-1 (CloudFront's region: the edge stack lives there); the three stacks deployed; the Stripe secret
filled (a real key, a `whsec_` signing secret); the Stripe webhook endpoint for the deployed URL with the
events the processor handles; the SES identity verified. Read-only: it changes nothing. Exit status 1
when anything is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from saas_cli.deployment import Deployment, DeploymentError, deployment
from saas_cli.stripe_connect import (
    ENDPOINT_ID_KEY,
    handled_events,
    key_is_real,
    signing_secrets,
    stripe_client,
)

BOOTSTRAP_STACK = "CDKToolkit"
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"  # the default qualifier
# Synthesized templates refuse bootstrap versions 1-5 (their CheckBootstrapVersion rule).
MIN_BOOTSTRAP_VERSION = 6
# The sandbox's daily sending quota (SES developer guide, "Request production access").
SES_SANDBOX_DAILY_QUOTA = 200
READY = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = "ok     " if self.ok else "MISSING"
        return f"{mark} {self.name}: {self.detail}" + (
            f"\n        fix: {self.fix}" if not self.ok and self.fix else ""
        )


def _error_message(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Message", exc))
    return str(exc)


class Doctor:
    def __init__(self, target: Deployment, *, client_for: Callable[[str], Any] = stripe_client) -> None:
        self.target = target
        self.client_for = client_for
        self.account: str | None = None

    def credentials(self) -> Check:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.account = self.target.client("sts").get_caller_identity()["Account"]
        except (BotoCoreError, ClientError) as exc:
            return Check(
                "AWS credentials",
                False,
                _error_message(exc),
                "export AWS_PROFILE=<profile> (or aws sso login)",
            )
        return Check("AWS credentials", True, f"account {self.account}")

    def bootstrap(self, region: str) -> Check:
        from botocore.exceptions import BotoCoreError, ClientError

        name = f"CDK bootstrap in {region}"
        fix = f"npx cdk bootstrap aws://{self.account or '<account>'}/{region}"
        try:
            stacks = self.target.client("cloudformation", region=region).describe_stacks(
                StackName=BOOTSTRAP_STACK
            )
            status = stacks["Stacks"][0]["StackStatus"]
            version = int(
                self.target.client("ssm", region=region).get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)[
                    "Parameter"
                ]["Value"]
            )
        except (BotoCoreError, ClientError, ValueError) as exc:
            return Check(name, False, f"not bootstrapped ({_error_message(exc)})", fix)
        if status not in READY:
            return Check(name, False, f"{BOOTSTRAP_STACK} is {status}", fix)
        if version < MIN_BOOTSTRAP_VERSION:
            return Check(name, False, f"bootstrap version {version} < {MIN_BOOTSTRAP_VERSION}", fix)
        return Check(name, True, f"version {version}")

    def stacks(self) -> list[Check]:
        from botocore.exceptions import BotoCoreError, ClientError

        prefix = self.target.config.stack_prefix
        checks = []
        fix = f"npx cdk deploy --all -c env={self.target.config.name}"
        for suffix, region in (
            ("edge", "us-east-1"),
            ("data", self.target.config.region),
            ("service", self.target.config.region),
        ):
            name = f"stack {prefix}-{suffix} ({region})"
            try:
                stack = self.target.client("cloudformation", region=region).describe_stacks(
                    StackName=f"{prefix}-{suffix}"
                )
                status = stack["Stacks"][0]["StackStatus"]
            except (BotoCoreError, ClientError) as exc:
                checks.append(Check(name, False, f"not deployed ({_error_message(exc)})", fix))
                continue
            checks.append(Check(name, status in READY, status, fix))
        return checks

    def stored_secret(self) -> tuple[Check, dict[str, Any] | None]:
        from botocore.exceptions import BotoCoreError, ClientError

        name = "Stripe secret filled"
        fix = f"saas stripe connect --env {self.target.config.name} --api-key-stdin"
        try:
            arn = self.target.output("StripeSecretArn")
            stored = json.loads(
                self.target.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
            )
        except DeploymentError as exc:
            return Check(name, False, str(exc), fix), None
        except (BotoCoreError, ClientError, ValueError) as exc:
            return Check(name, False, _error_message(exc), fix), None
        lacking = [
            what
            for what, present in (
                ("a Stripe API key", key_is_real(stored.get("api_key"))),
                ("a whsec_ webhook signing secret", bool(signing_secrets(stored.get("webhook_secret")))),
            )
            if not present
        ]
        if lacking:
            return Check(name, False, f"{arn} lacks {' and '.join(lacking)}", fix), stored
        rotating = len(signing_secrets(stored.get("webhook_secret"))) > 1
        return Check(
            name, True, "key and signing secret" + (" (rotation in progress)" if rotating else "")
        ), stored

    def webhook_endpoint(self, stored: dict[str, Any] | None) -> Check:
        from stripe import StripeError

        name = "Stripe webhook endpoint"
        fix = f"saas stripe connect --env {self.target.config.name}"
        if stored is None or not key_is_real(stored.get("api_key")):
            return Check(name, False, "cannot ask Stripe without a key in the secret", fix)
        url = self.target.output("StripeWebhookEndpoint")
        try:
            listed = (
                self.client_for(stored["api_key"])
                .v1.webhook_endpoints.list({"limit": 100})
                .auto_paging_iter()
            )
            endpoints = [endpoint for endpoint in listed if endpoint.url == url]
        except StripeError as exc:
            return Check(name, False, f"Stripe answered: {exc.user_message or exc}", fix)
        connected = [endpoint for endpoint in endpoints if endpoint.id == stored.get(ENDPOINT_ID_KEY)]
        if not connected:
            return Check(name, False, f"no endpoint for {url} whose secret is stored", fix)
        endpoint = connected[0]
        if sorted(endpoint.enabled_events) != handled_events():
            return Check(name, False, f"{endpoint.id} does not send exactly the handled events", fix)
        if endpoint.status != "enabled":
            return Check(
                name,
                False,
                f"{endpoint.id} is {endpoint.status}",
                "enable it in Stripe (Developers → Webhooks)",
            )
        return Check(name, True, f"{endpoint.id} → {url}")

    def ses_identity(self) -> Check:
        from botocore.exceptions import BotoCoreError, ClientError

        from saas_cli.ses import dkim_status

        identity = self.target.config.ses_identity
        name = f"SES identity {identity}"
        fix = f"saas ses dkim --env {self.target.config.name} --route53 (or publish the printed records)"
        try:
            status = dkim_status(self.target)
        except DeploymentError as exc:
            return Check(name, False, str(exc), f"npx cdk deploy --all -c env={self.target.config.name}")
        except (BotoCoreError, ClientError) as exc:
            return Check(name, False, _error_message(exc), fix)
        if not status.verified:
            return Check(name, False, f"not verified (DKIM {status.dkim_status})", fix)
        return Check(name, True, "verified")

    def ses_production_access(self) -> Check:
        """The SES sandbox (200 messages a day, verified recipients only) shows as that send quota; the
        SESv2 GetAccount flag says the same but is not in every SDK stand-in, the quota is."""
        from botocore.exceptions import BotoCoreError, ClientError

        name = "SES production access"
        fix = (
            "request production access: aws sesv2 put-account-details --production-access-enabled"
            " --mail-type TRANSACTIONAL --website-url <your site> --use-case-description <how you send>"
            f" --region {self.target.config.region}"
        )
        try:
            quota = self.target.client("ses").get_send_quota()
        except (BotoCoreError, ClientError) as exc:
            return Check(name, False, _error_message(exc), fix)
        per_day = int(quota["Max24HourSend"])
        if per_day > SES_SANDBOX_DAILY_QUOTA:
            return Check(name, True, f"{per_day:,} messages per 24 h")
        if self.target.config.name != "prod":
            return Check(name, True, "sandbox (verified recipients only, 200 a day): enough for dev")
        return Check(name, False, "sandbox: mail reaches verified recipients only, 200 a day", fix)

    def run(self) -> list[Check]:
        checks = [self.credentials()]
        checks += [self.bootstrap(region) for region in self.target.regions]
        checks += self.stacks()
        secret, stored = self.stored_secret()
        checks += [secret, self.webhook_endpoint(stored), self.ses_identity(), self.ses_production_access()]
        return checks


def run_doctor(args: argparse.Namespace) -> int:
    try:
        target = deployment(args.env, region=args.region)
    except DeploymentError as exc:
        print(f"saas doctor: {exc}", file=sys.stderr)
        return 1
    checks = Doctor(target).run()
    for check in checks:
        print(check.line())
    missing = [check for check in checks if not check.ok]
    print(
        f"{len(checks) - len(missing)}/{len(checks)} in place"
        + (f"; {len(missing)} missing" if missing else "")
    )
    return 1 if missing else 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("doctor", help="check a deployed environment's prerequisites")
    parser.add_argument("--env", required=True, choices=("dev", "prod"))
    parser.add_argument("--region", help="override the environment's home region")
    parser.set_defaults(handler=run_doctor)
