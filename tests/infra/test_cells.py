"""Dedicated cells in CDK: `cells` in the environment's config gives each cell its instance, RDS Proxy, owner
secret, security groups and alarms; functions may connect to the cells' proxies only; the migrate function
reaches every cell; nag, cfn-lint, checkov and the cost model accept the result."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from infra.config import ConfigError, load_config
from tests.infra.conftest import Assembly, cdk_context

CELLS = {
    "pooled": {"instance_type": "t4g.micro", "connection_budget": 40},
    "acme": {
        "instance_type": "t4g.small",
        "multi_az": True,
        "connection_budget": 40,
        "reserved_for": ["acme"],
    },
}
APP_FUNCTIONS = ("Api", "WebhooksProcessor", "JobsWorker", "JobsScheduler")


def cells_context(cells: dict[str, Any]) -> dict[str, Any]:
    context = cdk_context(env="dev")
    dev = {key: value for key, value in context["environments"]["dev"].items() if key != "database"}
    context["environments"] = {**context["environments"], "dev": {**dev, "cells": cells}}
    return context


@pytest.fixture(scope="session")
def cells_assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    from infra.app import create_app

    outdir = tmp_path_factory.mktemp("cdk.out.cells")
    app = create_app(cells_context(CELLS), outdir=str(outdir))
    error: str | None = None
    try:
        app.synth()
    except RuntimeError as exc:
        error = str(exc)
    templates = {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in outdir.glob("*.template.json")
    }
    manifest = json.loads((outdir / "manifest.json").read_text())
    return Assembly(outdir=outdir, templates=templates, manifest=manifest, synth_error=error)


def config_of(cells: dict[str, Any]):
    return load_config(cells_context(cells), default_account=None, default_region=None)


def test_the_pooled_entry_is_the_database_block_and_the_rest_are_dedicated_cells():
    config = config_of(CELLS)
    assert config.database.instance_type == "t4g.micro"
    assert set(config.cells) == {"acme"}
    assert (config.cells["acme"].instance_type, config.cells["acme"].multi_az) == ("t4g.small", True)
    assert config.cells["acme"].reserved_for == ("acme",)


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({"Acme!": {}}, "not a cell name"),
        ({"a": {"reserved_for": ["x1"]}, "b": {"reserved_for": ["x1"]}}, "reserved by more than one cell"),
        ({"a": {"reserved_for": ["Not A Slug"]}}, "is not a tenant slug"),
        ({"a": {"connection_budget": 12}}, "below the pooled cell's"),
        ({"pooled": {"reserved_for": ["acme"]}}, "the pooled cell takes every unreserved slug"),
        ({"a": {"instance_class": "db.r7g.large"}}, "instance_class"),
    ],
)
def test_bad_cell_configuration_is_refused_at_synth_with_the_fix(cells, message):
    with pytest.raises(ConfigError, match=message):
        config_of(cells)


def test_pooled_twice_is_refused():
    context = cells_context(CELLS)
    context["environments"]["dev"]["database"] = {"instance_type": "t4g.small"}
    with pytest.raises(ConfigError, match="keep one of them"):
        load_config(context, default_account=None, default_region=None)


def test_each_cell_has_its_instance_proxy_owner_secret_and_security_groups(cells_assembly: Assembly):
    data = cells_assembly.template("data")["Resources"]
    instances = {lid: r["Properties"] for lid, r in data.items() if r["Type"] == "AWS::RDS::DBInstance"}
    assert sorted(p["DBInstanceClass"] for p in instances.values()) == ["db.t4g.micro", "db.t4g.small"]
    acme = next(p for p in instances.values() if p["DBInstanceClass"] == "db.t4g.small")
    assert acme["MultiAZ"] is True
    assert acme["StorageEncrypted"] is True
    assert acme["EnableIAMDatabaseAuthentication"] is True
    proxies = [r["Properties"] for r in data.values() if r["Type"] == "AWS::RDS::DBProxy"]
    assert sorted(p["DBProxyName"] for p in proxies) == ["saas-dev-acme-proxy", "saas-dev-proxy"]
    assert all(p["RequireTLS"] and p["DefaultAuthScheme"] == "IAM_AUTH" for p in proxies)
    assert sum(r["Type"] == "AWS::SecretsManager::Secret" for r in data.values()) == 2
    assert sum(r["Type"] == "AWS::SecretsManager::RotationSchedule" for r in data.values()) == 2
    groups = [
        r["Properties"]["GroupDescription"] for r in data.values() if r["Type"] == "AWS::EC2::SecurityGroup"
    ]
    assert groups.count("RDS Proxy") == 2
    assert groups.count("PostgreSQL instance") == 2
    # The pooled cell keeps its logical ids: adding a cell replaces nothing that exists.
    assert any(lid.startswith("DatabaseInstance") for lid in instances)


def _connect_grants(service: dict[str, Any]) -> dict[str, set[str]]:
    """Policy → the proxies (by their export) its `rds-db:connect` statements name."""
    grants: dict[str, set[str]] = {}
    for logical_id, resource in service["Resources"].items():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "rds-db:connect" not in actions:
                continue
            for arn in statement["Resource"]:
                prefix, proxy_id, user = arn["Fn::Join"][1]
                assert prefix.endswith(":dbuser:")
                assert user == "/saas_app"
                grants.setdefault(logical_id, set()).add(
                    proxy_id["Fn::Select"][1]["Fn::Split"][1]["Fn::ImportValue"]
                )
    return grants


def test_functions_may_connect_to_the_cells_proxies_only(cells_assembly: Assembly):
    grants = _connect_grants(cells_assembly.template("service"))
    assert (
        len(grants) == 6
    )  # API, webhook processor, worker, scheduler, SES consumer, webhook delivery worker
    for proxies in grants.values():
        assert len(proxies) == 2
        assert any("DatabaseProxy" in export for export in proxies)
        assert any("CellacmeProxy" in export for export in proxies)


def test_functions_learn_the_cells_and_the_migrate_function_reaches_each_owner(cells_assembly: Assembly):
    service = cells_assembly.template("service")
    functions = [
        r["Properties"] for r in service["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    with_cells = [f for f in functions if "CELLS" in f.get("Environment", {}).get("Variables", {})]
    assert len(with_cells) >= 5
    cells_value = json.dumps(with_cells[0]["Environment"]["Variables"]["CELLS"])
    assert '\\"acme\\"' in cells_value
    assert '\\"reserved_for\\": [\\"acme\\"]' in cells_value
    (migrate,) = [f for f in functions if f["Handler"] == "saascore.db.migrate_handler.handler"]
    variables = migrate["Environment"]["Variables"]
    assert "MIGRATE_SECRET_ARN" in variables
    assert "acme" in json.dumps(variables["MIGRATE_CELL_SECRET_ARNS"])


def test_each_dedicated_cell_has_its_alarms(cells_assembly: Assembly):
    service = cells_assembly.template("service")
    descriptions = [
        r["Properties"]["AlarmDescription"]
        for r in service["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and "Cell acme" in r["Properties"].get("AlarmDescription", "")
    ]
    assert len(descriptions) == 4
    assert any("CPU" in d for d in descriptions)
    assert any("RDS Proxy" in d for d in descriptions)


def test_nag_cfn_lint_checkov_and_the_cost_model_accept_cells(
    cells_assembly: Assembly, capsys: pytest.CaptureFixture[str]
):
    report = json.loads((cells_assembly.outdir / "validation-report.json").read_text())
    findings = [v["ruleName"] for p in report["pluginReports"] for v in p["violations"]]
    assert findings == []
    assert cells_assembly.synth_error is None
    config = ManualArgs(regions=["eu-west-1", "us-east-1"])
    errors = {
        path.name: [
            f"{m.rule.id} {m.message}"
            for m in lint_file(Path(path), config=config)
            if m.rule.id.startswith("E")
        ]
        for path in sorted(cells_assembly.outdir.glob("*.template.json"))
    }
    assert {name: found for name, found in errors.items() if found} == {}
    checkov = Path(sys.executable).with_name("checkov")
    data_template = next(cells_assembly.outdir.glob("*-data.template.json"))
    service_template = next(cells_assembly.outdir.glob("*-service.template.json"))
    done = subprocess.run(
        [
            str(checkov),
            "--framework",
            "cloudformation",
            "--skip-download",
            "-o",
            "json",
            "--file",
            str(data_template),
            "--file",
            str(service_template),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    parsed = json.loads(done.stdout)
    failed = [
        f"{check['check_id']} {check['resource']}"
        for result in (parsed if isinstance(parsed, list) else [parsed])
        for check in result["results"]["failed_checks"]
    ]
    assert failed == []

    from saas_cli.main import main

    code = main(["cost", "--cdk-out", str(cells_assembly.outdir), "--mau", "0"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "db.t4g.small Multi-AZ" in out.out
