"""WAF request logs to an encrypted CloudWatch Logs group with retention (same region as the web ACL)."""

from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct


class WafLogs(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        web_acl: wafv2.CfnWebACL,
        name: str,
        retention: logs.RetentionDays,
        retain: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        key = kms.Key(
            self, "Key", enable_key_rotation=True, description="Encrypts the WAF logs", removal_policy=removal
        )
        # CloudWatch Logs encrypts with the key on the group's behalf (documented key policy).
        key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com"))
        log_group_name = f"aws-waf-logs-{name}"  # WAF requires this prefix
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=log_group_name,
            encryption_key=key,
            retention=retention,
            removal_policy=removal,
        )
        self.log_group.node.add_dependency(key)
        wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=web_acl.attr_arn,
            # WAF wants the group's ARN without the `:*` that `log_group_arn` carries.
            log_destination_configs=[
                stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=log_group_name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            # Tokens and cookies never reach the logs.
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "authorization"}),
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "cookie"}),
            ],
        ).node.add_dependency(self.log_group)
