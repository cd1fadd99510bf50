"""The local development identity provider: real RS256 ID tokens signed by a key under `.local/keys/`.

It stands in for Cognito on a laptop and in end-to-end tests only. Its issuer is a loopback URL and
its key lives outside the repository, so no production configuration can name it: the API and edge
trust it only because the local stack configures them to.
"""

from __future__ import annotations

import base64
import datetime
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from local.keys import load_or_create_key, public_jwk

DEFAULT_CLIENT_ID = "saas-local-client"
TOKEN_LIFETIME_SECONDS = 3600
# The dev IdP's SAML signing certificate: self-signed with its key, fixed dates so the metadata is stable.
CERTIFICATE_NOT_BEFORE = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
CERTIFICATE_DAYS = 3650
# Stable user ids: the same email always maps to the same IdP subject, like a real user pool.
SUBJECT_NAMESPACE = uuid.UUID("6f1d3c8e-5a52-4b0e-9a4e-2b7f0c1d9e11")


@dataclass(frozen=True, slots=True)
class DevIdp:
    issuer: str
    key_path: Path
    client_id: str = DEFAULT_CLIENT_ID

    @property
    def jwk(self) -> dict[str, Any]:
        return public_jwk(load_or_create_key(self.key_path))

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk]}

    def subject_for(self, email: str) -> str:
        return str(uuid.uuid5(SUBJECT_NAMESPACE, email.strip().lower()))

    def issue(
        self,
        email: str,
        *,
        name: str | None = None,
        lifetime: int = TOKEN_LIFETIME_SECONDS,
        provider: str | None = None,
        provider_type: str = "SAML",
        groups: Sequence[str] = (),
    ) -> str:
        """A Cognito-shaped ID token (token_use=id, aud=client id) for `email`; with `provider`, the shape of
        a federated sign-in through that user-pool identity provider: Cognito's own subject for the linked
        user, `cognito:username` `<provider>_<IdP user id>`, the `identities` JSON array, and the IdP's
        groups in `custom:groups` as Cognito writes a multi-valued attribute (`[a, b]`)."""
        key = load_or_create_key(self.key_path)
        now = int(time.time())
        address = email.strip().lower()
        subject = self.subject_for(email if provider is None else f"{provider}:{address}")
        federated: dict[str, Any] = {}
        if provider is not None:
            idp_user = self.subject_for(f"idp:{address}")
            federated = {
                "cognito:username": f"{provider}_{idp_user}",
                "identities": [
                    {
                        "userId": idp_user,
                        "providerName": provider,
                        "providerType": provider_type,
                        "issuer": None,
                        "primary": "true",
                        "dateCreated": str(now * 1000),
                    }
                ],
            }
            if groups:
                federated["custom:groups"] = "[" + ", ".join(groups) + "]"
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.client_id,
            "token_use": "id",
            "email": email.strip().lower(),
            "email_verified": True,
            "name": name or email.split("@", 1)[0],
            "iat": now,
            "auth_time": now,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
            **federated,
        }
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.jwk["kid"]})

    def saml_metadata(self, sso_location: str) -> str:
        """SAML 2.0 IdP metadata naming this IdP (entityID: its issuer), a self-signed signing certificate
        of its key, and ``sso_location`` as the SingleSignOnService: enough for a SAML connection to be
        registered against the local stack (moto's Cognito keeps it; no SAML exchange runs locally)."""
        key = load_or_create_key(self.key_path)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "saas dev idp")])
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(1)
            .not_valid_before(CERTIFICATE_NOT_BEFORE)
            .not_valid_after(CERTIFICATE_NOT_BEFORE + datetime.timedelta(days=CERTIFICATE_DAYS))
            .sign(key, hashes.SHA256())
        )
        der = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
        return (
            '<?xml version="1.0"?>'
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{self.issuer}">'
            '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>'
            f"<ds:X509Certificate>{der}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            f'Location="{sso_location}"/></md:IDPSSODescriptor></md:EntityDescriptor>'
        )


AUTHORIZATION_CODE_SECONDS = 60


@dataclass
class DevOidcEndpoints:
    """The dev IdP's OpenID Connect authorization-code endpoints, so its discovery document is a complete one
    and an OIDC connection can name it. There is no login page: ``login_hint`` names who signs in. Codes are
    one-use, live ``AUTHORIZATION_CODE_SECONDS`` and belong to the client id and redirect URI they were
    issued for; the client authenticates with its id (any secret: a dev IdP keeps none)."""

    idp: DevIdp
    codes: dict[str, tuple[str, str, str, float]] = field(default_factory=dict)

    def authorize(self, params: dict[str, str]) -> tuple[int, dict[str, str]]:
        """(302, {"location": redirect}) with the code, or (400, {"error": ...})."""
        if params.get("response_type") != "code":
            return 400, {"error": "unsupported_response_type"}
        if params.get("client_id") != self.idp.client_id or not params.get("redirect_uri"):
            return 400, {
                "error": "invalid_request",
                "error_description": "unknown client_id or no redirect_uri",
            }
        email = params.get("login_hint", "").strip()
        if "@" not in email:
            return 400, {"error": "invalid_request", "error_description": "login_hint must name an e-mail"}
        code = secrets.token_urlsafe(24)
        self.codes[code] = (params["client_id"], params["redirect_uri"], email, time.monotonic())
        query = {"code": code, **({"state": params["state"]} if "state" in params else {})}
        separator = "&" if "?" in params["redirect_uri"] else "?"
        return 302, {"location": params["redirect_uri"] + separator + urlencode(query)}

    def token(self, form: dict[str, str], client_id: str | None) -> tuple[int, dict[str, Any]]:
        """The ID token for a code (RFC 6749 §4.1.3), or an OAuth error."""
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        issued = self.codes.pop(form.get("code", ""), None)
        client = client_id or form.get("client_id")
        if (
            issued is None
            or time.monotonic() - issued[3] > AUTHORIZATION_CODE_SECONDS
            or issued[0] != client
            or issued[1] != form.get("redirect_uri")
        ):
            return 400, {"error": "invalid_grant"}
        return 200, {
            "id_token": self.idp.issue(issued[2]),
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECONDS,
        }
