"""Network and database: isolation, encryption, RDS Proxy TLS + IAM, who may reach PostgreSQL."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match

from tests.infra.conftest import Assembly


def test_proxy_requires_tls_and_end_to_end_iam_auth(data: Any, assembly: Assembly) -> None:
    data.has_resource_properties(
        "AWS::RDS::DBProxy",
        {"RequireTLS": True, "DefaultAuthScheme": "IAM_AUTH", "EngineFamily": "POSTGRESQL"},
    )
    (proxy,) = assembly.resources("data", "AWS::RDS::DBProxy").values()
    assert "Auth" not in proxy["Properties"]  # no stored app password anywhere
    assert proxy["Properties"]["DBProxyName"] == "saas-dev-proxy"  # unique per environment
    role_id = proxy["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    (policy,) = [
        p["Properties"]
        for p in assembly.resources("data", "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "rds-db:connect"
    resource = str(statement["Resource"])
    assert ":dbuser:" in resource
    assert "DbiResourceId" in resource
    assert "/saas_app" in resource


def test_instance_is_encrypted_private_backed_up_and_forces_tls(data: Any) -> None:
    data.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "StorageEncrypted": True,
            "PubliclyAccessible": False,
            "StorageType": "gp3",
            "EnableIAMDatabaseAuthentication": True,
            "BackupRetentionPeriod": 7,
            "DeletionProtection": False,
            "Engine": "postgres",
        },
    )
    data.has_resource_properties(
        "AWS::RDS::DBParameterGroup", {"Parameters": Match.object_like({"rds.force_ssl": "1"})}
    )


def _instance_id(resources: dict[str, Any]) -> str:
    (instance_id,) = [lid for lid, r in resources.items() if r["Type"] == "AWS::RDS::DBInstance"]
    return instance_id


def test_postgres_is_reachable_only_from_the_proxy_and_the_migrate_function(assembly: Assembly) -> None:
    resources = assembly.template("data")["Resources"]
    ingress = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress"
        and r["Properties"]["FromPort"] in (5432, {"Fn::GetAtt": [_instance_id(resources), "Endpoint.Port"]})
    ]
    sources = {rule["SourceSecurityGroupId"]["Fn::GetAtt"][0] for rule in ingress}
    # One rule per client group: EC2 refuses a duplicate rule at deploy time.
    rules = [
        (rule["GroupId"]["Fn::GetAtt"][0], rule["SourceSecurityGroupId"]["Fn::GetAtt"][0]) for rule in ingress
    ]
    assert len(rules) == len(set(rules)) == 3
    assert all("CidrIp" not in rule for rule in ingress)
    descriptions = {resources[source]["Properties"]["GroupDescription"] for source in sources}
    assert descriptions == {
        "RDS Proxy",
        "Origin functions (app role via RDS Proxy)",
        "Deploy-time migrate function (owner role)",
    }


def test_vpc_has_gateway_endpoints_and_private_data_subnets(assembly: Assembly) -> None:
    # Interface endpoints depend on the environment (none in dev): tests/infra/test_cost_knobs.py.
    services = {
        str(endpoint["Properties"]["ServiceName"])
        for endpoint in assembly.resources("data", "AWS::EC2::VPCEndpoint").values()
    }
    joined = " ".join(services)
    for service in ("s3", "dynamodb"):
        assert f".{service}" in joined or service in joined
    data_subnets = [
        s
        for s in assembly.resources("data", "AWS::EC2::Subnet").values()
        if s["Properties"]["MapPublicIpOnLaunch"] is False
    ]
    assert data_subnets


def test_flow_logs_are_on(data: Any) -> None:
    data.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL"})
