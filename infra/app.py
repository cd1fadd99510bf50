"""CDK entry point (`cdk.json`: `python -m infra.app`): context -> typed config -> stacks, with cdk-nag
(AwsSolutions, the v3 `Validations` API) over the whole app."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Aspects, Environment, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from infra.components.checkov import CdkProviderSkips
from infra.config import EDGE_REGION, EnvironmentConfig, load_config
from infra.stacks.data_stack import DataStack
from infra.stacks.edge_monitoring_stack import EdgeMonitoringStack
from infra.stacks.edge_stack import EdgeStack
from infra.stacks.service_stack import ServiceStack

CONTEXT_KEYS = (
    "env",
    "environments",
    "account",
    "region",
    "bundle",
    "prefix",
    "public_base_url",
    "alarm_email",
    "alarm_topic_arn",
    "edge_alarm_topic_arn",
)


def build_stacks(
    app: App, config: EnvironmentConfig
) -> tuple[EdgeStack, DataStack, ServiceStack, EdgeMonitoringStack]:
    home = Environment(account=config.account, region=config.region)
    prefix = config.stack_prefix
    edge = EdgeStack(
        app,
        f"{prefix}-edge",
        config=config,
        env=Environment(account=config.account, region=EDGE_REGION),
        description="Lambda@Edge auth/flags functions and the CloudFront WAF (us-east-1)",
    )
    data = DataStack(
        app,
        f"{prefix}-data",
        config=config,
        env=home,
        termination_protection=config.retain_data,
        description="VPC, PostgreSQL and RDS Proxy",
    )
    service = ServiceStack(
        app,
        f"{prefix}-service",
        config=config,
        data=data,
        edge=edge,
        env=home,
        description="API, webhooks, jobs, identity, CloudFront and monitoring",
    )
    # Values cross regions through SSM parameters each writer owns (decision 0050), so order is explicit.
    service.add_stack_dependency(edge)
    edge_monitoring = EdgeMonitoringStack(
        app,
        f"{prefix}-edge-monitoring",
        config=config,
        edge=edge,
        service=service,
        env=Environment(account=config.account, region=EDGE_REGION),
        description="CloudFront and Lambda@Edge alarms (us-east-1)",
    )
    edge_monitoring.add_stack_dependency(service)
    for stack in (edge, data, service, edge_monitoring):
        Aspects.of(stack).add(CdkProviderSkips())
        for key, value in (("app", "saas-platform"), ("environment", config.name)):
            # CloudFormation has no Tags on proxy target groups although CDK marks them taggable.
            Tags.of(stack).add(key, value, exclude_resource_types=["AWS::RDS::DBProxyTargetGroup"])
    return edge, data, service, edge_monitoring


def create_app(context: Mapping[str, Any] | None = None, *, outdir: str | None = None) -> App:
    """The whole app; `context` (tests) is merged over what the CLI passed in."""
    app = App(context=dict(context) if context else None, outdir=outdir)
    raw = {key: app.node.try_get_context(key) for key in CONTEXT_KEYS}
    config = load_config(
        raw,
        default_account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
        default_region=os.environ.get("CDK_DEFAULT_REGION"),
    )
    build_stacks(app, config)
    enable_nag(app)
    return app


def enable_nag(app: App) -> None:
    """AwsSolutions over every stack; an unacknowledged finding fails synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def main() -> None:
    create_app().synth()


if __name__ == "__main__":
    main()
