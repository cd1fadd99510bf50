"""The response envelope: U+0000 is a 4xx wherever a client sends it, and a redirect never names the origin host."""

from __future__ import annotations

import json

import pytest

from api.main import handler
from api.middleware import _relative_location
from tests.integration.api.events import http_event


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/members", {"email": "0@0.\u0000", "role": "member"}),
        ("/api/v1/projects", {"name": "a\u0000b"}),
        ("/api/v1/usage", {"meter": "api_calls", "idempotency_key": "k\u0000"}),
    ],
)
def test_nul_in_a_json_body_is_a_422_with_a_pointer(api, path, body):
    owner = api.sign_up()
    response = api.client.post(path, json=body, headers=owner.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "NUL" in response.text


def test_nul_in_the_query_string_is_a_400(api):
    owner = api.sign_up()
    response = api.client.get("/api/v1/projects?name=a%00b", headers=owner.headers)
    assert response.status_code == 400
    assert response.json()["type"].endswith("/bad-request")


def test_text_without_nul_is_still_accepted(api):
    owner = api.sign_up()
    assert api.client.post("/api/v1/projects", json={"name": "a b"}, headers=owner.headers).status_code == 201


FUNCTION_URL_HOST = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6.lambda-url.eu-west-1.on.aws"


@pytest.mark.parametrize(
    ("path", "query", "location"),
    [
        ("/api/v1/projects/", "", "/api/v1/projects"),
        ("/api/v1/projects/", "limit=5&sort=name", "/api/v1/projects?limit=5&sort=name"),
        ("/api/v1/health/", "", "/api/v1/health"),
    ],
)
def test_the_trailing_slash_redirect_never_names_the_origin_host(lambda_context, path, query, location):
    """Behind CloudFront the app's Host is the Function URL: a redirect must stay relative to the viewer's."""
    response = handler(
        http_event("GET", path, query=query, headers={"host": FUNCTION_URL_HOST}), lambda_context
    )
    assert response["statusCode"] == 307
    assert response["headers"]["location"] == location
    assert FUNCTION_URL_HOST not in json.dumps(response)


def test_a_location_to_another_host_is_left_alone():
    assert _relative_location(b"https://billing.stripe.com/p/session", "api.example") == (
        b"https://billing.stripe.com/p/session"
    )
    assert _relative_location(b"/api/v1/jobs/1", "api.example") == b"/api/v1/jobs/1"
    assert _relative_location(b"HTTPS://API.example", "api.example") == b"/"
