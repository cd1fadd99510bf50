"""Alarms on the business figures: yesterday's (UTC) sign-ups and trial -> paid conversions below a configured
floor. The `refresh_reporting_views` job publishes both as gauges after every refresh (saascore.metrics);
no data means the refresh stopped, which is as bad as a low figure, so missing data breaches."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from infra.components.monitoring import AlarmTopic
from infra.components.service_function import METRICS_NAMESPACE

# The gauges repeat yesterday's total every 15 minutes; an hour always holds one.
PERIOD = Duration.hours(1)


class BusinessAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: AlarmTopic,
        signups_floor: int | None,
        trial_conversions_floor: int | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: list[cloudwatch.Alarm] = []
        for metric_name, floor, what in (
            ("Signups", signups_floor, "sign-ups"),
            ("TrialConversions", trial_conversions_floor, "trial -> paid conversions"),
        ):
            if floor is None:
                continue
            metric = cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=metric_name,
                dimensions_map={"service": "jobs"},
                statistic="Maximum",
                period=PERIOD,
            )
            self.alarms.append(
                topic.alarm(
                    self,
                    f"{metric_name}BelowFloor",
                    metric,
                    threshold=floor,
                    comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                    missing_data=cloudwatch.TreatMissingData.BREACHING,
                    description=f"Yesterday's {what} (UTC) below the floor of {floor}, or the reporting "
                    "views stopped refreshing",
                )
            )
