"""`saas token`/`saas dev` argument handling and the supervisor's per-component log lines."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from local.stack import LogRelay
from saas_cli.main import build_parser, main


def test_saas_token_without_a_running_stack_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--email", "alice@example.com", "--root", str(tmp_path)]) == 1
    assert "is the local stack running" in capsys.readouterr().err


def test_saas_dev_options() -> None:
    args = build_parser().parse_args(
        ["dev", "--port", "8123", "--postgres-port", "6543", "--visibility", "3"]
    )
    assert (args.port, args.postgres_port, args.visibility, args.job_timeout) == (8123, 6543, 3, 10)


def relay_line(text: str, component: str = "workers", color: bool = False) -> str:
    out = io.StringIO()
    LogRelay(color=color, out=out).line(component, text)
    return out.getvalue()


def test_powertools_json_is_condensed_to_level_message_and_context() -> None:
    record = {
        "level": "WARNING",
        "location": "x:1",
        "message": "job failed",
        "timestamp": "2026-11-23 23:00:00,000+0000",
        "service": "jobs",
        "tenant_id": "t1",
    }
    line = relay_line(json.dumps(record))
    assert "        workers | WARNING job failed {'service': 'jobs', 'tenant_id': 't1'}" in line
    assert "location" not in line
    assert "timestamp" not in line


def test_metric_blobs_show_only_their_values_and_errors_are_red() -> None:
    emf = {
        "_aws": {
            "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [], "Metrics": [{"Name": "JobSucceeded"}]}]
        },
        "JobSucceeded": [1.0],
    }
    assert "METRIC JobSucceeded=[1.0]" in relay_line(json.dumps(emf))
    colored = relay_line("ERROR gateway: boom", component="gateway", color=True)
    assert "\033[31mERROR gateway: boom\033[0m" in colored
    assert "\033[36m" in colored  # the component's own color
    assert relay_line("plain text from a child").rstrip().endswith("workers | plain text from a child")
