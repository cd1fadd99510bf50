"""What the edge must trust, from this function's own settings: the session issuer and the identity provider.

CDK sets those settings in the same deploy that creates the Cognito pool, so the edge (which has no
environment variables) learns them from here instead of from values copied into `cdk.json`. Public
material only: issuer names, audiences, client ids, JWKS locations and public keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.schemas.edge_config import EdgeConfigDocument, EdgeIssuer
from api.settings import ApiSettings

# The session JWKS this API serves, as a path on the distribution the edge runs in.
SESSION_JWKS_PATH = "/.well-known/jwks.json"


def edge_config_document(settings: ApiSettings, *, session_key: Mapping[str, Any]) -> EdgeConfigDocument:
    """Session keys are pinned (no JWKS fetch at the edge's cold start) with the JWKS path for a new `kid`."""
    issuers = [
        EdgeIssuer(
            issuer=settings.session_issuer,
            audiences=[settings.session_audience],
            jwks_url=SESSION_JWKS_PATH,
            keys=[dict(session_key)],
        )
    ]
    if settings.idp_issuer:
        issuers.append(
            EdgeIssuer(
                issuer=settings.idp_issuer,
                audiences=list(settings.idp_audiences),
                client_ids=list(settings.idp_client_ids),
                token_use=settings.idp_token_use,
                jwks_url=settings.idp_jwks_url,
                keys=[dict(key) for key in settings.pinned_idp_keys()],
            )
        )
    return EdgeConfigDocument(issuers=issuers)
