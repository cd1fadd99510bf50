"""`saas ses dkim`: the stack's SES identity's DKIM records, printed or upserted into Route 53 (moto)."""

from __future__ import annotations

import boto3
import pytest

from saas_cli import main as saas
from saas_cli.deployment import Deployment, DeploymentError, environment_config
from saas_cli.ses import dkim_status, publish


@pytest.fixture
def identity(aws: None) -> Deployment:
    target = Deployment(environment_config("dev"))
    boto3.client("sesv2", region_name=target.config.region).create_email_identity(
        EmailIdentity=target.config.ses_identity
    )
    return target


def zone(name: str, *, private: bool = False) -> str:
    kwargs = {"VPC": {"VPCRegion": "eu-west-1", "VPCId": "vpc-1"}} if private else {}
    created = boto3.client("route53").create_hosted_zone(
        Name=name, CallerReference=name + str(private), **kwargs
    )
    zone_id: str = created["HostedZone"]["Id"].rsplit("/", 1)[-1]
    return zone_id


def cnames(zone_id: str) -> dict[str, str]:
    sets = boto3.client("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {s["Name"].rstrip("."): s["ResourceRecords"][0]["Value"] for s in sets if s["Type"] == "CNAME"}


def test_prints_three_cnames_for_the_domain(identity, capsys):
    assert saas.main(["ses", "dkim", "--env", "dev"]) == 0
    out = capsys.readouterr().out
    domain = identity.config.ses_identity
    lines = [line for line in out.splitlines() if " IN CNAME " in line]
    assert len(lines) == 3
    for line in lines:
        name, _, _, _, value = line.split()
        token = name.split("._domainkey.")[0]
        assert name == f"{token}._domainkey.{domain}."
        assert value == f"{token}.dkim.amazonses.com."
    assert "sandbox" in out


def test_route53_upserts_into_the_closest_zone_once(identity, capsys):
    parent = zone("example.com")
    closest = zone(identity.config.ses_identity)
    zone(identity.config.ses_identity, private=True)
    assert saas.main(["ses", "dkim", "--env", "dev", "--route53"]) == 0
    status = dkim_status(identity)
    written = cnames(closest)
    assert written == {record.name: record.value for record in status.records}
    assert cnames(parent) == {}
    capsys.readouterr()
    assert saas.main(["ses", "dkim", "--env", "dev", "--route53"]) == 0
    assert "nothing to change" in capsys.readouterr().out
    _, again = publish(identity, status, zone_id=None)
    assert again == []


def test_without_a_zone_it_says_where_to_put_the_records(identity):
    status = dkim_status(identity)
    with pytest.raises(DeploymentError, match="no public Route 53 hosted zone"):
        publish(identity, status, zone_id=None)


def test_before_the_deploy_it_says_to_deploy(aws, capsys):
    assert saas.main(["ses", "dkim", "--env", "dev"]) == 1
    assert "deploy the stacks first" in capsys.readouterr().err
