"""Who is calling: session tokens (ours) and IdP ID tokens (sign-up, sign-in), both through
``saascontracts.tokens`` (the verifier the edge runs too).

The session issuer's key is pinned from the signer itself, so verifying our own tokens never fetches a
JWKS. IdP tokens are verified against the configured issuer (Cognito or any OIDC issuer, JWKS by URL or
pinned for tests and the local dev IdP).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from api.exceptions import UnauthenticatedError
from api.services.signing import Signer, get_signer, sign_jws
from api.settings import ApiSettings, get_settings
from saascontracts.tokens import IssuerConfig, TokenError, TokenVerifier
from saascore.db.cells import CELL_NAME
from saascore.exceptions import ConfigurationError

# The id of the API key a client-credentials token was issued for (absent on people's sessions).
API_KEY_CLAIM = "api_key"


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified session: the user acting in one tenant."""

    user_id: uuid.UUID
    tenant_id: uuid.UUID
    session_id: uuid.UUID
    role: str
    plan: str
    token: str
    cell: str | None = None  # the signed cell claim; None for tokens issued without one
    # Set when the session is an API key's: the key acts for its creator, within its scopes.
    api_key_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class IdpIdentity:
    issuer: str
    subject: str
    email: str
    email_verified: bool
    name: str | None
    # The Cognito identity provider a federated sign-in came through (``identities`` claim), else None.
    provider_name: str | None = None
    # The IdP's groups (Cognito custom attribute ``custom:groups``) of a federated sign-in.
    groups: tuple[str, ...] = ()


FEDERATED_PROVIDER_TYPES = frozenset({"SAML", "OIDC"})
GROUPS_CLAIM = "custom:groups"
MAX_GROUPS = 200


def federated_provider(claims: dict[str, Any]) -> str | None:
    """The SAML/OIDC provider of a Cognito ID token's ``identities`` claim (a JSON array, or its text).

    A user linked to several providers lists each; the one marked primary wins, else the only one.
    """
    value = claims.get("identities")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, list):
        return None
    federated = [
        entry
        for entry in value
        if isinstance(entry, dict)
        and entry.get("providerType") in FEDERATED_PROVIDER_TYPES
        and isinstance(entry.get("providerName"), str)
    ]
    primary = [entry for entry in federated if str(entry.get("primary")).lower() == "true"]
    chosen = primary if len(primary) == 1 else federated if len(federated) == 1 else []
    return str(chosen[0]["providerName"]) if chosen else None


def federated_groups(claims: dict[str, Any]) -> tuple[str, ...]:
    """Groups from ``custom:groups``: Cognito writes a multi-valued SAML attribute as ``[a, b]`` and an
    OIDC array claim as JSON; a plain string is one group (or a comma-separated list)."""
    value = claims.get(GROUPS_CLAIM)
    items: list[Any]
    if isinstance(value, list):
        items = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        bracketed = text.removeprefix("[").removesuffix("]").split(",")
        items = parsed if isinstance(parsed, list) else bracketed
    else:
        return ()
    groups = dict.fromkeys(str(item).strip() for item in items if str(item).strip())
    return tuple(groups)[:MAX_GROUPS]


@lru_cache(maxsize=1)
def get_session_verifier() -> TokenVerifier:
    settings = get_settings()
    config = IssuerConfig(
        issuer=settings.session_issuer,
        audiences=(settings.session_audience,),
        keys=(get_signer().public_jwk,),
        leeway_seconds=30,
    )
    return TokenVerifier([config])


@lru_cache(maxsize=1)
def get_idp_verifier() -> TokenVerifier:
    settings = get_settings()
    if not settings.idp_issuer:
        raise ConfigurationError("IDP_ISSUER is not configured; sign-up and sign-in are unavailable")
    config = IssuerConfig(
        issuer=settings.idp_issuer,
        audiences=settings.idp_audiences,
        jwks_url=settings.idp_jwks_url,
        keys=settings.pinned_idp_keys(),
        token_use=settings.idp_token_use,
        client_ids=settings.idp_client_ids,
    )
    return TokenVerifier([config])


def _uuid_claim(claims: dict[str, Any], name: str) -> uuid.UUID:
    value = claims.get(name)
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise UnauthenticatedError(f"session token claim {name} is invalid") from exc


def principal_from_token(token: str) -> Principal:
    """Verify one of our session tokens; any failure is a 401 with the verifier's client-safe reason."""
    try:
        claims = get_session_verifier().verify(token)
    except TokenError as exc:
        raise UnauthenticatedError(f"token refused: {exc.reason}") from exc
    role, plan = claims.get("role"), claims.get("plan")
    if not isinstance(role, str) or not isinstance(plan, str):
        raise UnauthenticatedError("session token lacks role or plan")
    cell = claims.get("cell")
    if cell is not None and not (isinstance(cell, str) and CELL_NAME.fullmatch(cell)):
        raise UnauthenticatedError("session token claim cell is invalid")
    return Principal(
        user_id=_uuid_claim(claims, "sub"),
        tenant_id=_uuid_claim(claims, "tid"),
        session_id=_uuid_claim(claims, "sid"),
        role=role,
        plan=plan,
        token=token,
        cell=cell,
        api_key_id=_uuid_claim(claims, API_KEY_CLAIM) if API_KEY_CLAIM in claims else None,
    )


def identity_from_idp_token(token: str) -> IdpIdentity:
    try:
        claims = get_idp_verifier().verify(token)
    except TokenError as exc:
        raise UnauthenticatedError(f"identity token refused: {exc.reason}") from exc
    subject, email = claims.get("sub"), claims.get("email")
    if not isinstance(subject, str) or not subject or not isinstance(email, str) or not email:
        raise UnauthenticatedError("identity token lacks sub or email")
    name = claims.get("name")
    return IdpIdentity(
        issuer=str(claims["iss"]),
        subject=subject,
        email=email,
        email_verified=claims.get("email_verified") in (True, "true"),
        name=name if isinstance(name, str) else None,
        provider_name=federated_provider(claims),
        groups=federated_groups(claims),
    )


def issue_access_token(
    *,
    user_id: uuid.UUID,
    tenant_id: uuid.UUID,
    session_id: uuid.UUID,
    role: str,
    plan: str,
    cell: str | None = None,
    settings: ApiSettings | None = None,
    signer: Signer | None = None,
    now: float | None = None,
    api_key_id: uuid.UUID | None = None,
) -> tuple[str, int]:
    """A signed session token and its lifetime in seconds."""
    settings = settings or get_settings()
    issued = int(now if now is not None else time.time())
    ttl = settings.access_token_ttl_seconds
    claims = {
        "iss": settings.session_issuer,
        "aud": settings.session_audience,
        "sub": str(user_id),
        "tid": str(tenant_id),
        "sid": str(session_id),
        "role": role,
        "plan": plan,
        "iat": issued,
        "exp": issued + ttl,
    }
    if cell is not None:
        claims["cell"] = cell
    if api_key_id is not None:
        claims[API_KEY_CLAIM] = str(api_key_id)
    return sign_jws(signer or get_signer(), claims), ttl
