"""Alarms to one SNS topic and a dashboard: DLQ depth, API 5xx rate, p99 latency, throttles, and RDS
Proxy connection usage."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

PERIOD = Duration.minutes(5)
API_5XX_RATE_PERCENT = 1
PROXY_CONNECTION_USAGE_PERCENT = 80


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        api: lambda_.IFunction,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        proxy: rds.DatabaseProxy,
        p99_latency_ms: int,
        alarm_email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(self, "TopicKey", enable_key_rotation=True, description="Encrypts the alarm topic")
        self.topic = sns.Topic(self, "Alarms", master_key=key, enforce_ssl=True)
        # CloudWatch alarms publish to the encrypted topic.
        key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []

        for queue_name, queue in dead_letter_queues.items():
            self._alarm(
                f"{queue_name}DlqNotEmpty",
                queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                threshold=0,
                description=f"Messages in the {queue_name} dead-letter queue: inspect and redrive",
            )
        # Function URL metrics see what CloudFront got: function errors, timeouts and 5xx responses alike.
        errors = cloudwatch.MathExpression(
            expression="100 * failed / MAX([requests, 1])",
            using_metrics={
                "failed": _url_metric(api, "Url5xxCount", "Sum"),
                "requests": _url_metric(api, "UrlRequestCount", "Sum"),
            },
            label="API 5xx %",
            period=PERIOD,
        )
        latency = _url_metric(api, "UrlRequestLatency", "p99")
        self._alarm(
            "Api5xxRate", errors, threshold=API_5XX_RATE_PERCENT, description="API error rate above 1%"
        )
        self._alarm(
            "ApiP99Latency",
            latency,
            threshold=p99_latency_ms,
            description=f"API p99 latency above {p99_latency_ms} ms",
        )
        for function_name, function in functions.items():
            self._alarm(
                f"{function_name}Throttles",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                threshold=0,
                description=f"{function_name} is being throttled",
            )
        proxy_usage = cloudwatch.MathExpression(
            expression="100 * borrowed / MAX([allowed, 1])",
            using_metrics={
                "borrowed": _proxy_metric(proxy, "DatabaseConnectionsCurrentlyBorrowed"),
                "allowed": _proxy_metric(proxy, "MaxDatabaseConnectionsAllowed"),
            },
            label="RDS Proxy connections in use %",
            period=PERIOD,
        )
        self._alarm(
            "ProxyConnectionUsage",
            proxy_usage,
            threshold=PROXY_CONNECTION_USAGE_PERCENT,
            description="RDS Proxy is using more than 80% of the database connections it may open",
        )
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{name}-overview")
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="API errors %", left=[errors]),
            cloudwatch.GraphWidget(title="API p99 latency", left=[latency]),
            cloudwatch.GraphWidget(title="RDS Proxy connections %", left=[proxy_usage]),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Invocations", left=[f.metric_invocations(label=n) for n, f in functions.items()]
            ),
            cloudwatch.GraphWidget(
                title="DLQ depth",
                left=[
                    q.metric_approximate_number_of_messages_visible(label=n)
                    for n, q in dead_letter_queues.items()
                ],
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms)),
        )

    def _alarm(
        self, construct_id: str, metric: cloudwatch.IMetric, *, threshold: float, description: str
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)


def _url_metric(function: lambda_.IFunction, metric_name: str, statistic: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/Lambda",
        metric_name=metric_name,
        dimensions_map={"FunctionName": function.function_name},
        statistic=statistic,
        period=PERIOD,
    )


def _proxy_metric(proxy: rds.DatabaseProxy, metric_name: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/RDS",
        metric_name=metric_name,
        dimensions_map={"ProxyName": proxy.db_proxy_name},
        statistic="Maximum",
        period=PERIOD,
    )
