"""Every origin Lambda's defaults in one place: x86_64, Python 3.11 (bytecode shipped, docs/decisions/0051),
X-Ray, JSON logs with retention, Powertools environment, optional VPC placement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.components import checkov
from infra.config import EnvironmentConfig

# The build interpreter's version, so every asset ships bytecode it loads; x86_64 because on python3.11's
# Amazon Linux 2 (glibc 2.26) psycopg-binary 3.3 has manylinux2014 wheels only for x86_64.
RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.X86_64
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
                reason="Python 3.11 on purpose: assets ship bytecode compiled by the 3.11 build interpreter "
                "(docs/decisions/0051-python-3-11-runtimes-with-shipped-bytecode.md).",
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
        checkov.skip(self.log_group, "CKV_AWS_158", LOG_GROUP_KMS_REASON)
        checkov.skip(
            self.function,
            "CKV_AWS_173",
            "Environment variables hold names, URLs and Secrets Manager ARNs only (secrets are read at run time); "
            "Lambda encrypts them at rest with its AWS managed key.",
        )
        checkov.skip(
            self.function,
            "CKV_AWS_116",
            "Invoked synchronously (Function URL, SQS event source, Scheduler with its own retry policy, "
            "CloudFormation trigger): failures go back to the caller or to the queue's DLQ, never to an async DLQ.",
        )
        if reserved_concurrency is None:
            checkov.skip(
                self.function,
                "CKV_AWS_115",
                "Capped by its SQS event source's MaximumConcurrency (from database.connection_budget), or not "
                "connected to the database: reserving concurrency would only carve the account pool.",
            )
        if vpc is None:
            checkov.skip(
                self.function,
                "CKV_AWS_117",
                "Outside the VPC on purpose: it reaches no VPC resource (only SQS, Secrets Manager and SES APIs).",
            )


# CloudWatch Logs always encrypts at rest; a customer key per group adds cost and a key policy to keep in
# step with every log group while our logs carry no secrets (tokens and keys are never logged).
LOG_GROUP_KMS_REASON = (
    "CloudWatch Logs encrypts every log group at rest with service keys; these logs carry no secrets, so a "
    "customer-managed key would only add cost and a key policy."
)

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
    return finite[_RETENTION_DAYS.index(allowed_retention_days(days))]


def allowed_retention_days(days: int) -> int:
    """The allowed CloudWatch Logs retention period `days` rounds up to."""
    return next((allowed for allowed in _RETENTION_DAYS if allowed >= days), _RETENTION_DAYS[-1])
