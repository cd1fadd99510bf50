"""Every origin Lambda's defaults in one place: arm64, Python 3.12, X-Ray, JSON logs with retention,
Powertools environment, optional VPC placement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import EnvironmentConfig

RUNTIME = lambda_.Runtime.PYTHON_3_12  # the deps layer is compiled for 3.12 (layers/deps/requirements.txt)
ARCHITECTURE = lambda_.Architecture.ARM_64
METRICS_NAMESPACE = "SaasPlatform"


class ServiceFunction(Construct):
    """One origin function; exposes `function` (and `log_group`) for grants, event sources and alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        handler: str,
        service: str,
        description: str,
        config: EnvironmentConfig,
        layers: Sequence[lambda_.ILayerVersion] = (),
        environment: Mapping[str, str] | None = None,
        memory_mb: int = 512,
        timeout: Duration | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        self.function = lambda_.Function(
            self,
            "Function",
            code=code,
            handler=handler,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            description=description,
            memory_size=memory_mb,
            timeout=timeout or Duration.seconds(10),
            layers=list(layers),
            # pass_through: traced only when the caller sends a sampled X-Amzn-Trace-Id (docs/cost.md).
            tracing=lambda_.Tracing.ACTIVE if config.tracing == "active" else lambda_.Tracing.PASS_THROUGH,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            reserved_concurrent_executions=reserved_concurrency,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=list(security_groups) or None,
            environment={
                "APP_ENV": config.name,
                "POWERTOOLS_SERVICE_NAME": service,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "LOG_LEVEL": config.log_level,
                **(environment or {}),
            },
        )
        acknowledgments = [
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                reason="The AWS managed basic execution policy only lets the function write its own logs.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray PutTraceSegments/PutTelemetryRecords and VPC ENI actions support no resource-level scoping.",
            ),
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="Python 3.12 on purpose: the pinned deps layer wheels are built for cp312 (layers/deps/requirements.txt).",
            ),
        ]
        if vpc is not None:
            acknowledgments.append(
                Acknowledgment(
                    id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
                    reason="The AWS managed VPC access policy is the documented minimum for Lambda ENIs in a VPC.",
                )
            )
        Validations.of(self).acknowledge(*acknowledgments)


_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def log_retention(days: int) -> logs.RetentionDays:
    """CloudWatch accepts a fixed set of periods (the enum's order): round up to the next allowed one."""
    finite = list(logs.RetentionDays)[: len(_RETENTION_DAYS)]
    return next(
        (member for allowed, member in zip(_RETENTION_DAYS, finite, strict=True) if allowed >= days),
        finite[-1],
    )
