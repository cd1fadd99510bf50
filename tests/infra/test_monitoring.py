"""Alarms (DLQ depth, oldest message, API 5xx rate, p99 latency, throttles, consumer errors, RDS health,
RDS Proxy connection usage; CloudFront and edge alarms in us-east-1) all notify the encrypted alarm topic
and the subscriber from config; metric math stays inside the documented grammar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import Assembly, cdk_context, config_for
from tests.infra.metric_math import MetricMathError, result_type


def _alarms(assembly: Assembly) -> list[dict[str, Any]]:
    return [alarm["Properties"] for alarm in assembly.resources("service", "AWS::CloudWatch::Alarm").values()]


def test_every_alarm_notifies_the_alarm_topic(assembly: Assembly) -> None:
    (topic_id,) = [
        lid for lid in assembly.resources("service", "AWS::SNS::Topic") if lid.startswith("Monitoring")
    ]
    alarms = _alarms(assembly)
    assert alarms
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]  # dev: no existing topic configured


def test_api_error_rate_and_latency_come_from_the_function_url_metrics(assembly: Assembly) -> None:
    math_metrics = {
        query["MetricStat"]["Metric"]["MetricName"]
        for alarm in _alarms(assembly)
        for query in alarm.get("Metrics", [])
        if "MetricStat" in query
    }
    assert {"Url5xxCount", "UrlRequestCount"} <= math_metrics
    latency = [a for a in _alarms(assembly) if a.get("MetricName") == "UrlRequestLatency"]
    assert [a["ExtendedStatistic"] for a in latency] == ["p99"]


def test_throttles_are_watched_for_every_origin_function(assembly: Assembly) -> None:
    throttled = {
        json.dumps(a["Dimensions"][0]["Value"])
        for a in _alarms(assembly)
        if a.get("MetricName") == "Throttles"
    }
    assert len(throttled) == 7


def test_rds_proxy_connection_usage_is_alarmed(assembly: Assembly) -> None:
    proxy_metrics = {
        query["MetricStat"]["Metric"]["MetricName"]
        for alarm in _alarms(assembly)
        for query in alarm.get("Metrics", [])
        if "MetricStat" in query and query["MetricStat"]["Metric"]["Namespace"] == "AWS/RDS"
    }
    assert proxy_metrics == {"DatabaseConnectionsCurrentlyBorrowed", "MaxDatabaseConnectionsAllowed"}


def test_dashboards_exist(assembly: Assembly) -> None:
    names = {
        d["Properties"]["DashboardName"]
        for d in assembly.resources("service", "AWS::CloudWatch::Dashboard").values()
    }
    assert names == {
        "saas-dev-overview",
        "saas-dev-tenants",
    }  # the second: tests/infra/test_tenant_metrics.py


def test_metric_math_alarms_use_only_the_documented_grammar(assembly: Assembly) -> None:
    expressions = [
        (query["Expression"], {q["Id"] for q in alarm["Metrics"] if "MetricStat" in q})
        for alarm in _alarms(assembly)
        for query in alarm.get("Metrics", [])
        if "Expression" in query
    ]
    assert len(expressions) == 2  # API 5xx rate, proxy connection usage
    for expression, metric_ids in expressions:
        assert result_type(expression, metric_ids) == "TS", expression


@pytest.mark.parametrize(
    ("expression", "valid"),
    [
        ("IF(whole > 0, 100 * part / whole, 0)", True),
        ("100 * part / whole", True),
        ("MAX([part, whole])", True),
        ("100 * part / MAX([whole, 1])", False),  # the old form: a scalar inside a TS[] is undocumented
        ("IF(0 > whole, part, 1)", False),  # comparison must be TS <op> S
        ("SUM(part)", False),  # a scalar cannot be an alarm's result
    ],
)
def test_the_grammar_checker_tells_documented_forms_from_others(expression: str, valid: bool) -> None:
    try:
        accepted = result_type(expression, {"part", "whole"}) == "TS"
    except MetricMathError:
        accepted = False
    assert accepted is valid


def _alarm_metrics(assembly: Assembly, suffix: str) -> dict[str, dict[str, Any]]:
    return {
        alarm["Properties"]["AlarmDescription"]: alarm["Properties"]
        for alarm in assembly.resources(suffix, "AWS::CloudWatch::Alarm").values()
    }


def test_rds_health_is_alarmed(assembly: Assembly) -> None:
    rds = {
        a["MetricName"]: a
        for a in _alarms(assembly)
        if a.get("Namespace") == "AWS/RDS" and "DBInstanceIdentifier" in json.dumps(a.get("Dimensions"))
    }
    assert set(rds) == {"CPUUtilization", "FreeStorageSpace", "DatabaseConnections"}
    assert rds["FreeStorageSpace"]["ComparisonOperator"] == "LessThanThreshold"
    assert rds["DatabaseConnections"]["Threshold"] == config_for("dev").database.connection_budget


def test_every_work_queue_has_an_oldest_message_alarm(assembly: Assembly) -> None:
    queues = {
        lid
        for lid, q in assembly.resources("service", "AWS::SQS::Queue").items()
        if "RedrivePolicy" in q["Properties"]
    }
    watched = {
        a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in _alarms(assembly)
        if a.get("MetricName") == "ApproximateAgeOfOldestMessage"
    }
    assert len(queues) == 4
    assert watched == queues


def test_worker_processor_and_ses_consumer_errors_are_alarmed(assembly: Assembly) -> None:
    errored = {
        a["Dimensions"][0]["Value"]["Ref"] for a in _alarms(assembly) if a.get("MetricName") == "Errors"
    }
    handlers = {
        lid: f["Properties"]["Handler"]
        for lid, f in assembly.resources("service", "AWS::Lambda::Function").items()
        if lid in errored
    }
    assert set(handlers.values()) == {
        "webhooks.processor.handler",
        "jobs.worker.handler",
        "jobs.ses_events.handler",
        "jobs.webhook_worker.handler",
    }


def test_cloudfront_and_edge_alarms_live_in_us_east_1(assembly: Assembly) -> None:
    assert assembly.stack_region("monitoring") == "us-east-1"
    alarms = [a["Properties"] for a in assembly.resources("monitoring", "AWS::CloudWatch::Alarm").values()]
    cloudfront = [a for a in alarms if a["Namespace"] == "AWS/CloudFront"]
    assert [a["MetricName"] for a in cloudfront] == ["5xxErrorRate"]
    assert {d["Name"] for d in cloudfront[0]["Dimensions"]} == {"DistributionId", "Region"}
    edge = sorted(a["MetricName"] for a in alarms if a["Namespace"] == "AWS/Lambda")
    assert edge == ["Errors"] * 3 + ["Throttles"] * 3
    (topic_id,) = assembly.resources("monitoring", "AWS::SNS::Topic")
    for alarm in alarms:
        assert {"Ref": topic_id} in alarm["AlarmActions"]


def test_prod_alarms_notify_the_configured_subscriber(prod_assembly: Assembly) -> None:
    for suffix in ("service", "monitoring"):
        emails = [
            s["Properties"]["Endpoint"]
            for s in prod_assembly.resources(suffix, "AWS::SNS::Subscription").values()
            if s["Properties"]["Protocol"] == "email"
        ]
        assert emails == ["oncall@example.com"]


def test_an_existing_topic_from_config_is_notified_by_every_alarm(tmp_path: Path) -> None:
    from aws_cdk import App, Stack
    from aws_cdk import aws_cloudwatch as cloudwatch
    from aws_cdk.assertions import Template

    from infra.components.monitoring import AlarmTopic
    from infra.config import load_config

    topic = "arn:aws:sns:eu-west-1:123456789012:pager"
    config = load_config(
        cdk_context(alarm_topic_arn=topic, edge_alarm_topic_arn="arn:aws:sns:us-east-1:123456789012:pager"),
        default_account=None,
        default_region=None,
    )
    stack = Stack(App(outdir=str(tmp_path)), "probe-alarms")
    alarm_topic = AlarmTopic(stack, "Topic", email=None, existing_topic_arn=config.alarm_topic_arn)
    metric = cloudwatch.Metric(namespace="Probe", metric_name="Probe")
    alarm_topic.alarm(
        stack, "Probe", metric, threshold=1, description="probe alarm for the subscriber wiring"
    )
    (alarm,) = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm").values()
    assert alarm["Properties"]["AlarmActions"][1] == topic
    assert len(alarm["Properties"]["AlarmActions"]) == 2  # our topic and the existing one
