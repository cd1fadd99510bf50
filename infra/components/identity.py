"""Who users are and how sessions are signed: a Cognito user pool with an app client (the IdP) and an
asymmetric KMS key the API signs session JWTs with (RS256; the public half is served as the JWKS)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class Identity(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        retain: bool,
        prefix: str,
        threat_protection: bool = False,
        callback_urls: list[str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
            ),
            # Federated sign-ins write the IdP's groups here on every sign-in (SSO), so it must be mutable.
            custom_attributes={"groups": cognito.StringAttribute(max_len=2048, mutable=True)},
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            # Threat protection is the one Plus feature used; Essentials is free under 10,000 MAU.
            feature_plan=cognito.FeaturePlan.PLUS if threat_protection else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION
            if threat_protection
            else None,
            deletion_protection=retain,
            removal_policy=removal,
        )
        self.client = self.user_pool.add_client(
            "WebClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            id_token_validity=Duration.minutes(60),
            access_token_validity=Duration.minutes(60),
            refresh_token_validity=Duration.days(30),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                # Where the hosted UI returns after a (federated) sign-in; the app trades the code there.
                callback_urls=callback_urls,
            ),
        )
        self.session_key = kms.Key(
            self,
            "SessionKey",
            alias=f"alias/{prefix}/session-signing",
            description="Signs session access tokens (RS256); the API serves the public key as a JWKS",
            key_spec=kms.KeySpec.RSA_2048,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            removal_policy=removal,
        )
        acknowledgments = [
            Acknowledgment(
                id="AwsSolutions-COG2",
                reason="MFA is optional per user (TOTP); tenants can require it, forcing it blocks API-only sign-ups.",
            ),
        ]
        if not threat_protection:
            essentials = (
                "Threat protection needs the Plus plan ($0.02 per MAU, no free tier); turn on "
                "cognito_threat_protection to enforce it (docs/cost.md)."
            )
            acknowledgments += [
                Acknowledgment(id="AwsSolutions-COG3", reason=essentials),
                Acknowledgment(id="AwsSolutions-COG8", reason=essentials),
            ]
        Validations.of(self.user_pool).acknowledge(*acknowledgments)

    @property
    def issuer(self) -> str:
        return (
            f"https://cognito-idp.{self.user_pool.stack.region}.amazonaws.com/{self.user_pool.user_pool_id}"
        )

    def grant_session_signing(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.session_key.grant(grantee, "kms:Sign", "kms:GetPublicKey", "kms:DescribeKey")
