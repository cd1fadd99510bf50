"""A deployed environment as the operator commands see it: its `cdk.json` block and its stacks' outputs.

`saas stripe connect`, `saas ses dkim` and `saas doctor` take `--env dev|prod`; the environment block is
validated by the same `infra.config.load_config` that synth uses (region, stack prefix, SES identity),
and the service stack's outputs name what the deploy created (the Stripe secret, the webhook URL).
AWS credentials come from the usual chain (`AWS_PROFILE`, ...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from infra.config import EDGE_REGION, EnvironmentConfig, load_config

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


class DeploymentError(Exception):
    """The environment or its stacks are not what the command needs; the message says what to do."""


def environment_config(
    env: str, *, cdk_json: Path = CDK_JSON, region: str | None = None
) -> EnvironmentConfig:
    try:
        context = json.loads(cdk_json.read_text())["context"]
    except (OSError, ValueError, KeyError) as exc:
        raise DeploymentError(f"cannot read the environments from {cdk_json}: {exc}") from exc
    overrides = {"region": region} if region else {}
    try:
        return load_config(
            {"env": env, "environments": context.get("environments", {}), **overrides},
            default_account=None,
            default_region=None,
        )
    except ValueError as exc:
        raise DeploymentError(str(exc)) from exc


@dataclass
class Deployment:
    config: EnvironmentConfig

    def client(self, service: str, *, region: str | None = None) -> Any:
        import boto3

        return boto3.client(service, region_name=region or self.config.region)  # type: ignore[call-overload]

    @property
    def service_stack(self) -> str:
        return f"{self.config.stack_prefix}-service"

    @property
    def regions(self) -> tuple[str, ...]:
        """Where CDK deploys: the home region and CloudFront's (edge functions, WAF)."""
        return tuple(dict.fromkeys((self.config.region, EDGE_REGION)))

    @cached_property
    def outputs(self) -> dict[str, str]:
        from botocore.exceptions import ClientError

        try:
            stacks = self.client("cloudformation").describe_stacks(StackName=self.service_stack)["Stacks"]
        except ClientError as exc:
            raise DeploymentError(
                f"stack {self.service_stack} is not deployed in {self.config.region} "
                f"({exc.response['Error']['Message']}); run `npx cdk deploy --all -c env={self.config.name}` first"
            ) from exc
        return {item["OutputKey"]: item["OutputValue"] for item in stacks[0].get("Outputs", [])}

    def output(self, key: str) -> str:
        value = self.outputs.get(key)
        if not value:
            raise DeploymentError(f"stack {self.service_stack} has no {key} output; deploy the current code")
        return value


def deployment(env: str, *, region: str | None = None) -> Deployment:
    return Deployment(environment_config(env, region=region))
