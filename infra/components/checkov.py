"""checkov suppressions written where the resource is made: `Metadata.checkov.skip` on its CloudFormation
resource, each with the reason (checkov reads them from the synthesized template, tests/infra/test_checkov.py
fails on any other finding)."""

from __future__ import annotations

from aws_cdk import CfnResource, IAspect
from constructs import IConstruct
from jsii import implements

# CDK's own provider functions (custom resources CDK adds and we cannot configure), by construct id.
CDK_PROVIDER_IDS = (
    "AWS679f53fac002430cb0da5b7982bd2287",  # AwsCustomResource singleton (regional_parameters readers)
    "Custom::S3AutoDeleteObjectsCustomResourceProvider",
    "Custom::VpcRestrictDefaultSGCustomResourceProvider",
    "AWSCDK.TriggerCustomResourceProviderCustomResourceProvider",
)
CDK_PROVIDER_REASONS = {
    "CKV_AWS_115": "A CDK deploy-time custom resource provider: CloudFormation invokes it a few times per deploy.",
    "CKV_AWS_116": "A CDK custom resource provider is invoked synchronously by CloudFormation, which retries "
    "and reports failures itself; there is no asynchronous event to dead-letter.",
    "CKV_AWS_117": "A CDK custom resource provider calls only AWS APIs and touches no VPC resource.",
}


def skip(construct: IConstruct, check_id: str, reason: str) -> None:
    """Suppress `check_id` on the construct's CloudFormation resource, with the reason beside it."""
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to annotate")
    existing = resource.get_metadata("checkov") or {"skip": []}
    entries = [entry for entry in existing["skip"] if entry["id"] != check_id]
    resource.add_metadata("checkov", {"skip": [*entries, {"id": check_id, "comment": reason}]})


@implements(IAspect)
class CdkProviderSkips:
    """CDK's provider functions are created inside CDK (no handle to annotate): the reasons above apply."""

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, CfnResource) or node.cfn_resource_type != "AWS::Lambda::Function":
            return
        # The provider's Lambda resource is the direct child of the construct CDK names by that id.
        if node.node.scope is None or node.node.scope.node.id not in CDK_PROVIDER_IDS:
            return
        for check_id, reason in CDK_PROVIDER_REASONS.items():
            skip(node, check_id, reason)
