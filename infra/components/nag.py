"""Helpers for cdk-nag v3 acknowledgements that must name a resource's logical ID (IAM5 findings)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct


def logical_id(construct: IConstruct) -> str:
    """The synthesized logical ID of a construct's CloudFormation resource (its default child)."""
    element = construct.node.default_child if not isinstance(construct, CfnElement) else construct
    if not isinstance(element, CfnElement):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource")
    stack = Stack.of(element)
    return str(stack.resolve(stack.get_logical_id(element)))


def acknowledge_wildcard_resource(
    scope: IConstruct, *, resource: IConstruct, suffix: str, reason: str
) -> None:
    """Acknowledge `AwsSolutions-IAM5[Resource::<Logical.Arn><suffix>]` on `scope`, with a reason."""
    finding = f"AwsSolutions-IAM5[Resource::<{logical_id(resource)}.Arn>{suffix}]"
    Validations.of(scope).acknowledge(Acknowledgment(id=finding, reason=reason))
