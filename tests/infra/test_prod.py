"""Production differs where it matters: the data stack retains and protects the database, the
distribution serves only the custom domain over TLS 1.2+, the owner secret rotates, and every database
client's concurrency derives from the connection budget."""

from __future__ import annotations

import json
from pathlib import Path

from tests.infra.conftest import Assembly, cdk_context, config_for


def test_prod_database_is_multi_az_protected_and_snapshotted(tmp_path: Path) -> None:
    from aws_cdk import App, Environment
    from aws_cdk.assertions import Template

    from infra.config import load_config
    from infra.stacks.data_stack import DataStack

    config = load_config(cdk_context(env="prod"), default_account=None, default_region=None)
    app = App(outdir=str(tmp_path))
    stack = DataStack(
        app, "prod-data", config=config, env=Environment(account=config.account, region=config.region)
    )
    template = Template.from_stack(stack)
    instances = template.find_resources("AWS::RDS::DBInstance").values()
    (instance,) = [i for i in instances if "SourceDBInstanceIdentifier" not in i["Properties"]]
    (replica,) = [i for i in instances if "SourceDBInstanceIdentifier" in i["Properties"]]
    assert replica["Properties"]["DBInstanceClass"] == "db.r7g.large"  # reports read from it (decision 0152)
    assert replica["Properties"]["DeletionProtection"] is True
    assert instance["DeletionPolicy"] == "Snapshot"
    properties = instance["Properties"]
    assert properties["MultiAZ"] is True
    assert properties["DeletionProtection"] is True
    assert properties["BackupRetentionPeriod"] == 30
    assert len(template.find_resources("AWS::EC2::NatGateway")) == 2


def test_prod_synthesizes_with_zero_nag_findings(prod_assembly: Assembly) -> None:
    assert prod_assembly.synth_error is None
    report = json.loads((prod_assembly.outdir / "validation-report.json").read_text())
    assert [v for plugin in report["pluginReports"] for v in plugin["violations"]] == []


def test_prod_serves_only_its_domain_with_tls_1_2(prod_assembly: Assembly) -> None:
    (distribution,) = prod_assembly.resources("service", "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    assert config["Aliases"] == ["app.saas.example.com"]
    certificate = config["ViewerCertificate"]
    assert certificate["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert certificate["SslSupportMethod"] == "sni-only"
    assert certificate["AcmCertificateArn"].startswith("arn:aws:acm:us-east-1:")
    acknowledged = (prod_assembly.outdir / "saas-prod-service.metadata.json").read_text()
    assert "AwsSolutions-CFR4" not in acknowledged


def test_the_owner_secret_rotates_through_the_migrate_functions_network_path(prod_assembly: Assembly) -> None:
    resources = prod_assembly.template("data")["Resources"]
    (schedule,) = prod_assembly.resources("data", "AWS::SecretsManager::RotationSchedule").values()
    assert schedule["Properties"]["RotationRules"] == {"ScheduleExpression": "rate(30 days)"}
    (rotation,) = prod_assembly.resources("data", "AWS::Serverless::Application").values()
    parameters = rotation["Properties"]["Parameters"]
    (migrate_sg,) = [
        lid
        for lid, r in resources.items()
        if r["Type"] == "AWS::EC2::SecurityGroup"
        and r["Properties"]["GroupDescription"].startswith("Deploy-time migrate function")
    ]
    assert parameters["vpcSecurityGroupIds"] == {"Fn::GetAtt": [migrate_sg, "GroupId"]}
    subnets = json.dumps(parameters["vpcSubnetIds"])
    assert "functionsSubnet" in subnets
    assert "dataSubnet" not in subnets


def test_concurrency_of_every_database_client_derives_from_the_connection_budget(
    prod_assembly: Assembly,
) -> None:
    limits = config_for("prod").concurrency
    functions = prod_assembly.resources("service", "AWS::Lambda::Function")
    reserved = {
        f["Properties"]["Handler"]: f["Properties"].get("ReservedConcurrentExecutions")
        for f in functions.values()
        if "Handler" in f["Properties"]
    }
    assert reserved["api.main.handler"] == limits.api
    assert reserved["jobs.scheduler.handler"] == limits.scheduler
    assert reserved["saascore.db.migrate_handler.handler"] == limits.migrate
    handler_of = {lid: f["Properties"].get("Handler") for lid, f in functions.items()}
    capped = {
        handler_of[m["Properties"]["FunctionName"]["Ref"]]: m["Properties"]["ScalingConfig"][
            "MaximumConcurrency"
        ]
        for m in prod_assembly.resources("service", "AWS::Lambda::EventSourceMapping").values()
    }
    assert capped == {
        "jobs.worker.handler": limits.jobs_worker,
        "webhooks.processor.handler": limits.webhook_processor,
        "jobs.ses_events.handler": limits.ses_consumer,
        "jobs.webhook_worker.handler": limits.webhook_delivery,
    }
    assert limits.total == config_for("prod").database.connection_budget == 400
