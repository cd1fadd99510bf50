"""Updates cannot wedge (decision 0050): no CDK cross-region export anywhere, edge versions outlive the
stack update that replaces them, and values cross regions through parameters their writer owns."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.infra.conftest import Assembly

STACKS = ("edge", "data", "service", "monitoring")


def test_no_stack_uses_cdk_cross_region_exports(assembly: Assembly) -> None:
    for suffix in STACKS:
        text = json.dumps(assembly.template(suffix))
        assert "Custom::CrossRegionExport" not in text
        assert "/cdk/exports/" not in text
        # Ordinary exports only between stacks of one region (CloudFormation cannot cross regions anyway).
        for exporter in re.findall(r'"Fn::ImportValue": "([a-z0-9-]+):', text):
            assert assembly.stack_region(exporter.rsplit("-", 1)[-1]) == assembly.stack_region(suffix)


def test_edge_versions_are_retained_when_a_new_one_replaces_them(assembly: Assembly) -> None:
    versions = assembly.resources("edge", "AWS::Lambda::Version")
    assert len(versions) == 3
    for version in versions.values():
        assert version["DeletionPolicy"] == "Retain"
        assert version["UpdateReplacePolicy"] == "Retain"


def _parameters(assembly: Assembly, suffix: str) -> dict[str, Any]:
    return {
        resource["Properties"]["Name"]: resource["Properties"]["Value"]
        for resource in assembly.resources(suffix, "AWS::SSM::Parameter").values()
    }


def _reads(assembly: Assembly, suffix: str) -> dict[str, dict[str, Any]]:
    """Parameter name -> the SDK call a reader makes (from its Create properties)."""
    calls = {}
    for resource in assembly.resources(suffix, "Custom::AWS").values():
        create = resource["Properties"]["Create"]
        call = json.loads(
            create if isinstance(create, str) else "".join(str(p) for p in create["Fn::Join"][1])
        )
        calls[call["parameters"]["Name"]] = call
    return calls


def test_the_service_stack_reads_exactly_what_the_edge_stack_writes(assembly: Assembly) -> None:
    written = _parameters(assembly, "edge")
    # Dev runs without WAF (a cost knob, docs/cost.md), so no web ACL is handed over.
    assert set(written) == {
        "/saas-dev/handover/edge/viewer-request",
        "/saas-dev/handover/edge/origin-request",
        "/saas-dev/handover/edge/viewer-response",
    }
    reads = _reads(assembly, "service")
    assert set(reads) == set(written)
    for call in reads.values():
        assert call["region"] == "us-east-1"
        assert (call["service"], call["action"]) == ("SSM", "getParameter")
    for name, value in written.items():
        if name.endswith("web-acl-arn"):
            assert value == {"Fn::GetAtt": [value["Fn::GetAtt"][0], "Arn"]}
        else:
            (version_id,) = value.values()
            assert assembly.template("edge")["Resources"][version_id]["Type"] == "AWS::Lambda::Version"


def test_a_new_edge_version_makes_the_service_stack_read_again(assembly: Assembly) -> None:
    # The reader's physical id names the version's logical id, which CDK derives from the code's hash.
    edge_versions = set(assembly.resources("edge", "AWS::Lambda::Version"))
    revisions = {
        call["physicalResourceId"]["id"].rsplit("@", 1)[1]
        for name, call in _reads(assembly, "service").items()
        if "web-acl" not in name
    }
    assert revisions == edge_versions


def test_the_distribution_runs_the_versions_the_edge_stack_published(assembly: Assembly) -> None:
    (distribution,) = assembly.resources("service", "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    arns = {
        json.dumps(association["LambdaFunctionARN"])
        for association in config["DefaultCacheBehavior"]["LambdaFunctionAssociations"]
    }
    assert len(arns) == 2  # dev turns the anonymous-cookie trigger off (a cost knob)
    assert all('"Parameter.Value"' in arn for arn in arns)
    # Dev runs without WAF (a cost knob); prod refuses to synthesize without it.
    assert "WebACLId" not in config


def test_stacks_deploy_in_handover_order(assembly: Assembly) -> None:
    artifacts = assembly.manifest["artifacts"]

    def dependencies(suffix: str) -> set[str]:
        (name,) = [
            n
            for n, a in artifacts.items()
            if n.endswith(f"-{suffix}") and a["type"] == "aws:cloudformation:stack"
        ]
        return {d for d in artifacts[name].get("dependencies", []) if not d.endswith(".assets")}

    assert {"saas-dev-edge", "saas-dev-data"} <= dependencies("service")
    assert "saas-dev-service" in dependencies("monitoring")
