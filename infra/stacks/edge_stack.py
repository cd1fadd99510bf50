"""us-east-1: what CloudFront needs from that region — the Lambda@Edge functions and the WAF web ACL.

It hands the version ARNs and the web ACL ARN to the home region through parameters it owns
(`regional_parameters`), never through CDK cross-region exports (decision 0050)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.components.edge import EdgeFunctions
from infra.components.edge_log_retention import EdgeLogRetention
from infra.components.regional_parameters import write_parameter
from infra.components.service_function import log_retention
from infra.components.waf import Waf
from infra.components.waf_logs import WafLogs
from infra.config import EnvironmentConfig


class EdgeStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.functions = EdgeFunctions(self, "Edge", config=config)
        self.waf = (
            Waf(
                self,
                "Waf",
                name=f"{config.stack_prefix}-web-acl",
                rate_limit_per_5_minutes=config.waf_rate_limit_per_5_minutes,
            )
            if config.waf
            else None
        )
        prefix = config.stack_prefix
        EdgeLogRetention(
            self,
            "EdgeLogRetention",
            functions=[function.lambda_ for function in self.functions.by_event.values()],
            retention_days=config.log_retention_days,
            retain=config.retain_data,
        )
        # key -> (value, logical id of what it names): the service stack re-reads a key when that changes.
        self.handover: dict[str, tuple[str, str]] = {}
        if self.waf is not None:
            WafLogs(
                self,
                "WafLogs",
                web_acl=self.waf.web_acl,
                name=prefix,
                retention=log_retention(config.log_retention_days),
                retain=config.retain_data,
            )
            self.handover[EDGE_WEB_ACL_KEY] = (self.waf.web_acl.attr_arn, self.waf.web_acl.logical_id)
        for key, function in self.functions.by_event.items():
            # In us-east-1 an EdgeFunction wraps a plain Function; its current version is what CloudFront runs.
            if not isinstance(function.lambda_, lambda_.Function):
                raise TypeError(f"{function.node.path} is not a function in this stack")
            version = function.lambda_.current_version
            cfn_version = version.node.default_child
            if not isinstance(cfn_version, lambda_.CfnVersion):
                raise TypeError(f"{version.node.path} has no AWS::Lambda::Version")
            # Lazy: CDK appends the code hash to a current version's logical id only when it synthesizes.
            self.handover[f"edge/{key}"] = (version.function_arn, cfn_version.logical_id)
        for key, (value, _) in self.handover.items():
            write_parameter(self, f"Handover-{key.replace('/', '-')}", prefix=prefix, key=key, value=value)


EDGE_WEB_ACL_KEY = "edge/web-acl-arn"
