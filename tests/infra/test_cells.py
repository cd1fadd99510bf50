"""Dedicated cells in CDK: `cells` in the environment's config gives each cell its instance, RDS Proxy, owner
secret, security groups and alarms; functions may connect to the cells' proxies only; the migrate function
reaches every cell; nag, cfn-lint, checkov and the cost model accept the result."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import ConfigError, load_config
from tests.infra.conftest import CLEAN, Assembly, cdk_context, scanner_findings, synthesize

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
    return synthesize(tmp_path_factory.mktemp("cdk.out.cells"), cells_context(CELLS))


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
    assert scanner_findings(cells_assembly, checkov_stacks=("data", "service")) == CLEAN

    from saas_cli.main import main

    code = main(["cost", "--cdk-out", str(cells_assembly.outdir), "--mau", "0"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "db.t4g.small Multi-AZ" in out.out
