"""The edge → origin identity contract: which verified claim travels in which trusted header, the header
carrying the verified token, and the cookies that hold session credentials (DESIGN.md §3)."""

from __future__ import annotations

# OAC signing overwrites the viewer's Authorization header, so the verified token travels here.
AUTH_TOKEN_HEADER = "x-auth-token"  # noqa: S105 - a header name, not a secret
# On a public path the edge copies the viewer's one Authorization header here (OAC overwrites the original),
# for the credentials the origin checks itself: API keys at /api/v1/sessions/token, SCIM bearer tokens.
VIEWER_AUTHORIZATION_HEADER = "x-auth-viewer-authorization"
# Every header with this prefix is set only by the edge; client-sent copies are dropped.
TRUSTED_HEADER_PREFIX = "x-auth-"

# (claim, header the edge sets from it, canonical spelling of that header), in a fixed order.
IDENTITY_CLAIMS = (
    ("sub", "x-auth-user", "X-Auth-User"),
    ("tid", "x-auth-tenant", "X-Auth-Tenant"),
    ("role", "x-auth-role", "X-Auth-Role"),
    ("plan", "x-auth-plan", "X-Auth-Plan"),
    ("sid", "x-auth-session", "X-Auth-Session"),
)

# `__Host-`: Secure, Path=/, no Domain, so no sibling subdomain can plant or read it.
SESSION_COOKIE = "__Host-session"
REFRESH_COOKIE = "__Host-refresh"
