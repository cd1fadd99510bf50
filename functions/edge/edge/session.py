"""Which credential a request presents (Bearer header or session cookie) and the identity it proves."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from edge.responses import all_values
from saascontracts.identity import IDENTITY_CLAIMS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Printable ASCII without separators that could split or fold a header; verified claims still pass it.
_SAFE_VALUE = re.compile(r"[\x21-\x7e]{1,256}")
_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9_\-.=]+) *")


class CredentialError(Exception):
    """The request's credentials cannot be read: `status` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Identity:
    """A verified token and the trusted headers its claims give (built per request: a plain class)."""

    __slots__ = ("headers", "token")

    def __init__(self, token: str, headers: tuple[tuple[str, str, str], ...]) -> None:
        self.token = token
        self.headers = headers

    @classmethod
    def from_claims(cls, token: str, claims: Mapping[str, Any]) -> Identity:
        headers = []
        for claim, name, key in IDENTITY_CLAIMS:
            value = claims.get(claim)
            if type(value) is str and _SAFE_VALUE.fullmatch(value):
                headers.append((name, key, value))
        return cls(token, tuple(headers))


def parse_cookies(header_values: Iterable[str]) -> dict[str, str]:
    """Cookie pairs from every Cookie header; the first occurrence of a name wins (RFC 6265 §5.4 order)."""
    cookies: dict[str, str] = {}
    for header in header_values:
        for pair in header.split(";"):
            name, sep, value = pair.strip().partition("=")
            if sep and name and name not in cookies:
                cookies[name] = value.strip().strip('"')
    return cookies


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
_ORIGIN = re.compile(r"(https?)://([^/?#@\s]+)")


def _host_without_port(host: str) -> str:
    return host if host.startswith("[") and host.endswith("]") else host.rsplit(":", 1)[0]


def cross_site_reason(headers: Mapping[str, Any]) -> str | None:
    """None when the request is same-site by `Sec-Fetch-Site`, else by `Origin` against `Host`; otherwise
    why it is refused. Browsers send at least one of the two on every unsafe request (Fetch standard), so
    a cookie-authenticated write without either is not from our pages either."""
    fetch_site = all_values(headers, "sec-fetch-site")
    if fetch_site:
        if len(fetch_site) == 1 and fetch_site[0].strip().lower() in ("same-origin", "same-site"):
            return None
        return "Sec-Fetch-Site is not same-site: use a bearer token for cross-site requests"
    origins = all_values(headers, "origin")
    hosts = all_values(headers, "host")
    if not origins:
        return "a cookie-authenticated write needs an Origin or Sec-Fetch-Site header"
    match = _ORIGIN.fullmatch(origins[0].strip()) if len(origins) == 1 else None
    if match is None or len(hosts) != 1:
        return "Origin is not same-site: use a bearer token for cross-site requests"
    scheme, origin_host = match.group(1), match.group(2).lower()
    host = hosts[0].strip().lower()
    # Plain http only for the local stack on loopback; everywhere else the page must be https.
    secure = scheme == "https" or _host_without_port(origin_host) in _LOOPBACK_HOSTS
    if origin_host != host or not secure:
        return "Origin is not same-site: use a bearer token for cross-site requests"
    return None


def presented_token(
    headers: Mapping[str, Any], *, cookies: Mapping[str, str], cookie_name: str
) -> str | None:
    """The Bearer token, else the session cookie, else None; CredentialError when ambiguous or malformed."""
    authorization = all_values(headers, "authorization")
    if len(authorization) > 1:
        raise CredentialError(400, "more than one Authorization header")
    if authorization:
        match = _BEARER.fullmatch(authorization[0])
        if match is None:
            raise CredentialError(401, "Authorization must be a Bearer token")
        return match.group(1)
    token = cookies.get(cookie_name)
    return token or None
