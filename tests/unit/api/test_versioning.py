"""Versions, per-version documents and the deprecation headers (RFC 9745 Deprecation, RFC 8594 Sunset) on a
small app behind the real response middleware, for a route returning a model and one returning a Response."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import APIRouter, FastAPI, Response
from fastapi.testclient import TestClient

from api.middleware import ResponseEnvelopeMiddleware
from api.versioning import Deprecation, deprecated, version_document, version_of

RETIRING = Deprecation(
    deprecated_at=datetime(2026, 1, 1, tzinfo=UTC),
    sunset_at=datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
    successor="/api/v2/things",
)


def test_headers_follow_the_rfcs():
    headers = RETIRING.headers()
    assert headers["Deprecation"] == "@1767225600"
    assert headers["Sunset"] == "Thu, 31 Dec 2026 23:59:59 GMT"
    assert headers["Link"] == (
        '</api/v2/things>; rel="successor-version", </api/docs#versioning>; rel="deprecation", '
        '</api/docs#versioning>; rel="sunset"'
    )


def test_dates_are_checked():
    with pytest.raises(ValueError, match="timezone"):
        Deprecation(deprecated_at=datetime(2026, 1, 1), sunset_at=datetime(2026, 2, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="before"):
        Deprecation(
            deprecated_at=datetime(2026, 2, 1, tzinfo=UTC), sunset_at=datetime(2026, 1, 1, tzinfo=UTC)
        )


def test_version_of_paths():
    assert version_of("/api/v1/projects") == "v1"
    assert version_of("/api/v2") == "v2"
    assert version_of("/api/v3/x") is None
    assert version_of("/api/v10/x") is None
    assert version_of("/.well-known/jwks.json") is None


@pytest.fixture
def client() -> TestClient:
    v1 = APIRouter(prefix="/api/v1/things")
    v2 = APIRouter(prefix="/api/v2/things")

    @v1.get("", **deprecated(RETIRING))
    async def list_v1() -> dict[str, str]:
        return {"v": "1"}

    @v1.post("", status_code=201, **deprecated(RETIRING))
    async def create_v1() -> Response:
        return Response(b"{}", status_code=201, media_type="application/json")

    @v2.get("")
    async def list_v2() -> dict[str, str]:
        return {"v": "2"}

    app = FastAPI()
    app.include_router(v1)
    app.include_router(v2)
    app.add_middleware(ResponseEnvelopeMiddleware)
    app.state.documents = {v: version_document(app, v, app.routes) for v in ("v1", "v2")}
    return TestClient(app)


def test_deprecated_operations_carry_the_headers_and_current_ones_do_not(client):
    for response in (client.get("/api/v1/things"), client.post("/api/v1/things")):
        assert response.status_code < 300
        assert response.headers["deprecation"] == "@1767225600"
        assert response.headers["sunset"] == "Thu, 31 Dec 2026 23:59:59 GMT"
        assert 'rel="successor-version"' in response.headers["link"]
    current = client.get("/api/v2/things")
    assert current.json() == {"v": "2"}
    assert "deprecation" not in current.headers
    assert "sunset" not in current.headers


def test_each_version_document_has_its_own_operations(client):
    documents = client.app.state.documents
    assert list(documents["v1"]["paths"]) == ["/api/v1/things"]
    assert list(documents["v2"]["paths"]) == ["/api/v2/things"]
    assert documents["v1"]["paths"]["/api/v1/things"]["get"]["deprecated"] is True
    assert "deprecated" not in documents["v2"]["paths"]["/api/v2/things"]["get"]
