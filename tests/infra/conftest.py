"""Synthesize the whole CDK app once per test session (`bundle=false`, a fixed dummy account) and hand
the cloud assembly to the infra tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.config import EnvironmentConfig
from infra.packaging import REPO_ROOT

TEST_ACCOUNT = "123456789012"  # a documentation account id; synth never calls AWS
# What an operator fills in for prod (config refuses prod without them).
PROD_OVERRIDES: dict[str, Any] = {
    "domain_names": ["app.saas.example.com"],
    "certificate_arn": f"arn:aws:acm:us-east-1:{TEST_ACCOUNT}:certificate/0f3c2d1e-4b5a-4c6d-8e7f-90a1b2c3d4e5",
    "alarm_email": "oncall@example.com",
}


def cdk_context(**overrides: Any) -> dict[str, Any]:
    """The context the CLI would pass from cdk.json, plus test overrides."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    if overrides.get("env") == "prod":
        environments = context["environments"]
        context["environments"] = {**environments, "prod": {**environments["prod"], **PROD_OVERRIDES}}
    return {**context, "bundle": "false", "account": TEST_ACCOUNT, **overrides}


def config_for(env: str) -> EnvironmentConfig:
    from infra.config import load_config

    return load_config(cdk_context(env=env), default_account=None, default_region=None)


@dataclass(frozen=True)
class Assembly:
    outdir: Path
    templates: dict[str, dict[str, Any]]
    manifest: dict[str, Any]
    synth_error: str | None

    def template(self, suffix: str) -> dict[str, Any]:
        (name,) = [name for name in self.templates if name.endswith(f"-{suffix}")]
        return self.templates[name]

    def resources(self, suffix: str, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template(suffix)["Resources"].items()
            if resource["Type"] == resource_type
        }

    def stack_region(self, suffix: str) -> str:
        (artifact,) = [
            artifact
            for name, artifact in self.manifest["artifacts"].items()
            if name.endswith(f"-{suffix}") and artifact["type"] == "aws:cloudformation:stack"
        ]
        return str(artifact["environment"]).rsplit("/", 1)[-1]


def _synth(outdir: Path, env: str) -> Assembly:
    return synthesize(outdir, cdk_context(env=env))


def synthesize(outdir: Path, context: dict[str, Any]) -> Assembly:
    """The whole app synthesized with ``context`` into ``outdir``."""
    from infra.app import create_app

    app = create_app(context, outdir=str(outdir))
    error: str | None = None
    try:
        app.synth()
    except RuntimeError as exc:  # cdk-nag findings fail synth; the nag test reports them
        error = str(exc)
    templates = {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in outdir.glob("*.template.json")
    }
    manifest = json.loads((outdir / "manifest.json").read_text())
    return Assembly(outdir=outdir, templates=templates, manifest=manifest, synth_error=error)


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    return _synth(tmp_path_factory.mktemp("cdk.out"), "dev")


@pytest.fixture(scope="session")
def prod_assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    """Prod, as an operator would fill it in (PROD_OVERRIDES); synthesized once per session too."""
    return _synth(tmp_path_factory.mktemp("cdk.out.prod"), "prod")


@pytest.fixture(scope="session")
def service(assembly: Assembly) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_json(assembly.template("service"))


@pytest.fixture(scope="session")
def data(assembly: Assembly) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_json(assembly.template("data"))


@pytest.fixture(scope="session")
def edge(assembly: Assembly) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_json(assembly.template("edge"))


def scanner_findings(assembly: Assembly, *, checkov_stacks: tuple[str, ...]) -> dict[str, Any]:
    """What cdk-nag (the synth's validation report), cfn-lint (errors) and checkov (on the named stacks)
    find in the assembly; every value empty when all three accept it."""
    import subprocess
    import sys

    from cfnlint.api import ManualArgs, lint_file

    report = json.loads((assembly.outdir / "validation-report.json").read_text())
    config = ManualArgs(regions=["eu-west-1", "us-east-1"])
    lint = {
        path.name: found
        for path in sorted(assembly.outdir.glob("*.template.json"))
        if (
            found := [
                f"{m.rule.id} {m.message}"
                for m in lint_file(path, config=config)
                if m.rule.id.startswith("E")
            ]
        )
    }
    files = [str(next(assembly.outdir.glob(f"*-{stack}.template.json"))) for stack in checkov_stacks]
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("checkov")),
            "--framework",
            "cloudformation",
            "--skip-download",
            "-o",
            "json",
            *(arg for file in files for arg in ("--file", file)),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    parsed = json.loads(done.stdout)
    return {
        "nag": [v["ruleName"] for p in report["pluginReports"] for v in p["violations"]],
        "synth_error": assembly.synth_error,
        "cfn-lint": lint,
        "checkov": [
            f"{check['check_id']} {check['resource']}"
            for result in (parsed if isinstance(parsed, list) else [parsed])
            for check in result["results"]["failed_checks"]
        ],
    }


CLEAN: dict[str, Any] = {"nag": [], "synth_error": None, "cfn-lint": {}, "checkov": []}
