"""cdk-nag (AwsSolutions via the v3 Validations API) and cfn-lint over every synthesized template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_file

from tests.infra.conftest import Assembly


def _report(assembly: Assembly) -> dict[str, object]:
    path = assembly.outdir / "validation-report.json"
    assert path.is_file(), "the validation plugins did not run"
    report: dict[str, object] = json.loads(path.read_text())
    return report


def test_cdk_nag_has_zero_unacknowledged_findings(assembly: Assembly) -> None:
    report = _report(assembly)
    open_findings = [
        f"{plugin['pluginName']} {violation['ruleName']} at {construct['constructPath']}"
        for plugin in report["pluginReports"]  # type: ignore[attr-defined]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]
    assert open_findings == [], "\n".join(open_findings)
    assert assembly.synth_error is None


def test_nag_is_wired_and_fails_synth_on_a_finding(tmp_path: Path) -> None:
    from aws_cdk import App, Stack
    from aws_cdk import aws_sqs as sqs

    from infra.app import enable_nag

    app = App(outdir=str(tmp_path))
    sqs.Queue(Stack(app, "Probe"), "PlainQueue")  # no DLQ, no TLS policy: AwsSolutions flags it
    enable_nag(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    assert "AwsSolutions-SQS3" in (tmp_path / "validation-report.json").read_text()


def test_every_acknowledgement_has_a_written_reason(assembly: Assembly) -> None:
    acknowledged = [
        (rule, reason)
        for path in assembly.outdir.glob("*.metadata.json")
        for entries in json.loads(path.read_text()).values()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for rule, reason in entry["data"].items()
    ]
    assert any("AwsSolutions-" in rule for rule, _ in acknowledged)
    for rule, reason in acknowledged:
        assert len(str(reason).strip()) >= 20, f"{rule} is acknowledged without a real reason"


@pytest.fixture(scope="session")
def lint_matches(assembly: Assembly) -> dict[str, list[str]]:
    config = ManualArgs(regions=["eu-west-1", "us-east-1"])
    return {
        path.name: [
            f"{m.rule.id} {m.message} ({m.linenumber})"
            for m in lint_file(Path(path), config=config)
            if m.rule.id.startswith("E")
        ]
        for path in sorted(assembly.outdir.glob("*.template.json"))
    }


def test_cfn_lint_reports_zero_errors(lint_matches: dict[str, list[str]]) -> None:
    assert len(lint_matches) == 4
    assert {name: errors for name, errors in lint_matches.items() if errors} == {}
