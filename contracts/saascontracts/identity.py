"""The edge → origin identity contract: which verified claim travels in which trusted header, the header
carrying the verified token, and the cookies that hold session credentials (DESIGN.md §3)."""

from __future__ import annotations

# OAC signing overwrites the viewer's Authorization header, so the verified token travels here.
AUTH_TOKEN_HEADER = "x-auth-token"  # noqa: S105 - a header name, not a secret
# The host the viewer asked for (the distribution's domain or an alias): the origin only ever sees its own
# Function URL host, and builds public URLs (Stripe redirects) from this when no public base URL is set.
VIEWER_HOST_HEADER = "x-auth-viewer-host"
# What the edge forwards there (lower-case DNS name, optional port); the origin checks it again.
VIEWER_HOST_PATTERN = (
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::[0-9]{1,5})?"
)
MAX_VIEWER_HOST_CHARS = 253
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
    # The cell holding the tenant's data (absent from tokens issued without one: the origin then asks
    # its directory). Trusted only as part of the verified token, like every claim here.
    ("cell", "x-auth-cell", "X-Auth-Cell"),
)

# `__Host-`: Secure, Path=/, no Domain, so no sibling subdomain can plant or read it.
SESSION_COOKIE = "__Host-session"
REFRESH_COOKIE = "__Host-refresh"
