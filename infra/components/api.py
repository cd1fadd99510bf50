"""The origin API: FastAPI on Lambda (x86_64, in the VPC, through RDS Proxy with IAM auth), a Function
URL with AWS_IAM auth that only CloudFront's OAC can call, and the DynamoDB rate-limit table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.components.service_function import ServiceFunction
from infra.config import EnvironmentConfig
from infra.packaging import REPO_ROOT, stage_tree


def function_code_dir(name: str) -> Path:
    """A function's code root is `functions/<name>` (it holds the `<name>` package); staged with bytecode."""
    return stage_tree(f"function-{name}", sources={name: REPO_ROOT / "functions" / name / name})


def function_code(name: str) -> lambda_.Code:
    return lambda_.Code.from_asset(str(function_code_dir(name)))


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        layers: Sequence[lambda_.ILayerVersion],
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.rate_limit_table = dynamodb.TableV2(
            self,
            "RateLimits",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            time_to_live_attribute="expires_at",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.DESTROY,  # counters only: nothing to keep
        )
        self.service = ServiceFunction(
            self,
            "Handler",
            code=function_code("api"),
            handler="api.main.handler",
            service="api",
            description="Origin API (FastAPI + Mangum) behind CloudFront",
            config=config,
            layers=layers,
            memory_mb=config.api_memory_mb,
            timeout=Duration.seconds(config.api_timeout_seconds),
            reserved_concurrency=config.concurrency.api,
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[security_group],
            environment={
                "RATE_LIMIT_TABLE": self.rate_limit_table.table_name,
                "METRICS_PER_ROUTE": "true" if config.per_route_metrics else "false",
                **environment,
            },
        )
        self.function = self.service.function
        self.rate_limit_table.grant(self.function, "dynamodb:UpdateItem")
        # The alias is what CloudFront calls: it moves only after the deploy-time migration succeeded.
        self.alias = lambda_.Alias(self, "Live", alias_name="live", version=self.function.current_version)
        self.url = self.alias.add_function_url(
            auth_type=lambda_.FunctionUrlAuthType.AWS_IAM, invoke_mode=lambda_.InvokeMode.BUFFERED
        )
