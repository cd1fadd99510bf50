"""The cost knobs (docs/cost.md) as they reach the templates: the dev configuration of cdk.json takes the
cheap side of each, prod keeps what it pays for, and `saas cost` can price every resource synthesized."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import Assembly, cdk_context


def _dev_config(**overrides: Any) -> Any:
    from infra.config import load_config

    context = cdk_context()
    context["environments"]["dev"] = {**context["environments"]["dev"], **overrides}
    return load_config(context, default_account=None, default_region=None)


def test_dev_leaves_through_one_nat_instance_and_has_no_interface_endpoint(assembly: Assembly) -> None:
    assert assembly.resources("data", "AWS::EC2::NatGateway") == {}
    (nat,) = assembly.resources("data", "AWS::EC2::Instance").values()
    assert nat["Properties"]["InstanceType"] == "t4g.nano"
    assert nat["Properties"]["SourceDestCheck"] is False
    endpoints = assembly.resources("data", "AWS::EC2::VPCEndpoint").values()
    assert {e["Properties"]["VpcEndpointType"] for e in endpoints} == {"Gateway"}


def test_the_nat_instance_accepts_traffic_only_from_the_vpc(assembly: Assembly) -> None:
    (nat,) = assembly.resources("data", "AWS::EC2::Instance").values()
    (group_ref,) = nat["Properties"]["SecurityGroupIds"]
    group_id = group_ref["Fn::GetAtt"][0]
    group = assembly.resources("data", "AWS::EC2::SecurityGroup")[group_id]["Properties"]
    ingress = group.get("SecurityGroupIngress", []) + [
        rule["Properties"]
        for rule in assembly.resources("data", "AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"].get("GroupId", {}).get("Fn::GetAtt", [None])[0] == group_id
    ]
    assert ingress
    assert all("CidrIp" not in rule or rule["CidrIp"] != "0.0.0.0/0" for rule in ingress)
    assert all("Fn::GetAtt" in rule.get("CidrIp", {}) for rule in ingress)


def test_dev_user_pool_is_essentials_without_threat_protection(assembly: Assembly) -> None:
    (pool,) = assembly.resources("service", "AWS::Cognito::UserPool").values()
    assert pool["Properties"]["UserPoolTier"] == "ESSENTIALS"
    assert "UserPoolAddOns" not in pool["Properties"]


def test_dev_functions_trace_only_what_the_caller_samples(assembly: Assembly) -> None:
    functions = assembly.resources("service", "AWS::Lambda::Function").values()
    modes = {
        f["Properties"].get("TracingConfig", {}).get("Mode")
        for f in functions
        if "TracingConfig" in f["Properties"]
    }
    assert modes == {"PassThrough"}


def test_dev_has_no_waf_and_no_viewer_response_trigger(assembly: Assembly) -> None:
    assert assembly.resources("edge", "AWS::WAFv2::WebACL") == {}
    (distribution,) = assembly.resources("service", "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    assert "WebACLId" not in config
    for behavior in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        events = {a["EventType"] for a in behavior["LambdaFunctionAssociations"]}
        assert events == {"viewer-request", "origin-request"}


def test_every_behavior_sends_the_edge_security_headers_from_a_policy(assembly: Assembly) -> None:
    from edge.config import DEFAULT_SECURITY_HEADERS

    (distribution,) = assembly.resources("service", "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    (policy_id, policy) = next(
        iter(assembly.resources("service", "AWS::CloudFront::ResponseHeadersPolicy").items())
    )
    for behavior in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        assert behavior["ResponseHeadersPolicyId"] == {"Ref": policy_id}
    policy_config = policy["Properties"]["ResponseHeadersPolicyConfig"]
    security = policy_config["SecurityHeadersConfig"]
    hsts = security["StrictTransportSecurity"]
    sent = {
        "strict-transport-security": f"max-age={hsts['AccessControlMaxAgeSec']}; includeSubDomains; preload",
        "x-content-type-options": "nosniff",
        "x-frame-options": security["FrameOptions"]["FrameOption"],
        "referrer-policy": security["ReferrerPolicy"]["ReferrerPolicy"],
        **{h["Header"].lower(): h["Value"] for h in policy_config["CustomHeadersConfig"]["Items"]},
    }
    assert hsts["IncludeSubdomains"] is True
    assert hsts["Preload"] is True
    assert "ContentTypeOptions" in security
    assert sent == DEFAULT_SECURITY_HEADERS


def test_saas_cost_prices_every_resource_of_the_app(
    assembly: Assembly, capsys: pytest.CaptureFixture[str]
) -> None:
    from saas_cli.main import main

    code = main(["cost", "--cdk-out", str(assembly.outdir), "--mau", "0", "--mau", "5000"])

    out = capsys.readouterr()
    assert code == 0, out.err
    assert "total" in out.out


def test_plus_plan_only_with_threat_protection(tmp_path: Path) -> None:
    from aws_cdk import App, Stack
    from aws_cdk.assertions import Template

    from infra.components.identity import Identity

    app = App(outdir=str(tmp_path))
    stack = Stack(app, "identity")
    Identity(stack, "Identity", retain=False, prefix="t", threat_protection=True)
    (pool,) = Template.from_stack(stack).find_resources("AWS::Cognito::UserPool").values()
    assert pool["Properties"]["UserPoolTier"] == "PLUS"
    assert pool["Properties"]["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}


def test_prod_keeps_gateways_endpoints_tracing_waf_and_the_cookie() -> None:
    from infra.config import load_config

    prod = load_config(cdk_context(env="prod"), default_account=None, default_region=None)
    assert prod.nat == "gateway"
    assert prod.nat_gateways == 2
    assert set(prod.interface_endpoints) == {"sqs", "secretsmanager", "kms", "xray"}
    assert prod.tracing == "active"
    assert prod.waf is True
    assert prod.anonymous_cookie_at_edge is True
    assert prod.database.multi_az is True
    assert prod.cognito_threat_protection is False


def test_prod_cannot_turn_the_waf_off() -> None:
    from infra.config import ConfigError, load_config

    context = cdk_context(env="prod")
    context["environments"]["prod"] = {**context["environments"]["prod"], "waf": False}
    with pytest.raises(ConfigError, match="waf"):
        load_config(context, default_account=None, default_region=None)


def test_no_endpoint_for_an_api_no_function_calls() -> None:
    from infra.config import ConfigError

    with pytest.raises(ConfigError, match="interface_endpoints"):
        _dev_config(interface_endpoints=["ssm"])


def test_isolated_functions_need_endpoints() -> None:
    from infra.config import ConfigError

    with pytest.raises(ConfigError, match="nat_gateways"):
        _dev_config(nat_gateways=0, interface_endpoints=[])
    assert _dev_config(nat_gateways=0, interface_endpoints=["sqs"]).nat_gateways == 0


def test_prod_has_interface_endpoints_only_for_apis_the_functions_call(tmp_path: Path) -> None:
    from aws_cdk import App, Environment
    from aws_cdk.assertions import Template

    from infra.config import load_config
    from infra.stacks.data_stack import DataStack

    config = load_config(cdk_context(env="prod"), default_account=None, default_region=None)
    app = App(outdir=str(tmp_path))
    stack = DataStack(app, "prod-data", config=config, env=Environment(region=config.region))
    endpoints = Template.from_stack(stack).find_resources("AWS::EC2::VPCEndpoint").values()
    interface = {
        str(e["Properties"]["ServiceName"]).rsplit(".", 1)[-1]
        for e in endpoints
        if e["Properties"]["VpcEndpointType"] == "Interface"
    }
    assert interface == {"sqs", "secretsmanager", "kms", "xray"}
    assert all(len(e["Properties"]["SubnetIds"]) == 3 for e in endpoints if "SubnetIds" in e["Properties"])
