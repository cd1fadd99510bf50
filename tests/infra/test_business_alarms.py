"""Sign-up and trial -> paid floor alarms: in prod (floors from cdk.json), on the gauges the refresh job
publishes, breaching on missing data, notifying the alarm topic; none where no floor is configured (dev)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from infra.config import EnvironmentConfig
from tests.infra.conftest import Assembly


def _floor_alarms(assembly: Assembly) -> dict[str, dict[str, Any]]:
    return {
        alarm["Properties"]["MetricName"]: alarm["Properties"]
        for alarm in assembly.resources("service", "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == "SaasPlatform"
    }


def test_prod_alarms_when_yesterdays_signups_or_conversions_fall_below_the_floor(
    prod_assembly: Assembly,
) -> None:
    alarms = _floor_alarms(prod_assembly)
    assert set(alarms) == {"Signups", "TrialConversions"}
    (topic_id,) = [
        lid for lid in prod_assembly.resources("service", "AWS::SNS::Topic") if lid.startswith("Monitoring")
    ]
    for alarm in alarms.values():
        assert alarm["ComparisonOperator"] == "LessThanThreshold"
        assert alarm["Threshold"] == 1
        assert alarm["TreatMissingData"] == "breaching"
        assert (alarm["Statistic"], alarm["Period"]) == ("Maximum", 3600)
        assert alarm["Dimensions"] == [{"Name": "service", "Value": "jobs"}]
        assert {"Ref": topic_id} in alarm["AlarmActions"]


def test_no_floor_no_alarm(assembly: Assembly) -> None:
    assert _floor_alarms(assembly) == {}


@pytest.mark.parametrize("knob", ["signups_daily_floor", "trial_conversions_daily_floor"])
def test_a_floor_below_one_is_refused(knob: str) -> None:
    with pytest.raises(ValidationError, match=knob):
        EnvironmentConfig(name="dev", **{knob: 0})
