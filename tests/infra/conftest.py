"""Synthesize the whole CDK app once per test session (`bundle=false`, a fixed dummy account) and hand
the cloud assembly to the infra tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.packaging import REPO_ROOT

TEST_ACCOUNT = "123456789012"  # a documentation account id; synth never calls AWS


def cdk_context(**overrides: Any) -> dict[str, Any]:
    """The context the CLI would pass from cdk.json, plus test overrides."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return {**context, "bundle": "false", "account": TEST_ACCOUNT, **overrides}


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


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    from infra.app import create_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = create_app(cdk_context(), outdir=str(outdir))
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
