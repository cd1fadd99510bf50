"""The Stripe credentials in Secrets Manager: one JSON secret {"api_key", "webhook_secret"} whose real
values the operator puts in after the first deploy (README); functions get `secretsmanager:` references."""

from __future__ import annotations

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.components import checkov


class StripeSecret(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, name: str, retain: bool) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            secret_name=name,
            description='Stripe API key and webhook endpoint secret(s): {"api_key", "webhook_secret"}',
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template='{"api_key": "sk_test_replace_me"}',  # noqa: S106 - placeholder the operator replaces
                generate_string_key="webhook_secret",
            ),
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        Validations.of(self.secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="Stripe keys are rolled in the Stripe dashboard; the receiver accepts old and new "
                "webhook secrets during a roll (README), so Secrets Manager rotation does not apply.",
            )
        )

        checkov.skip(self.secret, "CKV_AWS_149", MANAGED_KEY_REASON)

    def reference(self, key: str) -> str:
        """The `secretsmanager:<arn>#<key>` form `saascore.secrets.resolve_secret` reads."""
        return f"secretsmanager:{self.secret.secret_arn}#{key}"

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.secret.grant_read(grantee)


MANAGED_KEY_REASON = (
    "Encrypted with the account's aws/secretsmanager key; only the functions' roles may read the secret, "
    "which a customer key would not narrow further."
)
