"""Per-tenant SSO around the user pool: the hosted-UI domain federated sign-in starts at, and the API's
right to manage the pool's identity providers, the app client's provider list, and the OIDC client
secrets under one Secrets Manager prefix (docs/identity.md)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, ArnFormat, Aws, Stack, Token, Validations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.components.identity import Identity

# cognito-idp actions the API calls (api.services.federation), all on the one user pool.
COGNITO_ACTIONS = (
    "cognito-idp:CreateIdentityProvider",
    "cognito-idp:DescribeIdentityProvider",
    "cognito-idp:UpdateIdentityProvider",
    "cognito-idp:DeleteIdentityProvider",
    "cognito-idp:DescribeUserPoolClient",
    "cognito-idp:UpdateUserPoolClient",
)
SECRET_ACTIONS = (
    "secretsmanager:CreateSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:DeleteSecret",
    "secretsmanager:RestoreSecret",
    "secretsmanager:DescribeSecret",
)


CALLBACK_PATH = "/auth/callback"


def redirect_uri_for(app_url: str) -> str | None:
    return f"{app_url}{CALLBACK_PATH}" if app_url else None


class SsoFederation(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        identity: Identity,
        prefix: str,
        redirect_uri: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.identity = identity
        self.redirect_uri = redirect_uri
        self.secret_prefix = f"{prefix}/sso"
        # A Cognito-prefix domain: unique per region, so the account id keeps two accounts apart.
        self.domain = identity.user_pool.add_domain(
            "HostedUi",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=f"{prefix}-{Aws.ACCOUNT_ID}"),
        )

    @property
    def environment(self) -> dict[str, str]:
        """The API settings (api.settings) that turn SSO on; discovery needs the redirect URI (the app's
        public URL), so without one it answers ``password`` for every address."""
        environment = {
            "SSO_USER_POOL_ID": self.identity.user_pool.user_pool_id,
            "SSO_APP_CLIENT_ID": self.identity.client.user_pool_client_id,
            "SSO_HOSTED_UI_URL": self.domain.base_url(),
            "SSO_SECRET_PREFIX": self.secret_prefix,
        }
        if self.redirect_uri:
            environment["SSO_REDIRECT_URI"] = self.redirect_uri
        return environment

    def grant_management(self, function: lambda_.IFunction) -> None:
        iam.Grant.add_to_principal(
            grantee=function,
            actions=list(COGNITO_ACTIONS),
            resource_arns=[self.identity.user_pool.user_pool_arn],
        )
        stack = Stack.of(self)
        secrets = stack.format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{self.secret_prefix}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        iam.Grant.add_to_principal(grantee=function, actions=list(SECRET_ACTIONS), resource_arns=[secrets])
        # The finding names the ARN as cdk-nag renders it: literal where the stack's environment is known.
        partition, region, account = (
            f"<AWS::{name}>" if Token.is_unresolved(value) else value
            for name, value in (
                ("Partition", stack.partition),
                ("Region", stack.region),
                ("AccountId", stack.account),
            )
        )
        Validations.of(function).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::arn:{partition}:secretsmanager:{region}:{account}:secret:"
                f"{self.secret_prefix}/*]",
                reason="One secret per tenant SSO connection, created at run time under this prefix; "
                "the names are not known at deploy time.",
            )
        )
