"""The HMAC key erasure receipts are signed with (decision 0112): a generated Secrets Manager secret the
jobs worker reads through a `secretsmanager:` reference."""

from __future__ import annotations

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.components import checkov
from infra.components.stripe_secret import MANAGED_KEY_REASON


class ErasureReceiptKey(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, name: str) -> None:
        super().__init__(scope, construct_id)
        # Retained always: deleting it would leave every receipt signed so far unverifiable.
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            secret_name=name,
            description="HMAC-SHA256 key of tenant erasure receipts",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        Validations.of(self.secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="Receipts signed with a key must stay verifiable for as long as they are kept; a rotated "
                "key would need a key id in each receipt, which format 1 does not have.",
            )
        )
        checkov.skip(self.secret, "CKV_AWS_149", MANAGED_KEY_REASON)

    @property
    def reference(self) -> str:
        return f"secretsmanager:{self.secret.secret_arn}"

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.secret.grant_read(grantee)
