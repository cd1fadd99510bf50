"""The committed v1 contract (docs/openapi/v1.json) against the app's document: an accidental breaking change
fails here; `make openapi` rewrites the file after a deliberate, compatible one. Each version is served its
own document."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from api.main import app
from api.openapi_contract import CONTRACT_PATH, breaking_changes, main


def test_the_app_keeps_the_committed_v1_contract():
    committed = json.loads(CONTRACT_PATH.read_text())
    current = TestClient(app).get("/api/v1/openapi.json").json()
    problems = breaking_changes(committed, current)
    assert problems == [], "breaking changes against docs/openapi/v1.json:\n" + "\n".join(problems)
    assert len(committed["paths"]) >= 30  # the file is the real document, not a stub


def test_each_version_has_its_own_document():
    client = TestClient(app)
    v1 = client.get("/api/v1/openapi.json").json()
    v2 = client.get("/api/v2/openapi.json").json()
    assert (v1["info"]["version"], v2["info"]["version"]) == ("1.0.0", "2.0.0")
    assert not [path for path in v1["paths"] if path.startswith("/api/v2/")]
    assert list(v2["paths"]) == ["/api/v2/events"]
    assert "Problem" in v2["components"]["schemas"]  # the problem responses are documented in v2 too


def test_the_cli_checks_and_writes(tmp_path, capsys):
    target = tmp_path / "v1.json"
    assert main(["write", str(target)]) == 0
    assert main(["check", str(target)]) == 0
    document = json.loads(target.read_text())
    document["paths"]["/api/v1/retired"] = {"get": {"responses": {"200": {}}}}
    target.write_text(json.dumps(document))
    assert main(["check", str(target)]) == 1
    assert "/api/v1/retired: path removed" in capsys.readouterr().out
