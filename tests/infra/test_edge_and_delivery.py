"""Lambda@Edge in us-east-1 without environment variables, WAF, and every CloudFront behavior carrying the
edge functions with no caching of API responses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match

from edge.remote_config import load_bundled as load_edge_config
from infra.components.edge import edge_config
from infra.config import ConfigError, EnvironmentConfig, IdentityProviderConfig
from tests.infra.conftest import Assembly, cdk_context

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def test_edge_stack_is_in_us_east_1(assembly: Assembly) -> None:
    assert assembly.stack_region("edge") == "us-east-1"


def test_edge_functions_are_x86_python_without_environment(assembly: Assembly) -> None:
    functions = {
        lid: f["Properties"]
        for lid, f in assembly.resources("edge", "AWS::Lambda::Function").items()
        if str(f["Properties"].get("Handler", "")).startswith("edge.")
    }
    handlers = {properties["Handler"] for properties in functions.values()}
    assert handlers == {
        "edge.handler.viewer_request",
        "edge.handler.origin_request",
        "edge.handler.viewer_response",
    }
    for properties in functions.values():
        assert "Environment" not in properties
        assert properties.get("Architectures", ["x86_64"]) == ["x86_64"]
        assert properties["Runtime"] == "python3.11"
        assert "Layers" not in properties
        assert "VpcConfig" not in properties
        origin = properties["Handler"].endswith("origin_request")
        assert properties["Timeout"] <= (30 if origin else 5)
        assert origin or properties["MemorySize"] <= 128  # viewer triggers: 128 MB at most


def test_edge_roles_trust_lambda_at_edge(assembly: Assembly) -> None:
    resources = assembly.template("edge")["Resources"]
    roles = [
        resources[f["Properties"]["Role"]["Fn::GetAtt"][0]]
        for f in resources.values()
        if f["Type"] == "AWS::Lambda::Function"
        and str(f["Properties"].get("Handler", "")).startswith("edge.")
    ]
    assert len(roles) == 3
    for role in roles:
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert set(statement["Principal"]["Service"]) == {"lambda.amazonaws.com", "edgelambda.amazonaws.com"}


def test_waf_is_for_cloudfront_with_managed_rules_and_a_rate_limit(tmp_path: Path) -> None:
    # Dev runs without a WAF (cdk.json `waf: false`); prod must have it, so the prod edge stack is checked.
    from aws_cdk import App, Environment
    from aws_cdk.assertions import Template

    from infra.config import EDGE_REGION, load_config
    from infra.stacks.edge_stack import EdgeStack

    config = load_config(cdk_context(env="prod"), default_account=None, default_region=None)
    app = App(outdir=str(tmp_path))
    edge = Template.from_stack(
        EdgeStack(app, "prod-edge", config=config, env=Environment(region=EDGE_REGION))
    )
    edge.has_resource_properties(
        "AWS::WAFv2::WebACL",
        {
            "Scope": "CLOUDFRONT",
            "Rules": Match.array_with(
                [
                    Match.object_like(
                        {
                            "Statement": {
                                "ManagedRuleGroupStatement": {
                                    "VendorName": "AWS",
                                    "Name": "AWSManagedRulesCommonRuleSet",
                                }
                            }
                        }
                    ),
                    Match.object_like(
                        {"Statement": {"RateBasedStatement": Match.object_like({"AggregateKeyType": "IP"})}}
                    ),
                ]
            ),
        },
    )


def _behaviors(assembly: Assembly) -> list[dict[str, Any]]:
    (distribution,) = assembly.resources("service", "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    return [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]


def test_every_behavior_has_the_edge_functions_and_body_for_origin_request(assembly: Assembly) -> None:
    behaviors = _behaviors(assembly)
    assert {b.get("PathPattern") for b in behaviors} == {
        None,
        "/api/*",
        "/.well-known/*",
        "/scim/v2/*",
        "/webhooks/stripe",
    }
    for behavior in behaviors:
        associations = {a["EventType"]: a for a in behavior["LambdaFunctionAssociations"]}
        # viewer-response only with anonymous_cookie_at_edge (off in dev): tests/infra/test_cost_knobs.py.
        assert {"viewer-request", "origin-request"} <= set(associations)
        assert associations["origin-request"]["IncludeBody"] is True
        assert behavior["ViewerProtocolPolicy"] == "https-only"
        assert behavior["CachePolicyId"] == CACHING_DISABLED
        assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER


def test_distribution_has_logging_and_modern_tls(assembly: Assembly) -> None:
    (distribution,) = assembly.resources("service", "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    assert "Logging" in config
    for origin in config["Origins"]:
        assert "OriginAccessControlId" in origin


def test_edge_config_carries_public_material_only() -> None:
    config = EnvironmentConfig(
        name="dev",
        public_base_url="https://app.example.com",
        identity_providers=(
            IdentityProviderConfig(
                issuer="https://cognito-idp.eu-west-1.amazonaws.com/pool",
                jwks_url="https://cognito-idp.eu-west-1.amazonaws.com/pool/.well-known/jwks.json",
                audiences=("client",),
            ),
        ),
        flags={"features": {"new-dashboard": {"defaultValue": False}}},
    )
    document = edge_config(config)
    issuers = {issuer["issuer"]: issuer for issuer in document["issuers"]}
    assert issuers[config.session_issuer]["jwks_url"] == "/.well-known/jwks.json"
    assert issuers["https://cognito-idp.eu-west-1.amazonaws.com/pool"]["audiences"] == ["client"]
    assert document["flags"] == {"payload": {"features": {"new-dashboard": {"defaultValue": False}}}}
    assert "secret" not in json.dumps(document).lower()
    assert load_edge_config(document).is_public("POST", "/webhooks/stripe")


def test_edge_config_with_an_invalid_issuer_stops_synth() -> None:
    from infra.components.edge import edge_asset_dir

    bad = IdentityProviderConfig(issuer="https://idp.example", jwks_url="https://idp.example/jwks")
    with pytest.raises(ConfigError, match=r"invalid edge config: issuers\[1\]"):
        edge_asset_dir(EnvironmentConfig(name="dev", identity_providers=(bad,)))


def test_bundled_edge_asset_holds_a_config_the_edge_loader_accepts(assembly: Assembly) -> None:
    resources = assembly.template("edge")["Resources"]
    (code,) = {
        r["Properties"]["Code"]["S3Key"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function"
        and str(r["Properties"].get("Handler", "")).startswith("edge.")
    }
    asset = assembly.outdir / f"asset.{code.removesuffix('.zip')}"
    config = load_edge_config(json.loads((asset / "edge" / "config.json").read_text()))
    assert config.environment == "dev"
    assert [issuer.issuer for issuer in config.issuers] == ["https://dev.saas.example.com"]
