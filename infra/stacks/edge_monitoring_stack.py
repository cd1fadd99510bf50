"""us-east-1 alarms: CloudFront publishes its metrics only there, and Lambda@Edge reports the executions
served from that region there. Deployed after the service stack, whose distribution id it reads from the
parameter that stack owns (decision 0050)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from infra.components.monitoring import PERIOD, AlarmTopic
from infra.components.regional_parameters import RegionalParameterReader, reader_log_group
from infra.components.service_function import log_retention
from infra.config import EnvironmentConfig
from infra.stacks.edge_stack import EdgeStack
from infra.stacks.service_stack import DISTRIBUTION_ID_KEY, ServiceStack

CLOUDFRONT_5XX_RATE_PERCENT = 1


class EdgeMonitoringStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        edge: EdgeStack,
        service: ServiceStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        topic = AlarmTopic(
            self, "Topic", email=config.alarm_email, existing_topic_arn=config.edge_alarm_topic_arn
        )
        distribution_id = RegionalParameterReader(
            self,
            "FromService-distribution-id",
            prefix=config.stack_prefix,
            key=DISTRIBUTION_ID_KEY,
            region=config.region,
            revision=service.distribution_revision,
            log_group=reader_log_group(
                self, retention=log_retention(config.log_retention_days), retain=config.retain_data
            ),
        ).value
        self.alarms = [
            topic.alarm(
                self,
                "CloudFront5xxRate",
                cloudwatch.Metric(
                    namespace="AWS/CloudFront",
                    metric_name="5xxErrorRate",
                    dimensions_map={"DistributionId": distribution_id, "Region": "Global"},
                    statistic="Average",
                    period=PERIOD,
                ),
                threshold=CLOUDFRONT_5XX_RATE_PERCENT,
                description=f"CloudFront answered more than {CLOUDFRONT_5XX_RATE_PERCENT}% of requests with 5xx",
            )
        ]
        for name, function in edge.functions.by_event.items():
            # The function in this region; other regions' executions report there under `us-east-1.<name>`.
            title = name.title().replace("-", "")
            self.alarms.append(
                topic.alarm(
                    self,
                    f"Edge{title}Errors",
                    function.lambda_.metric_errors(period=PERIOD, statistic="Sum"),
                    threshold=0,
                    description=f"Lambda@Edge {name} failed (CloudFront answers 502/503 for it)",
                )
            )
            self.alarms.append(
                topic.alarm(
                    self,
                    f"Edge{title}Throttles",
                    function.lambda_.metric_throttles(period=PERIOD, statistic="Sum"),
                    threshold=0,
                    description=f"Lambda@Edge {name} is being throttled",
                )
            )
