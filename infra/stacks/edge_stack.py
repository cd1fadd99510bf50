"""us-east-1: what CloudFront needs from that region — the Lambda@Edge functions and the WAF web ACL."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from infra.components.edge import EdgeFunctions
from infra.components.waf import Waf
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
