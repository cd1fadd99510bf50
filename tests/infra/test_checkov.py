"""checkov, a second IaC scanner beside cdk-nag, over the synthesized dev and prod templates: no failed
check, and every suppression carries its reason where it is applied (`infra/components/checkov.py`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import Assembly

CHECKOV = Path(sys.executable).with_name("checkov")


@pytest.fixture(scope="session")
def checkov_reports(assembly: Assembly, prod_assembly: Assembly) -> list[dict[str, Any]]:
    command = [str(CHECKOV), "--framework", "cloudformation", "--skip-download", "-o", "json"]
    for outdir in (assembly.outdir, prod_assembly.outdir):
        command += ["--file", *(str(path) for path in sorted(outdir.glob("*.template.json")))]
    # --skip-download: no call to any platform API; the scan needs nothing but the templates.
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1 = failed checks, shown by the tests below
    parsed = json.loads(done.stdout)
    return parsed if isinstance(parsed, list) else [parsed]


def test_checkov_scanned_every_template(checkov_reports: list[dict[str, Any]]) -> None:
    (report,) = checkov_reports
    assert report["check_type"] == "cloudformation"
    summary = report["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 300
    scanned = {Path(check["file_path"]).name for check in report["results"]["passed_checks"]}
    assert len(scanned) == 8  # four stacks, dev and prod


def test_checkov_reports_no_failed_check(checkov_reports: list[dict[str, Any]]) -> None:
    failed = [
        f"{check['check_id']} {check['check_name']} at {check['file_path']}:{check['resource']}"
        for report in checkov_reports
        for check in report["results"]["failed_checks"]
    ]
    assert failed == [], "\n".join(failed)


def test_every_checkov_skip_says_why(checkov_reports: list[dict[str, Any]]) -> None:
    skipped = [check for report in checkov_reports for check in report["results"]["skipped_checks"]]
    assert skipped
    for check in skipped:
        reason = str(check.get("check_result", {}).get("suppress_comment", ""))
        assert len(reason) >= 40, f"{check['check_id']} on {check['resource']} is skipped without a reason"
