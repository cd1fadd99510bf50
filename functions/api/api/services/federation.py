"""The adapter to Cognito user-pool identity providers and the Secrets Manager secrets of OIDC clients.

Calls (``cognito-idp``): CreateIdentityProvider, DescribeIdentityProvider, UpdateIdentityProvider,
DeleteIdentityProvider, ListIdentityProviders (`saas sso reconcile` only), DescribeUserPoolClient + UpdateUserPoolClient (to add or remove a provider in the
app client's SupportedIdentityProviders). UpdateUserPoolClient resets every setting it is not given, so
the client's current settings are read and sent back whole with only the provider list changed.
(``secretsmanager``): CreateSecret, GetSecretValue, PutSecretValue, DeleteSecret, RestoreSecret.

Every failure becomes ``IdentityProviderError`` (or ``IdentityProviderRejectedError`` when Cognito
refuses the settings themselves), with the service's error code and no internal detail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from api.exceptions import IdentityProviderError, IdentityProviderRejectedError
from api.settings import ApiSettings, get_settings
from saascore.exceptions import ConfigurationError

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

# UpdateUserPoolClient's request members that DescribeUserPoolClient also returns.
CLIENT_SETTINGS = (
    "ClientName",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "AnalyticsConfiguration",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "EnablePropagateAdditionalUserContextData",
    "AuthSessionValidity",
    "RefreshTokenRotation",
)
REJECTED_CODES = frozenset({"InvalidParameterException", "UnsupportedIdentityProviderException"})
SECRET_RECOVERY_DAYS = 7


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """What CreateIdentityProvider/UpdateIdentityProvider take for one provider."""

    name: str
    provider_type: str  # "SAML" | "OIDC"
    details: dict[str, str]
    attribute_mapping: dict[str, str]
    identifiers: tuple[str, ...] = ()


@contextmanager
def _translated(action: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        if code in REJECTED_CODES:
            message = exc.response.get("Error", {}).get("Message", "")
            raise IdentityProviderRejectedError(f"{action}: {message[:300] or code}", code=code) from exc
        raise IdentityProviderError(f"{action} failed ({code})", code=code) from exc
    except BotoCoreError as exc:
        raise IdentityProviderError(f"{action} failed ({type(exc).__name__})") from exc


def _is_not_found(exc: IdentityProviderError) -> bool:
    return exc.extensions.get("code") == "ResourceNotFoundException"


class CognitoFederation:
    def __init__(
        self,
        *,
        user_pool_id: str,
        app_client_id: str,
        secret_prefix: str,
        region: str,
        endpoint_url: str | None = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        config = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})
        self.user_pool_id = user_pool_id
        self.app_client_id = app_client_id
        self.secret_prefix = secret_prefix.rstrip("/")
        self._cognito: CognitoIdentityProviderClient = boto3.client(
            "cognito-idp", region_name=region, endpoint_url=endpoint_url, config=config
        )
        self._secrets: SecretsManagerClient = boto3.client(
            "secretsmanager", region_name=region, endpoint_url=endpoint_url, config=config
        )

    # Identity providers.

    def create_provider(self, spec: ProviderSpec) -> None:
        with _translated("CreateIdentityProvider"):
            self._cognito.create_identity_provider(
                UserPoolId=self.user_pool_id,
                ProviderName=spec.name,
                ProviderType=spec.provider_type,  # type: ignore[arg-type]
                ProviderDetails=spec.details,
                AttributeMapping=spec.attribute_mapping,
                IdpIdentifiers=list(spec.identifiers),
            )

    def describe_provider(self, name: str) -> ProviderSpec | None:
        try:
            with _translated("DescribeIdentityProvider"):
                provider = self._cognito.describe_identity_provider(
                    UserPoolId=self.user_pool_id, ProviderName=name
                )["IdentityProvider"]
        except IdentityProviderError as exc:
            if _is_not_found(exc):
                return None
            raise
        return ProviderSpec(
            name=name,
            provider_type=str(provider.get("ProviderType")),
            details=dict(provider.get("ProviderDetails", {})),
            attribute_mapping=dict(provider.get("AttributeMapping", {})),
            identifiers=tuple(provider.get("IdpIdentifiers", ())),
        )

    def update_provider(self, spec: ProviderSpec) -> None:
        with _translated("UpdateIdentityProvider"):
            self._cognito.update_identity_provider(
                UserPoolId=self.user_pool_id,
                ProviderName=spec.name,
                ProviderDetails=spec.details,
                AttributeMapping=spec.attribute_mapping,
                IdpIdentifiers=list(spec.identifiers),
            )

    def delete_provider(self, name: str) -> bool:
        """False when there was no such provider (already gone)."""
        try:
            with _translated("DeleteIdentityProvider"):
                self._cognito.delete_identity_provider(UserPoolId=self.user_pool_id, ProviderName=name)
        except IdentityProviderError as exc:
            if _is_not_found(exc):
                return False
            raise
        return True

    def list_providers(self) -> list[str]:
        """Every provider name in the user pool (all pages)."""
        names: list[str] = []
        token: str | None = None
        while True:
            page_args: dict[str, Any] = {"NextToken": token} if token else {}
            with _translated("ListIdentityProviders"):
                page = self._cognito.list_identity_providers(
                    UserPoolId=self.user_pool_id, MaxResults=60, **page_args
                )
            names.extend(provider["ProviderName"] for provider in page["Providers"])
            token = page.get("NextToken")
            if not token:
                return names

    # The app client's provider list.

    def client_providers(self) -> list[str]:
        with _translated("DescribeUserPoolClient"):
            client = self._cognito.describe_user_pool_client(
                UserPoolId=self.user_pool_id, ClientId=self.app_client_id
            )["UserPoolClient"]
        return list(client.get("SupportedIdentityProviders", []))

    def change_client_providers(self, change: Callable[[list[str]], list[str]]) -> None:
        """One DescribeUserPoolClient + UpdateUserPoolClient: the client's settings sent back whole, with
        SupportedIdentityProviders replaced by ``change(current list)``."""
        with _translated("DescribeUserPoolClient"):
            client: dict[str, Any] = dict(
                self._cognito.describe_user_pool_client(
                    UserPoolId=self.user_pool_id, ClientId=self.app_client_id
                )["UserPoolClient"]
            )
        settings = {key: client[key] for key in CLIENT_SETTINGS if key in client}
        settings["SupportedIdentityProviders"] = change(list(client.get("SupportedIdentityProviders", [])))
        with _translated("UpdateUserPoolClient"):
            self._cognito.update_user_pool_client(
                UserPoolId=self.user_pool_id, ClientId=self.app_client_id, **settings
            )

    def enable_on_client(self, name: str) -> None:
        self.change_client_providers(lambda current: current if name in current else [*current, name])

    def disable_on_client(self, name: str) -> None:
        self.change_client_providers(lambda current: [entry for entry in current if entry != name])

    # OIDC client secrets.

    def secret_name(self, provider_name: str) -> str:
        return f"{self.secret_prefix}/{provider_name}"

    def create_secret(self, provider_name: str, value: str) -> str:
        with _translated("CreateSecret"):
            return self._secrets.create_secret(
                Name=self.secret_name(provider_name),
                SecretString=value,
                Description="OIDC client secret of a tenant's SSO connection",
            )["ARN"]

    def read_secret(self, arn: str) -> str:
        with _translated("GetSecretValue"):
            return self._secrets.get_secret_value(SecretId=arn)["SecretString"]

    def put_secret(self, arn: str, value: str) -> None:
        with _translated("PutSecretValue"):
            self._secrets.put_secret_value(SecretId=arn, SecretString=value)

    def delete_secret(self, arn: str) -> None:
        with _translated("DeleteSecret"):
            self._secrets.delete_secret(SecretId=arn, RecoveryWindowInDays=SECRET_RECOVERY_DAYS)

    def restore_secret(self, arn: str) -> None:
        with _translated("RestoreSecret"):
            self._secrets.restore_secret(SecretId=arn)


def federation_from(settings: ApiSettings) -> CognitoFederation:
    if not settings.sso_user_pool_id or not settings.sso_app_client_id:
        raise ConfigurationError(
            "SSO_USER_POOL_ID and SSO_APP_CLIENT_ID are not configured; SSO is unavailable"
        )
    return CognitoFederation(
        user_pool_id=settings.sso_user_pool_id,
        app_client_id=settings.sso_app_client_id,
        secret_prefix=settings.sso_secret_prefix,
        region=settings.region,
        endpoint_url=settings.aws_endpoint_url,
    )


@lru_cache(maxsize=1)
def get_federation() -> CognitoFederation:
    return federation_from(get_settings())
