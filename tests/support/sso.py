"""SSO test doubles that are real: a moto Cognito user pool with an app client, a loopback HTTP server
playing a tenant's IdP (OIDC discovery, SAML metadata), and SAML metadata with a real X.509 certificate."""

from __future__ import annotations

import base64
import datetime
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from dns.rdtypes.ANY.TXT import TXT
from moto import mock_aws

from api.services.federation import get_federation
from api.settings import get_settings

REGION = "us-east-1"
CALLBACK_URL = "https://app.test.example/auth/callback"


@cache
def idp_certificate_b64() -> str:
    """A self-signed signing certificate, as SAML metadata carries it (base64 DER)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.test.example")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def saml_metadata(
    *,
    entity_id: str = "https://idp.test.example/saml",
    sso_location: str | None = "https://idp.test.example/sso",
    certificate: str | None = None,
    key_use: str = "signing",
) -> str:
    sso = (
        '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        f'Location="{sso_location}"/>'
        if sso_location
        else ""
    )
    cert = certificate if certificate is not None else idp_certificate_b64()
    key = (
        f'<md:KeyDescriptor use="{key_use}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}'
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        if cert
        else ""
    )
    return (
        '<?xml version="1.0"?>'
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{key}{sso}</md:IDPSSODescriptor></md:EntityDescriptor>"
    )


@dataclass
class FakeIdpServer:
    """Serves documents by path on 127.0.0.1 (what a tenant's IdP publishes)."""

    documents: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    base_url: str = ""

    def serve_discovery(self, path: str = "/oidc", *, issuer: str | None = None) -> str:
        issuer_url = f"{self.base_url}{path}"
        document = {
            "issuer": issuer or issuer_url,
            "authorization_endpoint": f"{issuer_url}/authorize",
            "token_endpoint": f"{issuer_url}/token",
            "jwks_uri": f"{issuer_url}/jwks",
        }
        self.documents[f"{path}/.well-known/openid-configuration"] = (
            "application/json",
            json.dumps(document).encode(),
        )
        return issuer_url

    def serve(self, path: str, content_type: str, body: bytes) -> str:
        self.documents[path] = (content_type, body)
        return f"{self.base_url}{path}"


@pytest.fixture
def idp_server() -> Iterator[FakeIdpServer]:
    state = FakeIdpServer()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = state.documents.get(self.path)
            if found is None:
                self.send_error(404)
                return
            content_type, body = found
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class CognitoPool:
    user_pool_id: str
    client_id: str

    @property
    def cognito(self) -> Any:
        return boto3.client("cognito-idp", region_name=REGION)

    @property
    def secrets(self) -> Any:
        return boto3.client("secretsmanager", region_name=REGION)

    def providers(self) -> list[str]:
        listed = self.cognito.list_identity_providers(UserPoolId=self.user_pool_id, MaxResults=60)
        return sorted(provider["ProviderName"] for provider in listed["Providers"])

    def client(self) -> dict[str, Any]:
        return dict(
            self.cognito.describe_user_pool_client(UserPoolId=self.user_pool_id, ClientId=self.client_id)[
                "UserPoolClient"
            ]
        )

    def provider(self, name: str) -> dict[str, Any]:
        return dict(
            self.cognito.describe_identity_provider(UserPoolId=self.user_pool_id, ProviderName=name)[
                "IdentityProvider"
            ]
        )


def clear_sso_caches() -> None:
    get_settings.cache_clear()
    get_federation.cache_clear()


@pytest.fixture
def cognito_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[CognitoPool]:
    """A moto user pool and app client, with the API configured to manage its identity providers."""
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name=REGION)
        pool_id = cognito.create_user_pool(PoolName="saas-test")["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="web",
            SupportedIdentityProviders=["COGNITO"],
            CallbackURLs=[CALLBACK_URL],
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email"],
            AllowedOAuthFlowsUserPoolClient=True,
            IdTokenValidity=60,
        )["UserPoolClient"]["ClientId"]
        monkeypatch.setenv("SSO_USER_POOL_ID", pool_id)
        monkeypatch.setenv("SSO_APP_CLIENT_ID", client_id)
        monkeypatch.setenv("SSO_HOSTED_UI_URL", "https://saas-test.auth.us-east-1.amazoncognito.com")
        monkeypatch.setenv("SSO_REDIRECT_URI", CALLBACK_URL)
        monkeypatch.setenv("SSO_ALLOW_LOOPBACK_FETCH", "true")
        monkeypatch.setenv("SSO_FETCH_TIMEOUT", "2")
        clear_sso_caches()
        yield CognitoPool(pool_id, client_id)
    clear_sso_caches()


@dataclass
class ZoneResolver:
    """DNS answers from zone-file TXT text (``"a" "b"``), parsed by dnspython as a real answer would be."""

    zone: dict[str, list[str]] = field(default_factory=dict)
    failure: Exception | None = None

    def publish(self, name: str, *texts: str) -> None:
        self.zone.setdefault(name, []).extend(texts)

    def txt(self, name: str) -> list[TXT]:
        if self.failure is not None:
            raise self.failure
        records = [
            dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, text)
            for text in self.zone.get(name, [])
        ]
        return [record for record in records if isinstance(record, TXT)]


@pytest.fixture
def dns_zone() -> Iterator[ZoneResolver]:
    """A resolver the API's domain verification uses instead of the system's."""
    from api.main import app
    from api.routes.sso import txt_resolver

    zone = ZoneResolver()

    async def resolver() -> ZoneResolver:
        return zone

    app.dependency_overrides[txt_resolver] = resolver
    yield zone
    app.dependency_overrides.pop(txt_resolver, None)
