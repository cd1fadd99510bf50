"""Values one region's stack hands to another without CDK's cross-region exports (decision 0050).

The writer owns an ordinary `AWS::SSM::Parameter` under a fixed name in its own region: it is updated in
place and deleted only with its stack, so no deploy ever removes a value another stack still reads. The
reader is an `AwsCustomResource` calling `ssm:GetParameter` in the writer's region; it re-reads when its
`revision` changes (the writer-side logical ID of what the value names, known at synth).
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, ArnFormat, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.components import checkov
from infra.components.service_function import LOG_GROUP_KMS_REASON


def parameter_name(prefix: str, key: str) -> str:
    return f"/{prefix}/handover/{key}"


def write_parameter(scope: Construct, construct_id: str, *, prefix: str, key: str, value: str) -> None:
    ssm.StringParameter(
        scope,
        construct_id,
        parameter_name=parameter_name(prefix, key),
        string_value=value,
        description="Read by this app's stack in another region (infra/components/regional_parameters.py)",
    )


class RegionalParameterReader(Construct):
    """`value` of the parameter `key` written in `region`; one reader Lambda per stack serves them all."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        key: str,
        region: str,
        revision: str,
        log_group: logs.ILogGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        name = parameter_name(prefix, key)
        arn = Stack.of(self).format_arn(
            service="ssm",
            region=region,
            resource="parameter",
            resource_name=name.lstrip("/"),
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        call = cr.AwsSdkCall(
            service="SSM",
            action="getParameter",
            parameters={"Name": name},
            region=region,
            # A new revision is a new physical id, so CloudFormation sends an update and the value is re-read.
            physical_resource_id=cr.PhysicalResourceId.of(f"{name}@{revision}"),
            output_paths=["Parameter.Value"],
        )
        self.resource = cr.AwsCustomResource(
            self,
            "Read",
            on_create=call,
            on_update=call,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[arn])]
            ),
            log_group=log_group,
            removal_policy=RemovalPolicy.DESTROY,
            install_latest_aws_sdk=False,  # synth and deploy stay offline of npm; the runtime's SDK has SSM
        )
        self.value = self.resource.get_response_field("Parameter.Value")


def reader_log_group(scope: Construct, *, retention: logs.RetentionDays, retain: bool) -> logs.LogGroup:
    """The log group the stack's AwsCustomResource singleton writes to (it would otherwise never expire)."""
    group = logs.LogGroup(
        scope,
        "HandoverReaderLogs",
        retention=retention,
        removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
    )
    checkov.skip(group, "CKV_AWS_158", LOG_GROUP_KMS_REASON)
    Validations.of(Stack.of(scope)).acknowledge(
        Acknowledgment(
            id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            reason="The AwsCustomResource reader Lambda only writes its own logs with the basic policy.",
        ),
    )
    return group
