"""U+0000 cannot be stored in PostgreSQL text: every way a client can send it is a 4xx, never a 500."""

from __future__ import annotations

import pytest


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
