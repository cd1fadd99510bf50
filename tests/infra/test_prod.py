"""Production differs where it matters: the data stack retains and protects the database."""

from __future__ import annotations

from pathlib import Path

from tests.infra.conftest import cdk_context


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
    (instance,) = template.find_resources("AWS::RDS::DBInstance").values()
    assert instance["DeletionPolicy"] == "Snapshot"
    properties = instance["Properties"]
    assert properties["MultiAZ"] is True
    assert properties["DeletionProtection"] is True
    assert properties["BackupRetentionPeriod"] == 30
    assert len(template.find_resources("AWS::EC2::NatGateway")) == 2
