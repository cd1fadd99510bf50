"""The API under test: real PostgreSQL, real RS256 keys (session + a test IdP), the FastAPI app in-process.

Importable fixtures (``from tests.integration.api.harness import api``) so the tenancy matrices in
``tests/tenancy`` share them. Sessions are made the way users make them: sign-up, invite, sign-in.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from api.main import app
from api.services.identity import get_idp_verifier, get_session_verifier
from api.services.ratelimit import get_rate_limiter
from api.services.signing import get_signer, rsa_jwk
from api.settings import get_settings
from saascore.db.connection import Database

IDP_ISSUER = "https://idp.test.example"
IDP_AUDIENCE = "saas-test-client"
SESSION_ISSUER = "https://api.test.example"


@cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """One RSA key per name per test run (generation is the slow part)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_jwk(key: rsa.RSAPrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    return rsa_jwk(numbers.n, numbers.e)


def clear_api_caches() -> None:
    for cached in (get_settings, get_signer, get_session_verifier, get_idp_verifier, get_rate_limiter):
        cached.cache_clear()


@dataclass(frozen=True)
class Session:
    access_token: str
    refresh_token: str
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    session_id: uuid.UUID
    role: str
    email: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class ApiHarness:
    client: TestClient
    database: Database
    owner_url: str
    _counter: list[int] = field(default_factory=lambda: [0])

    def id_token(
        self,
        *,
        email: str,
        subject: str | None = None,
        email_verified: bool = True,
        issuer: str = IDP_ISSUER,
        key: str = "idp",
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": issuer,
            "aud": IDP_AUDIENCE,
            "sub": subject or f"sub-{email}",
            "email": email,
            "email_verified": email_verified,
            "token_use": "id",
            "iat": now,
            "exp": now + 600,
            **claims,
        }
        signing_key = rsa_key(key)
        return jwt.encode(
            payload, signing_key, algorithm="RS256", headers={"kid": public_jwk(signing_key)["kid"]}
        )

    def unique(self, prefix: str) -> str:
        self._counter[0] += 1
        return f"{prefix}-{self._counter[0]}-{uuid.uuid4().hex[:6]}"

    def _session(self, body: dict[str, Any], email: str) -> Session:
        # Tests authenticate explicitly; the cookies sign-in set would otherwise ride along on every call.
        self.client.cookies.clear()
        return Session(
            access_token=body["access_token"],
            refresh_token=body["refresh_token"],
            tenant_id=uuid.UUID(body["tenant_id"]),
            user_id=uuid.UUID(body["user_id"]),
            session_id=uuid.UUID(body["session_id"]),
            role=body["role"],
            email=email,
        )

    def sign_up(self, slug: str | None = None, *, email: str | None = None) -> Session:
        slug = slug or self.unique("t")
        email = email or f"owner@{slug}.example"
        response = self.client.post(
            "/api/v1/signup",
            json={"id_token": self.id_token(email=email), "tenant_name": slug.title(), "tenant_slug": slug},
        )
        assert response.status_code == 201, response.text
        return self._session(response.json(), email)

    def sign_in(self, tenant: uuid.UUID | str, *, email: str) -> Session:
        response = self.client.post(
            "/api/v1/sessions", json={"id_token": self.id_token(email=email), "tenant": str(tenant)}
        )
        assert response.status_code == 201, response.text
        return self._session(response.json(), email)

    def join(self, owner: Session, role: str, *, email: str | None = None) -> Session:
        """A new member with ``role``: the owner invites, the invitee signs in."""
        email = email or f"{self.unique(role)}@members.example"
        invited = self.client.post(
            "/api/v1/members", json={"email": email, "role": role}, headers=owner.headers
        )
        assert invited.status_code == 201, invited.text
        return self.sign_in(owner.tenant_id, email=email)

    def set_plan(self, tenant_id: uuid.UUID, plan: str, *, billing_status: str = "active") -> None:
        """As the migration owner (what the billing webhooks do through their own path)."""
        self.owner_sql(
            tenant_id,
            "UPDATE tenants SET plan = %s, billing_status = %s WHERE id = %s",
            (plan, billing_status, tenant_id),
        )

    def owner_sql(self, tenant_id: uuid.UUID, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Run one statement as the migration owner inside ``tenant_id``'s context (test setup only)."""
        import psycopg

        with psycopg.connect(self.owner_url) as conn:
            conn.execute("SELECT app.set_tenant(%s)", (tenant_id,))
            cursor = conn.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
            conn.commit()
            return rows


def configure_env(monkeypatch: pytest.MonkeyPatch, **overrides: str) -> None:
    env = {
        "APP_ENV": "test",
        "SESSION_KEY_SOURCE": "pem",
        "SESSION_PRIVATE_KEY": pem(rsa_key("session")),
        "SESSION_ISSUER": SESSION_ISSUER,
        "IDP_ISSUER": IDP_ISSUER,
        "IDP_AUDIENCES": IDP_AUDIENCE,
        "IDP_TOKEN_USE": "id",
        "IDP_JWKS": json.dumps({"keys": [public_jwk(rsa_key("idp"))]}),
        "COOKIE_SECURE": "false",
        **overrides,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("RATE_LIMIT_TABLE", raising=False) if "RATE_LIMIT_TABLE" not in overrides else None
    clear_api_caches()


@pytest.fixture
def api(pg: Any, app_database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiHarness]:
    configure_env(monkeypatch)
    with TestClient(app) as client:
        yield ApiHarness(client=client, database=app_database, owner_url=pg.owner_url)
    clear_api_caches()
