"""The three CloudFront triggers as plain functions of (runtime, `Records[0].cf`) — no Lambda plumbing.

viewer-request: strip client-sent trusted headers; every path off the public list needs a verified
credential (401 otherwise), and a cookie-borne one on an unsafe method a same-site request (403
otherwise); set identity headers. origin-request: flags/experiments from identity + country + device,
body hash for OAC, optional regional origin. viewer-response: security headers, anonymous-visitor cookie.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import re
from collections.abc import Mapping, MutableMapping

from edge.responses import CfHeaders, all_values, first_value, header_entry, problem
from edge.runtime import Runtime
from edge.session import CredentialError, Identity, cross_site_reason, parse_cookies, presented_token
from saascontracts.identity import (
    AUTH_TOKEN_HEADER,
    MAX_VIEWER_HOST_CHARS,
    TRUSTED_HEADER_PREFIX,
    VIEWER_AUTHORIZATION_HEADER,
    VIEWER_HOST_HEADER,
    VIEWER_HOST_PATTERN,
)
from saascontracts.tokens import TokenError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Only the edge may set these; any client-sent copy is dropped, whatever its casing or count.
UNTRUSTED_EXACT = frozenset({"x-flags", "x-experiments", "x-request-id", "x-viewer-country"})
UNTRUSTED_PREFIX = TRUSTED_HEADER_PREFIX
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# RFC 9110 §9.2.1: every other method may change state, so a cookie alone must not authorise it cross-site.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_ANONYMOUS_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_VIEWER_HOST = re.compile(VIEWER_HOST_PATTERN)
# Attributes from headers CloudFront adds after viewer-request: viewer-response may not see them.
ORIGIN_ONLY_ATTRIBUTES = frozenset({"country", "deviceType"})
_DEVICE_HEADERS = (
    ("cloudfront-is-mobile-viewer", "mobile"),
    ("cloudfront-is-tablet-viewer", "tablet"),
    ("cloudfront-is-smarttv-viewer", "smarttv"),
    ("cloudfront-is-desktop-viewer", "desktop"),
)


def random_uuid() -> str:
    """A random (version 4) UUID string; the uuid module costs milliseconds of cold start."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def request_id_of(cf: Mapping[str, Any]) -> str:
    config = cf.get("config")
    value = config.get("requestId") if isinstance(config, Mapping) else None
    return value if isinstance(value, str) and 0 < len(value) <= 128 else os.urandom(16).hex()


def _headers(message: MutableMapping[str, Any]) -> CfHeaders:
    headers = message.get("headers")
    if not isinstance(headers, dict):
        headers = {}
        message["headers"] = headers
    return headers


def strip_untrusted(headers: CfHeaders) -> None:
    for name in list(headers):
        lowered = name.lower()
        if lowered.startswith(UNTRUSTED_PREFIX) or lowered in UNTRUSTED_EXACT:
            del headers[name]


def _oversized(headers: CfHeaders, runtime: Runtime) -> str | None:
    limits = runtime.config.limits
    for name, entries in headers.items():
        if not isinstance(entries, list):
            return name
        for entry in entries:
            value = entry.get("value") if isinstance(entry, dict) else None
            if not isinstance(value, str) or len(value) > limits.max_header_bytes:
                return name
    if sum(len(value) for value in all_values(headers, "cookie")) > limits.max_cookie_bytes:
        return "cookie"
    return None


def _unauthorized(runtime: Runtime, status: int, reason: str, request_id: str) -> dict[str, Any]:
    challenge = f'Bearer error="invalid_token", error_description="{reason.replace(chr(34), "")}"'
    return problem(
        status,
        "unauthorized" if status == 401 else "bad-request",
        reason,
        request_id=request_id,
        headers=(("WWW-Authenticate", challenge),) if status == 401 else (),
        security_headers=runtime.config.security_headers,
    )


def viewer_request(runtime: Runtime, cf: MutableMapping[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = cf["request"]
    headers = _headers(request)
    request_id = request_id_of(cf)
    strip_untrusted(headers)
    too_big = _oversized(headers, runtime)
    if too_big is not None:
        return problem(
            431,
            "header-too-large",
            f"header {too_big[:64]!r} is too large or malformed",
            request_id=request_id,
            security_headers=runtime.config.security_headers,
        )
    headers["x-request-id"] = header_entry("X-Request-Id", request_id)
    viewer_host = (first_value(headers, "host") or "").strip().lower()
    if len(viewer_host) <= MAX_VIEWER_HOST_CHARS and _VIEWER_HOST.fullmatch(viewer_host):
        headers[VIEWER_HOST_HEADER] = header_entry("X-Auth-Viewer-Host", viewer_host)
    config = runtime.config
    method = str(request.get("method") or "GET").upper()
    uri = str(request.get("uri") or "/")
    if config.is_public(method, uri):
        authorization = all_values(headers, "authorization")
        if len(authorization) == 1:
            # OAC overwrites Authorization; credentials the origin checks itself travel unchanged here.
            headers[VIEWER_AUTHORIZATION_HEADER] = header_entry(
                "X-Auth-Viewer-Authorization", authorization[0]
            )
        return request
    identity = _identify(runtime, headers, method=method, request_id=request_id)
    if isinstance(identity, dict):
        return identity
    headers[AUTH_TOKEN_HEADER] = header_entry("X-Auth-Token", identity.token)
    for name, key, value in identity.headers:
        headers[name] = header_entry(key, value)
    return request


def _identify(
    runtime: Runtime, headers: CfHeaders, *, method: str, request_id: str
) -> Identity | dict[str, Any]:
    """The verified identity, else the 400/401/403 response that refuses the request."""
    try:
        cookies = parse_cookies(all_values(headers, "cookie"))
        token = presented_token(headers, cookies=cookies, cookie_name=runtime.config.cookies.session)
        if token is None:
            return _unauthorized(runtime, 401, "credentials required", request_id)
        if method not in SAFE_METHODS and not all_values(headers, "authorization"):
            # The credential came from the cookie, which the browser attaches to cross-site requests too.
            reason = cross_site_reason(headers)
            if reason is not None:
                return problem(
                    403,
                    "cross-site-request",
                    reason,
                    request_id=request_id,
                    security_headers=runtime.config.security_headers,
                )
        return Identity.from_claims(token, runtime.verifier.verify(token))
    except CredentialError as exc:
        return _unauthorized(runtime, exc.status, exc.reason, request_id)
    except TokenError as exc:
        return _unauthorized(runtime, 401, exc.reason, request_id)


def _device(headers: CfHeaders) -> str | None:
    for name, device in _DEVICE_HEADERS:
        if first_value(headers, name) == "true":
            return device
    return None


def flag_attributes(headers: CfHeaders, runtime: Runtime) -> dict[str, Any]:
    """GrowthBook attributes from the trusted identity headers, the anonymous cookie, country, device."""
    cookies = parse_cookies(all_values(headers, "cookie"))
    anonymous = cookies.get(runtime.config.cookies.anonymous)
    anonymous = anonymous if anonymous and _ANONYMOUS_ID.fullmatch(anonymous) else None
    user = first_value(headers, "x-auth-user")
    country = first_value(headers, "cloudfront-viewer-country")
    attributes: dict[str, Any] = {
        "id": user or anonymous,
        "userId": user,
        "tenantId": first_value(headers, "x-auth-tenant"),
        "role": first_value(headers, "x-auth-role"),
        "plan": first_value(headers, "x-auth-plan"),
        "anonymousId": anonymous,
        "country": country if country and _COUNTRY.fullmatch(country) else None,
        "deviceType": _device(headers),
        "loggedIn": user is not None,
    }
    return {name: value for name, value in attributes.items() if value is not None}


def _body_sha256(request: Mapping[str, Any], max_bytes: int) -> str | None:
    """Hex SHA-256 of the body, or None when it is over the limit (or truncated by CloudFront)."""
    body = request.get("body")
    if not isinstance(body, Mapping) or not body.get("data"):
        return EMPTY_SHA256
    if body.get("inputTruncated"):
        return None
    data = body["data"]
    if not isinstance(data, str):
        raise ValueError("body data is not a string")
    if body.get("encoding", "base64") == "base64":
        try:
            raw = binascii.a2b_base64(data, strict_mode=True)
        except binascii.Error as exc:
            raise ValueError("body is not base64") from exc
    else:
        raw = data.encode("utf-8")
    if len(raw) > max_bytes:
        return None
    return hashlib.sha256(raw).hexdigest()


def origin_request(runtime: Runtime, cf: MutableMapping[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = cf["request"]
    headers = _headers(request)
    config = runtime.config
    attributes = flag_attributes(headers, runtime)
    sticky_cookie = parse_cookies(all_values(headers, "cookie")).get(runtime.flags.sticky_cookie_name)
    flags, experiments = runtime.flags.headers_for(attributes, sticky_cookie)
    headers["x-flags"] = header_entry("X-Flags", flags)
    if experiments:
        headers["x-experiments"] = header_entry("X-Experiments", experiments)
    else:
        headers.pop("x-experiments", None)
    country = attributes.get("country")
    if country:
        headers["x-viewer-country"] = header_entry("X-Viewer-Country", country)
    else:
        headers.pop("x-viewer-country", None)

    method = str(request.get("method") or "GET").upper()
    headers.pop("x-amz-content-sha256", None)
    if method in BODY_METHODS:
        try:
            digest = _body_sha256(request, config.limits.max_body_bytes)
        except ValueError:
            return problem(
                400,
                "bad-request",
                "request body is malformed",
                request_id=request_id_of(cf),
                security_headers=config.security_headers,
            )
        if digest is None:
            return problem(
                413,
                "body-too-large",
                f"request body is larger than {config.limits.max_body_bytes} bytes",
                request_id=first_value(headers, "x-request-id") or request_id_of(cf),
                security_headers=config.security_headers,
            )
        headers["x-amz-content-sha256"] = header_entry("x-amz-content-sha256", digest)

    host = config.origins_by_country.get(country or "")
    origin = request.get("origin")
    custom = origin.get("custom") if isinstance(origin, dict) else None
    if host and isinstance(custom, dict):
        custom["domainName"] = host
        headers["host"] = header_entry("Host", host)
    return request


def _canonical(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def viewer_response(runtime: Runtime, cf: MutableMapping[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = cf["response"]
    headers = _headers(response)
    config = runtime.config
    for name, value in config.security_headers:
        if name not in headers:
            headers[name] = header_entry(_canonical(name), value)
    request = cf.get("request")
    request_headers = request.get("headers") if isinstance(request, Mapping) else None
    cookies = (
        parse_cookies(all_values(request_headers, "cookie")) if isinstance(request_headers, Mapping) else {}
    )
    anonymous = cookies.get(config.cookies.anonymous)
    if not (anonymous and _ANONYMOUS_ID.fullmatch(anonymous)):
        cookie = (
            f"{config.cookies.anonymous}={random_uuid()}; Path=/; Max-Age={config.cookies.anonymous_max_age_seconds}; "
            "Secure; HttpOnly; SameSite=Lax"
        )
        headers.setdefault("set-cookie", []).append({"key": "Set-Cookie", "value": cookie})
    if isinstance(request_headers, dict):
        attributes = flag_attributes(request_headers, runtime)
        sticky = runtime.flags.sticky_set_cookie(
            attributes,
            cookies.get(runtime.flags.sticky_cookie_name),
            ORIGIN_ONLY_ATTRIBUTES.difference(attributes),
        )
        if sticky is not None:
            headers.setdefault("set-cookie", []).append({"key": "Set-Cookie", "value": sticky})
    return response
