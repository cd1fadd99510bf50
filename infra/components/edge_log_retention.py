"""Retention on the log groups Lambda@Edge creates in every region it runs in (a custom resource in the
edge stack: `infra/custom_resources/edge_log_retention/handler.py`)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, CustomResource, Duration, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.components import checkov
from infra.components.service_function import (
    ARCHITECTURE,
    LOG_GROUP_KMS_REASON,
    RUNTIME,
    allowed_retention_days,
    log_retention,
)
from infra.config import EDGE_REGION
from infra.packaging import REPO_ROOT, stage_tree

HANDLER_PACKAGE = REPO_ROOT / "infra" / "custom_resources" / "edge_log_retention"
# Where CloudFront's regional edge caches run Lambda@Edge, so where its log groups appear: the 13 regions
# with regional edge caches (CloudFront developer guide, "Edge function logs"; the list Gruntwork keeps agrees).
EDGE_LOG_REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "sa-east-1",
)


class EdgeLogRetention(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Sequence[lambda_.IFunction],
        retention_days: int,
        retain: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention(retention_days),
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        code = stage_tree("edge-log-retention", sources={"edge_log_retention": HANDLER_PACKAGE})
        self.function = lambda_.Function(
            self,
            "Function",
            code=lambda_.Code.from_asset(str(code)),
            handler="edge_log_retention.handler.handler",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            timeout=Duration.minutes(5),
            memory_size=256,
            log_group=log_group,
            description="Sets retention on Lambda@Edge's regional log groups (deploy time)",
        )
        edge_groups = f"log-group:/aws/lambda/{EDGE_REGION}.*"
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
                resources=[f"arn:{stack.partition}:logs:*:{stack.account}:{edge_groups}"],
            )
        )
        # cdk-nag names unresolved partition/account as <AWS::Partition>/<AWS::AccountId>.
        partition = "<AWS::Partition>" if Token.is_unresolved(stack.partition) else stack.partition
        account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
        self.resource = CustomResource(
            self,
            "Retention",
            service_token=self.function.function_arn,
            resource_type="Custom::EdgeLogRetention",
            properties={
                "FunctionNames": [function.function_name for function in functions],
                "Regions": list(EDGE_LOG_REGIONS),
                "RetentionDays": allowed_retention_days(retention_days),
            },
        )
        checkov.skip(log_group, "CKV_AWS_158", LOG_GROUP_KMS_REASON)
        for check_id, reason in {
            "CKV_AWS_115": "Invoked by CloudFormation a few times per deploy; nothing to cap.",
            "CKV_AWS_116": "Invoked synchronously by CloudFormation, which reports a failure itself.",
            "CKV_AWS_117": "Calls only CloudWatch Logs APIs in other regions; a VPC would only add a NAT dependency.",
            "CKV_AWS_173": "It has no environment variables: the custom resource's properties carry its input.",
        }.items():
            checkov.skip(self.function, check_id, reason)
        Validations.of(self.function).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                reason="The basic execution policy only lets the function write its own logs.",
            ),
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::arn:{partition}:logs:*:{account}:{edge_groups}]",
                reason="Lambda@Edge log groups exist in every region CloudFront runs it in, all named "
                "/aws/lambda/us-east-1.<function>.",
            ),
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="Python 3.11 on purpose: the asset ships bytecode compiled by the 3.11 build interpreter "
                "(docs/decisions/0051-python-3-11-runtimes-with-shipped-bytecode.md).",
            ),
        )
