from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge import handler
from edge.responses import MAX_GENERATED_BODY_BYTES
from saascontracts.problems import PROBLEM_CONTENT_TYPE
from tests.support.tokens import AUDIENCE, ISSUER, NOW, FrozenClock, SigningKey, standard_claims

EVENTS = Path(__file__).resolve().parents[2] / "events" / "cloudfront"
FLAGS_PAYLOAD = {
    "features": {
        "new-billing": {"defaultValue": False, "rules": [{"condition": {"plan": "pro"}, "force": True}]},
        "eu-banner": {"defaultValue": False, "rules": [{"condition": {"country": "DE"}, "force": True}]},
        "mobile-nav": {
            "defaultValue": "classic",
            "rules": [{"condition": {"deviceType": "mobile"}, "force": "compact"}],
        },
        "checkout": {"defaultValue": "a", "rules": [{"key": "checkout-exp", "variations": ["a", "b"]}]},
    }
}


def edge_config(key: SigningKey, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "issuers": [{"issuer": ISSUER, "audiences": [AUDIENCE], "keys": [key.public_jwk]}],
        "flags": {"payload": FLAGS_PAYLOAD},
        "origins_by_country": {"DE": "api-eu.example.com"},
    }
    config.update(overrides)
    return config


@pytest.fixture
def configured(signing_key: SigningKey) -> Iterator[None]:
    handler.configure(edge_config(signing_key), clock=FrozenClock(NOW))
    yield
    handler.configure(None)


def load_event(name: str, **tags: str) -> dict[str, Any]:
    text = (EVENTS / name).read_text()
    for tag, value in {"uri": "/api/v1/projects", "method": "GET", **tags}.items():
        text = text.replace("{{{" + tag + "}}}", value)
    event: dict[str, Any] = json.loads(text)
    return event


def viewer_event(
    uri: str = "/api/v1/projects", method: str = "GET", **headers: str | list[str]
) -> dict[str, Any]:
    event = load_event("viewer-request.json")
    request = event["Records"][0]["cf"]["request"]
    request["uri"], request["method"] = uri, method
    for name, given_values in headers.items():
        lowered = name.replace("_", "-").lower()
        values = given_values if isinstance(given_values, list) else [given_values]
        request["headers"][lowered] = [{"key": name.replace("_", "-"), "value": value} for value in values]
    return event


def header(message: dict[str, Any], name: str) -> str:
    entries = message.get("headers", {}).get(name)
    assert entries, f"{name} missing"
    value: str = entries[0]["value"]
    return value


def assert_problem(response: dict[str, Any], status: int) -> dict[str, Any]:
    assert response["status"] == str(status)
    assert header(response, "content-type") == PROBLEM_CONTENT_TYPE
    assert header(response, "cache-control") == "no-store"
    assert len(response["body"].encode()) <= MAX_GENERATED_BODY_BYTES
    body: dict[str, Any] = json.loads(response["body"])
    assert body["status"] == status
    assert body["request_id"]
    return body


# --- viewer-request ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("configured")
def test_public_path_passes_without_identity_and_strips_spoofed_headers() -> None:
    event = viewer_event(
        "/api/v1/health", X_Auth_Tenant="evil", X_Flags='{"admin":true}', X_Request_Id="mine"
    )
    request = handler.viewer_request(event)
    assert "x-auth-tenant" not in request["headers"]
    assert "x-flags" not in request["headers"]
    assert header(request, "x-request-id") == "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="


@pytest.mark.usefixtures("configured")
def test_the_viewer_host_is_forwarded_and_a_client_copy_is_dropped() -> None:
    request = handler.viewer_request(
        viewer_event("/api/v1/health", Host="D111.CloudFront.net", X_Auth_Viewer_Host="evil.example")
    )
    assert request["headers"]["x-auth-viewer-host"] == [
        {"key": "X-Auth-Viewer-Host", "value": "d111.cloudfront.net"}
    ]


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(
    "host", ["evil.example/path", "a..b", "-a.example", "a.example:port", "x" * 254, "a.example\r\nx: y"]
)
def test_a_malformed_viewer_host_is_not_forwarded(host: str) -> None:
    request = handler.viewer_request(viewer_event("/api/v1/health", Host=host, X_Auth_Viewer_Host="evil"))
    assert "x-auth-viewer-host" not in request["headers"]


@pytest.mark.usefixtures("configured")
def test_protected_path_without_credentials_gets_401_problem() -> None:
    response = handler.viewer_request(viewer_event())
    body = assert_problem(response, 401)
    assert body["detail"] == "credentials required"
    assert header(response, "www-authenticate").startswith('Bearer error="invalid_token"')
    assert header(response, "strict-transport-security")


@pytest.mark.usefixtures("configured")
def test_bearer_token_sets_trusted_identity_headers(signing_key: SigningKey) -> None:
    token = signing_key.mint(standard_claims())
    request = handler.viewer_request(
        viewer_event(Authorization=f"Bearer {token}", X_Auth_User="someone-else", X_Auth_Role="owner")
    )
    assert header(request, "x-auth-token") == token
    assert header(request, "x-auth-user") == "user-1"
    assert header(request, "x-auth-tenant") == "tenant-1"
    assert header(request, "x-auth-role") == "owner"
    assert header(request, "x-auth-plan") == "pro"
    assert header(request, "x-auth-session") == "session-1"
    assert len(request["headers"]["x-auth-user"]) == 1


@pytest.mark.usefixtures("configured")
def test_the_cell_claim_is_forwarded_and_a_client_sent_cell_header_never_is(signing_key: SigningKey) -> None:
    with_cell = signing_key.mint(standard_claims(cell="acme"))
    request = handler.viewer_request(viewer_event(Authorization=f"Bearer {with_cell}", X_Auth_Cell="pooled"))
    assert request["headers"]["x-auth-cell"] == [{"key": "X-Auth-Cell", "value": "acme"}]
    without = signing_key.mint(standard_claims())
    request = handler.viewer_request(viewer_event(Authorization=f"Bearer {without}", X_Auth_Cell="pooled"))
    assert "x-auth-cell" not in request["headers"]


@pytest.mark.usefixtures("configured")
def test_session_cookie_is_accepted(signing_key: SigningKey) -> None:
    token = signing_key.mint(standard_claims(sub="user-9"))
    request = handler.viewer_request(
        viewer_event(Cookie=f"theme=dark; __Host-session={token}; aid=abcdefgh1234")
    )
    assert header(request, "x-auth-user") == "user-9"


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (standard_claims(exp=NOW - 100), "token expired"),
        (standard_claims(iss="https://evil.test"), "issuer not accepted"),
    ],
)
def test_invalid_token_gets_401_with_safe_reason(
    signing_key: SigningKey, claims: dict[str, Any], reason: str
) -> None:
    token = signing_key.mint(claims)
    response = handler.viewer_request(viewer_event(Authorization=f"Bearer {token}"))
    body = assert_problem(response, 401)
    assert body["detail"] == reason
    assert token not in response["body"]
    assert reason in header(response, "www-authenticate")


@pytest.mark.usefixtures("configured")
def test_tampered_token_refused(signing_key: SigningKey) -> None:
    token = signing_key.mint(standard_claims())
    response = handler.viewer_request(viewer_event(Authorization=f"Bearer {token[:-4]}AAAA"))
    assert assert_problem(response, 401)["detail"] == "invalid signature"


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize("uri", ["/", "/index.html", "/api/v1/projects", "/anything/at/all"])
def test_every_path_off_the_public_list_needs_a_valid_credential(uri: str) -> None:
    assert_problem(handler.viewer_request(viewer_event(uri)), 401)
    invalid = handler.viewer_request(
        viewer_event(uri, Authorization="Bearer not.a.token", X_Auth_User="spoof")
    )
    assert assert_problem(invalid, 401)["detail"] == "malformed token"


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(
    ("method", "uri"),
    [
        # The four spellings of issue 13 that reached the origin without identity.
        ("GET", "/API/v1/projects"),
        ("GET", "//api/v1/projects"),
        ("GET", "/api%2Fv1/projects"),
        ("GET", "/webhooks/stripe/../../api/v1/projects"),
        # Non-canonical spellings of public paths are not public either.
        ("GET", "/API/V1/HEALTH"),
        ("GET", "/api/v1//health"),
        ("GET", "/api/v1/health/"),
        ("GET", "/api/v1/%68ealth"),
        ("GET", "/api/v1/health%2F..%2Fprojects"),
        ("GET", "/api/v1/./health"),
        ("GET", "/api/v1/projects/../health"),
        ("GET", "/api/v1/health/.."),
        ("POST", "/Webhooks/stripe"),
        ("POST", "/webhooks/stripe%2E"),
        ("POST", "/webhooks//stripe"),
    ],
)
def test_deny_by_default_whatever_the_spelling(method: str, uri: str) -> None:
    assert_problem(handler.viewer_request(viewer_event(uri, method)), 401)


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(
    ("method", "uri"),
    [
        ("GET", "/api/v1/health"),
        ("HEAD", "/api/v1/health"),
        ("POST", "/webhooks/stripe"),
        ("GET", "/api/docs"),
    ],
)
def test_canonical_public_paths_pass_anonymously(method: str, uri: str) -> None:
    request = handler.viewer_request(viewer_event(uri, method, X_Auth_User="spoof"))
    assert request["uri"] == uri
    assert "x-auth-user" not in request["headers"]


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(
    ("method", "uri"),
    [
        ("POST", "/scim/v2/Users"),
        ("PATCH", "/scim/v2/Groups/7f1e"),
        ("GET", "/scim/v2/ServiceProviderConfig"),
    ],
)
def test_scim_paths_pass_with_their_bearer_token_forwarded(method: str, uri: str) -> None:
    """Mixed case below a public prefix is public (RFC 7644's /Users); the SCIM token, not a JWT, reaches the
    origin in x-auth-viewer-authorization, because OAC overwrites Authorization."""
    request = handler.viewer_request(viewer_event(uri, method, Authorization="Bearer scim_0123_abc"))
    assert request["uri"] == uri
    assert header(request, "x-auth-viewer-authorization") == "Bearer scim_0123_abc"
    assert "x-auth-token" not in request["headers"]


@pytest.mark.usefixtures("configured")
def test_a_client_sent_viewer_authorization_header_is_dropped() -> None:
    request = handler.viewer_request(
        viewer_event("/scim/v2/Users", "GET", X_Auth_Viewer_Authorization="Bearer forged")
    )
    assert "x-auth-viewer-authorization" not in request["headers"]


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(
    "uri",
    [
        "/SCIM/v2/Users",
        "/scim/V2/Users",
        "/scim/v2/../../api/v1/projects",
        "/scim/v2/%55sers",
        "/scim/v2//Users",
    ],
)
def test_scim_prefix_spellings_that_could_leave_it_need_a_credential(uri: str) -> None:
    assert_problem(handler.viewer_request(viewer_event(uri, "GET")), 401)


# --- cookie-authenticated writes must be same-site (defence in depth behind SameSite=Lax) ----------------

HOST = "d111111abcdef8.cloudfront.net"


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Sec_Fetch_Site": "cross-site"},
        {"Sec_Fetch_Site": "none"},
        {"Sec_Fetch_Site": ["same-origin", "cross-site"]},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": f"http://{HOST}"},
        {"Origin": f"https://{HOST}.evil.example"},
        {"Origin": f"https://user@{HOST}"},
        {"Origin": [f"https://{HOST}", "https://evil.example"]},
        {"Sec_Fetch_Site": "cross-site", "Origin": f"https://{HOST}"},
    ],
)
def test_cross_site_cookie_writes_get_403(
    signing_key: SigningKey, method: str, headers: dict[str, Any]
) -> None:
    token = signing_key.mint(standard_claims())
    event = viewer_event("/api/v1/projects", method, Cookie=f"__Host-session={token}", **headers)
    body = assert_problem(handler.viewer_request(event), 403)
    assert body["type"].endswith("/cross-site-request")
    assert token not in json.dumps(body)


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(
    "headers",
    [
        {"Sec_Fetch_Site": "same-origin"},
        {"Sec_Fetch_Site": "same-site"},
        {"Origin": f"https://{HOST}"},
        {"Origin": f"https://{HOST.upper()}"},
    ],
)
def test_same_site_cookie_writes_pass(signing_key: SigningKey, headers: dict[str, Any]) -> None:
    token = signing_key.mint(standard_claims())
    event = viewer_event("/api/v1/projects", "POST", Cookie=f"__Host-session={token}", **headers)
    assert header(handler.viewer_request(event), "x-auth-user") == "user-1"


def test_local_stack_origin_on_loopback_may_be_plain_http(signing_key: SigningKey) -> None:
    handler.configure(edge_config(signing_key), clock=FrozenClock(NOW))
    try:
        token = signing_key.mint(standard_claims())
        event = viewer_event(
            "/api/v1/projects", "POST", Cookie=f"__Host-session={token}", Origin="http://127.0.0.1:8000"
        )
        event["Records"][0]["cf"]["request"]["headers"]["host"] = [{"key": "Host", "value": "127.0.0.1:8000"}]
        assert header(handler.viewer_request(event), "x-auth-user") == "user-1"
    finally:
        handler.configure(None)


@pytest.mark.usefixtures("configured")
def test_bearer_writes_and_cookie_reads_need_no_origin_check(signing_key: SigningKey) -> None:
    token = signing_key.mint(standard_claims())
    bearer = viewer_event(
        "/api/v1/projects", "POST", Authorization=f"Bearer {token}", Sec_Fetch_Site="cross-site"
    )
    assert header(handler.viewer_request(bearer), "x-auth-user") == "user-1"
    for method in ("GET", "HEAD", "OPTIONS"):
        read = viewer_event(
            "/api/v1/projects", method, Cookie=f"__Host-session={token}", Sec_Fetch_Site="cross-site"
        )
        assert header(handler.viewer_request(read), "x-auth-user") == "user-1"


@pytest.mark.usefixtures("configured")
def test_two_authorization_headers_are_refused(signing_key: SigningKey) -> None:
    token = signing_key.mint(standard_claims())
    response = handler.viewer_request(viewer_event(Authorization=[f"Bearer {token}", f"Bearer {token}"]))
    assert_problem(response, 400)


@pytest.mark.usefixtures("configured")
def test_non_bearer_scheme_refused() -> None:
    response = handler.viewer_request(viewer_event(Authorization="Basic dXNlcjpwYXNz"))
    assert assert_problem(response, 401)["detail"] == "Authorization must be a Bearer token"


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(
    "headers",
    [{"X_Big": "x" * (16 * 1024 + 1)}, {"Cookie": ["a=" + "x" * 5000, "b=" + "y" * 5000]}],
)
def test_oversized_headers_get_431(headers: dict[str, Any]) -> None:
    assert_problem(handler.viewer_request(viewer_event(**headers)), 431)


@pytest.mark.usefixtures("configured")
def test_oversized_token_gets_401(signing_key: SigningKey) -> None:
    token = signing_key.mint(standard_claims(padding="x" * 9000))
    assert (
        assert_problem(handler.viewer_request(viewer_event(Authorization=f"Bearer {token}")), 401)["detail"]
        == "token too large"
    )


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(
    "event",
    [{}, {"Records": []}, {"Records": [{"cf": {}}]}, {"Records": [{"cf": {"request": None}}]}, None],
)
def test_malformed_event_gets_500_logged_once(event: Any, capsys: pytest.CaptureFixture[str]) -> None:
    body = assert_problem(handler.viewer_request(event), 500)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 1
    assert lines[0]["level"] == "ERROR"
    assert lines[0]["request_id"] == body["request_id"]


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(
    "name",
    [
        "sam-CloudFrontRedirectUnauthenticatedUsers.json",
        "sam-CloudFrontServeObjectOnViewerDevice.json",
        "viewer-request.json",
    ],
)
def test_minimal_sample_events_are_tolerated(name: str) -> None:
    for uri in ("/api/v1/projects", "/index.html"):
        protected = load_event(name)
        protected["Records"][0]["cf"]["request"]["uri"] = uri
        assert_problem(handler.viewer_request(protected), 401)
    anonymous = load_event(name)
    anonymous["Records"][0]["cf"]["request"]["uri"] = "/api/v1/health"
    request = handler.viewer_request(anonymous)
    assert request["uri"] == "/api/v1/health"
    assert header(request, "x-request-id")


@settings(max_examples=60, deadline=None)
@given(
    casings=st.lists(
        st.sampled_from(["x-auth-tenant", "X-Auth-Tenant", "X-AUTH-TENANT", "x-AuTh-TeNaNt"]),
        min_size=1,
        max_size=4,
    ),
    lowercase_keys=st.booleans(),
)
def test_client_x_auth_tenant_never_reaches_origin(
    signing_key: SigningKey, casings: list[str], lowercase_keys: bool
) -> None:
    handler.configure(edge_config(signing_key), clock=FrozenClock(NOW))
    try:
        event = viewer_event(
            "/", Authorization=f"Bearer {signing_key.mint(standard_claims(tid='tenant-real'))}"
        )
        headers = event["Records"][0]["cf"]["request"]["headers"]
        for casing in casings:
            name = "x-auth-tenant" if lowercase_keys else casing
            headers.setdefault(name, []).append({"key": casing, "value": "tenant-spoofed"})
        request = handler.viewer_request(event)
        values = [
            entry["value"]
            for name, entries in request["headers"].items()
            if name.lower() == "x-auth-tenant"
            for entry in entries
        ]
        assert values == ["tenant-real"]
    finally:
        handler.configure(None)


# --- origin-request ------------------------------------------------------------------------------------


def origin_event(method: str = "GET", body: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
    event = load_event("origin-request.json")
    request = event["Records"][0]["cf"]["request"]
    request["method"] = method
    if body is not None:
        request["body"] = body
    for name, value in headers.items():
        request["headers"][name.replace("_", "-").lower()] = [{"key": name.replace("_", "-"), "value": value}]
    return event


@pytest.mark.usefixtures("configured")
def test_origin_request_adds_flags_experiments_and_country() -> None:
    request = handler.origin_request(
        origin_event(
            X_Auth_User="user-1",
            X_Auth_Plan="pro",
            CloudFront_Viewer_Country="DE",
            CloudFront_Is_Mobile_Viewer="true",
        )
    )
    flags = json.loads(header(request, "x-flags"))
    assert flags["new-billing"] is True
    assert flags["eu-banner"] is True
    assert flags["mobile-nav"] == "compact"
    assert header(request, "x-experiments") == f"checkout-exp:{0 if flags['checkout'] == 'a' else 1}"
    assert header(request, "x-viewer-country") == "DE"
    assert request["origin"]["custom"]["domainName"] == "api-eu.example.com"
    assert header(request, "host") == "api-eu.example.com"
    assert "x-amz-content-sha256" not in request["headers"]


@pytest.mark.usefixtures("configured")
def test_origin_request_for_anonymous_visitor_without_id_skips_experiments() -> None:
    request = handler.origin_request(origin_event(CloudFront_Viewer_Country="zz"))
    assert json.loads(header(request, "x-flags"))["checkout"] == "a"
    assert "x-experiments" not in request["headers"]
    assert "x-viewer-country" not in request["headers"]
    assert request["origin"]["custom"]["domainName"] == "example.org"


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize("encoding", ["base64", "text"])
def test_body_hash_for_oac(encoding: str) -> None:
    raw = b'{"name": "project \xc3\xa9"}'
    data = base64.b64encode(raw).decode() if encoding == "base64" else raw.decode()
    body = {"inputTruncated": False, "action": "read-only", "encoding": encoding, "data": data}
    request = handler.origin_request(origin_event("POST", body, X_Amz_Content_Sha256="client-value"))
    assert header(request, "x-amz-content-sha256") == hashlib.sha256(raw).hexdigest()


@pytest.mark.usefixtures("configured")
def test_empty_body_hash() -> None:
    request = handler.origin_request(origin_event("PUT"))
    assert header(request, "x-amz-content-sha256") == hashlib.sha256(b"").hexdigest()


@pytest.mark.usefixtures("configured")
def test_truncated_or_oversized_body_gets_413(signing_key: SigningKey) -> None:
    truncated = {"inputTruncated": True, "action": "read-only", "encoding": "base64", "data": "AAAA"}
    assert_problem(handler.origin_request(origin_event("POST", truncated)), 413)
    handler.configure(edge_config(signing_key, limits={"max_body_bytes": 10}), clock=FrozenClock(NOW))
    big = {"inputTruncated": False, "encoding": "text", "data": "x" * 11}
    assert_problem(handler.origin_request(origin_event("PATCH", big)), 413)


@pytest.mark.usefixtures("configured")
def test_malformed_body_gets_400() -> None:
    body = {"inputTruncated": False, "encoding": "base64", "data": "not base64!"}
    assert_problem(handler.origin_request(origin_event("POST", body)), 400)


@pytest.mark.usefixtures("configured")
def test_device_from_sample_event() -> None:
    event = load_event("sam-CloudFrontServeObjectOnViewerDevice.json")
    request = handler.origin_request(event)
    assert json.loads(header(request, "x-flags"))["mobile-nav"] == "classic"


# --- viewer-response -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("configured")
def test_viewer_response_adds_security_headers_and_anonymous_cookie() -> None:
    event = load_event("viewer-response.json")
    response = handler.viewer_response(copy.deepcopy(event))
    assert header(response, "x-content-type-options") == "nosniff"
    assert response["headers"]["strict-transport-security"][0]["key"] == "Strict-Transport-Security"
    cookie = header(response, "set-cookie")
    assert cookie.startswith("aid=")
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {part.strip() for part in cookie.split(";")}
    assert response["status"] == event["Records"][0]["cf"]["response"]["status"]


@pytest.mark.usefixtures("configured")
def test_viewer_response_keeps_existing_cookie_and_origin_headers() -> None:
    event = load_event("viewer-response.json")
    cf = event["Records"][0]["cf"]
    cf["request"]["headers"]["cookie"] = [{"key": "Cookie", "value": "aid=0123456789abcdef"}]
    cf["response"]["headers"]["x-frame-options"] = [{"key": "X-Frame-Options", "value": "SAMEORIGIN"}]
    response = handler.viewer_response(event)
    assert "set-cookie" not in response["headers"]
    assert header(response, "x-frame-options") == "SAMEORIGIN"


def test_configure_injects_jwks_fetcher(signing_key: SigningKey) -> None:
    fetched: list[str] = []

    def jwks_fetch(url: str, timeout: float) -> bytes:
        fetched.append(url)
        return json.dumps({"keys": [signing_key.public_jwk]}).encode()

    config = edge_config(signing_key)
    config["issuers"] = [
        {"issuer": ISSUER, "audiences": [AUDIENCE], "jwks_url": "https://issuer.test/jwks.json"}
    ]
    handler.configure(config, clock=FrozenClock(NOW), jwks_fetch=jwks_fetch)
    try:
        token = signing_key.mint(standard_claims())
        request = handler.viewer_request(viewer_event(Authorization=f"Bearer {token}"))
        assert header(request, "x-auth-user") == "user-1"
        assert fetched == ["https://issuer.test/jwks.json"]
    finally:
        handler.configure(None)
