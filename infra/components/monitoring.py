"""Alarms to the alarm topic (and an existing one from config) and a dashboard: DLQ depth, oldest message
per queue, API 5xx rate, p99 latency, throttles, worker and processor errors, RDS CPU, free storage and
connections, and RDS Proxy connection usage. `AlarmTopic` is shared with the us-east-1 alarms."""

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
RDS_CPU_PERCENT = 80
RDS_FREE_STORAGE_BYTES = 2 * 1024**3  # storage autoscaling grows at 10%; 2 GiB left means it could not
# A message older than this has waited through several consumer timeouts: something is stuck.
OLDEST_MESSAGE_SECONDS = 15 * 60


class AlarmTopic(Construct):
    """The encrypted topic alarms publish to, with the config's subscriber: an e-mail address and/or an
    existing topic (Chatbot, paging) that alarms notify directly (SNS cannot subscribe a topic to a topic)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, email: str | None, existing_topic_arn: str | None
    ) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(self, "TopicKey", enable_key_rotation=True, description="Encrypts the alarm topic")
        self.topic = sns.Topic(self, "Alarms", master_key=key, enforce_ssl=True)
        # CloudWatch alarms publish to the encrypted topic.
        key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.actions: list[cloudwatch.IAlarmAction] = [actions.SnsAction(self.topic)]
        if existing_topic_arn:
            self.actions.append(
                actions.SnsAction(sns.Topic.from_topic_arn(self, "Existing", existing_topic_arn))
            )

    def alarm(
        self,
        scope: Construct,
        construct_id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            scope,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=comparison,
            treat_missing_data=missing_data,
            alarm_description=description,
        )
        alarm.add_alarm_action(*self.actions)
        return alarm


def rate_percent(
    part: cloudwatch.IMetric, whole: cloudwatch.IMetric, *, label: str
) -> cloudwatch.MathExpression:
    """100 * part / whole, 0 when `whole` is 0: only documented metric-math forms (IF, comparison,
    arithmetic), so CloudWatch accepts it (tests/infra/test_monitoring.py checks the grammar)."""
    return cloudwatch.MathExpression(
        expression="IF(whole > 0, 100 * part / whole, 0)",
        using_metrics={"part": part, "whole": whole},
        label=label,
        period=PERIOD,
    )


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
        queues: Mapping[str, sqs.IQueue],
        consumers: Mapping[str, lambda_.IFunction],
        proxy: rds.DatabaseProxy,
        instance: rds.IDatabaseInstance,
        p99_latency_ms: int,
        connection_budget: int,
        alarm_email: str | None,
        alarm_topic_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarm_topic = AlarmTopic(self, "Topic", email=alarm_email, existing_topic_arn=alarm_topic_arn)
        self.topic = self.alarm_topic.topic
        self.alarms: list[cloudwatch.Alarm] = []

        for queue_name, queue in dead_letter_queues.items():
            self._alarm(
                f"{queue_name}DlqNotEmpty",
                queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                threshold=0,
                description=f"Messages in the {queue_name} dead-letter queue: inspect and redrive",
            )
        for queue_name, queue in queues.items():
            self._alarm(
                f"{queue_name}OldestMessage",
                queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
                threshold=OLDEST_MESSAGE_SECONDS,
                description=f"The oldest {queue_name} message waited over {OLDEST_MESSAGE_SECONDS // 60} "
                "minutes: its consumer is failing, throttled or capped too low",
            )
        for consumer_name, consumer in consumers.items():
            self._alarm(
                f"{consumer_name}Errors",
                consumer.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=0,
                description=f"{consumer_name} invocations failed (whole batches; item failures retry)",
            )
        self._alarm(
            "RdsCpu",
            instance.metric_cpu_utilization(period=PERIOD, statistic="Average"),
            threshold=RDS_CPU_PERCENT,
            description=f"PostgreSQL CPU above {RDS_CPU_PERCENT}%",
        )
        self._alarm(
            "RdsFreeStorage",
            instance.metric_free_storage_space(period=PERIOD, statistic="Minimum"),
            threshold=RDS_FREE_STORAGE_BYTES,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            description="PostgreSQL has under 2 GiB free: storage autoscaling reached its maximum",
        )
        self._alarm(
            "RdsConnections",
            instance.metric_database_connections(period=PERIOD, statistic="Maximum"),
            # The proxy opens at most the budget for the app; more means something else is connecting.
            threshold=connection_budget,
            description=f"More than {connection_budget} (database.connection_budget) PostgreSQL connections",
        )
        # Function URL metrics see what CloudFront got: function errors, timeouts and 5xx responses alike.
        errors = rate_percent(
            _url_metric(api, "Url5xxCount", "Sum"),
            _url_metric(api, "UrlRequestCount", "Sum"),
            label="API 5xx %",
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
        proxy_usage = rate_percent(
            _proxy_metric(proxy, "DatabaseConnectionsCurrentlyBorrowed"),
            _proxy_metric(proxy, "MaxDatabaseConnectionsAllowed"),
            label="RDS Proxy connections in use %",
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
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    ) -> None:
        self.alarms.append(
            self.alarm_topic.alarm(
                self,
                construct_id,
                metric,
                threshold=threshold,
                description=description,
                comparison=comparison,
            )
        )


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
