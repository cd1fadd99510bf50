"""Alarms (DLQ depth, API 5xx rate, p99 latency, throttles, RDS Proxy connection usage) all notify the
encrypted alarm topic; log groups have retention."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.conftest import Assembly


def _alarms(assembly: Assembly) -> list[dict[str, Any]]:
    return [alarm["Properties"] for alarm in assembly.resources("service", "AWS::CloudWatch::Alarm").values()]


def test_every_alarm_notifies_the_alarm_topic(assembly: Assembly) -> None:
    (topic_id,) = [
        lid for lid in assembly.resources("service", "AWS::SNS::Topic") if lid.startswith("Monitoring")
    ]
    alarms = _alarms(assembly)
    assert alarms
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]


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
    assert len(throttled) == 6


def test_rds_proxy_connection_usage_is_alarmed(assembly: Assembly) -> None:
    proxy_metrics = {
        query["MetricStat"]["Metric"]["MetricName"]
        for alarm in _alarms(assembly)
        for query in alarm.get("Metrics", [])
        if "MetricStat" in query and query["MetricStat"]["Metric"]["Namespace"] == "AWS/RDS"
    }
    assert proxy_metrics == {"DatabaseConnectionsCurrentlyBorrowed", "MaxDatabaseConnectionsAllowed"}


def test_dashboard_exists(assembly: Assembly) -> None:
    (dashboard,) = assembly.resources("service", "AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "saas-dev-overview"
