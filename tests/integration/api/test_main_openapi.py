from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import app


def test_openapi_documents_problems_and_docs_are_served():
    client = TestClient(app)
    schema = client.get("/api/v1/openapi.json").json()
    assert "Problem" in schema["components"]["schemas"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    create = schema["paths"]["/api/v1/projects"]["post"]
    assert set(create["responses"]) >= {"201", "401", "403", "404", "409", "422", "429"}
    assert "application/problem+json" in create["responses"]["422"]["content"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
