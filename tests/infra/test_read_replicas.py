"""Read replicas in CDK (decision 0152): `read_replica: true` on a cell gives it an encrypted, IAM-auth
replica reachable from the origin functions; only the API and the job worker may connect to it and learn
its address; replica lag and CPU alarm; nag, cfn-lint, checkov and the cost model accept the result."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.conftest import CLEAN, Assembly, scanner_findings, synthesize
from tests.infra.test_cells import cells_context

CELLS = {
    "pooled": {"instance_type": "t4g.micro", "connection_budget": 40, "read_replica": True},
    "acme": {
        "instance_type": "t4g.small",
        "connection_budget": 40,
        "reserved_for": ["acme"],
        "read_replica": True,
        "replica_instance_type": "t4g.micro",
    },
}


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    return synthesize(tmp_path_factory.mktemp("cdk.out.replicas"), cells_context(CELLS))


def functions(assembly: Assembly) -> dict[str, dict[str, Any]]:
    return {
        lid: r["Properties"]
        for lid, r in assembly.template("service")["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function"
    }


def test_each_cell_with_a_replica_gets_an_encrypted_iam_replica_of_its_primary(replicas: Assembly):
    data = replicas.template("data")["Resources"]
    replicas_found = {
        lid: r["Properties"]
        for lid, r in data.items()
        if r["Type"] == "AWS::RDS::DBInstance" and "SourceDBInstanceIdentifier" in r["Properties"]
    }
    assert len(replicas_found) == 2
    primaries = [
        r["Properties"]
        for r in data.values()
        if r["Type"] == "AWS::RDS::DBInstance" and "SourceDBInstanceIdentifier" not in r["Properties"]
    ]
    assert all(p["StorageEncrypted"] is True for p in primaries)
    for props in replicas_found.values():  # a replica of an encrypted instance is encrypted with its key
        assert "StorageEncrypted" not in props
        assert props["EnableIAMDatabaseAuthentication"] is True
        assert props["MultiAZ"] is False
    assert sorted(p["DBInstanceClass"] for p in replicas_found.values()) == ["db.t4g.micro", "db.t4g.micro"]
    groups = [r["Properties"] for r in data.values() if r["Type"] == "AWS::EC2::SecurityGroup"]
    assert sum(g["GroupDescription"] == "PostgreSQL read replica" for g in groups) == 2
    ingress = [
        r["Properties"]
        for r in data.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress" and "reads" in r["Properties"].get("Description", "")
    ]
    assert len(ingress) == 2
    assert all(rule["FromPort"] == rule["ToPort"] == 5432 for rule in ingress)


def test_only_the_api_and_the_job_worker_learn_and_may_reach_the_replicas(replicas: Assembly):
    with_read_host = {
        lid
        for lid, props in functions(replicas).items()
        if "DB_READ_HOST" in props.get("Environment", {}).get("Variables", {})
    }
    assert len(with_read_host) == 2
    assert any(lid.startswith("Api") for lid in with_read_host)
    assert any(lid.startswith("JobsWorker") for lid in with_read_host)
    cells_value = next(
        props["Environment"]["Variables"]["CELLS"]
        for props in functions(replicas).values()
        if "CELLS" in props.get("Environment", {}).get("Variables", {})
    )
    assert "read_host" in json.dumps(cells_value)

    replica_grants: dict[str, int] = {}
    for lid, resource in replicas.template("service")["Resources"].items():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            if "rds-db:connect" not in json.dumps(statement["Action"]):
                continue
            arns = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            on_replicas = [arn for arn in arns if "Replica" in json.dumps(arn)]
            if on_replicas:
                replica_grants[lid] = replica_grants.get(lid, 0) + len(on_replicas)
    assert len(replica_grants) == 2  # the API's and the worker's roles
    assert all(count == 2 for count in replica_grants.values())  # both cells' replicas


def test_each_replica_alarms_on_lag_and_cpu(replicas: Assembly):
    descriptions = [
        r["Properties"]["AlarmDescription"]
        for r in replicas.template("service")["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and "read replica" in r["Properties"].get("AlarmDescription", "")
    ]
    assert sorted(descriptions) == sorted(
        [
            "Cell pooled: read replica more than 30 s behind the primary",
            "Cell pooled: read replica CPU above 80%",
            "Cell acme: read replica more than 30 s behind the primary",
            "Cell acme: read replica CPU above 80%",
        ]
    )


def test_nag_cfn_lint_checkov_and_the_cost_model_accept_replicas(
    replicas: Assembly, capsys: pytest.CaptureFixture[str]
):
    assert scanner_findings(replicas, checkov_stacks=("data",)) == CLEAN

    from saas_cli.main import main

    assert main(["cost", "--cdk-out", str(replicas.outdir), "--mau", "0"]) == 0, capsys.readouterr().err
    priced = capsys.readouterr().out
    assert "RDS db.t4g.micro x 3" in priced  # the pooled primary and both replicas are priced
    assert "RDS storage 20 GiB gp3 x 4" in priced  # each replica's storage is its source's
