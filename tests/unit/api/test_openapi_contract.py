"""The v1 contract comparison on small documents: what breaks a client is flagged, additions are not."""

from __future__ import annotations

import copy
from typing import Any

from api.openapi_contract import breaking_changes

BASE: dict[str, Any] = {
    "paths": {
        "/api/v1/things": {
            "get": {
                "parameters": [
                    {"in": "query", "name": "limit", "required": False, "schema": {"type": "integer"}}
                ],
                "responses": {
                    "200": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}
                    }
                },
            },
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingCreate"}}},
                },
                "responses": {
                    "201": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}
                    }
                },
            },
        }
    },
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
            "ThingCreate": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "kind": {"type": "string", "enum": ["a", "b"]},
                },
            },
        }
    },
}


def changed(edit) -> list[str]:
    new = copy.deepcopy(BASE)
    edit(new)
    return breaking_changes(BASE, new)


def test_an_identical_document_has_no_breaking_change():
    assert breaking_changes(BASE, copy.deepcopy(BASE)) == []


def test_additions_are_compatible():
    def add(doc):
        doc["paths"]["/api/v1/others"] = {"get": {"responses": {"200": {}}}}
        doc["paths"]["/api/v1/things"]["delete"] = {"responses": {"204": {}}}
        doc["components"]["schemas"]["Thing"]["properties"]["color"] = {"type": "string"}
        doc["components"]["schemas"]["ThingCreate"]["properties"]["color"] = {"type": "string"}
        doc["components"]["schemas"]["ThingCreate"]["properties"]["kind"]["enum"].append("c")
        doc["paths"]["/api/v1/things"]["get"]["parameters"].append(
            {"in": "query", "name": "q", "required": False, "schema": {"type": "string"}}
        )
        doc["paths"]["/api/v1/things"]["get"]["responses"]["404"] = {}

    assert changed(add) == []


def test_removed_paths_operations_and_responses_are_breaking():
    assert changed(lambda d: d["paths"].pop("/api/v1/things")) == ["/api/v1/things: path removed"]
    assert changed(lambda d: d["paths"]["/api/v1/things"].pop("post")) == [
        "POST /api/v1/things: operation removed"
    ]
    assert changed(lambda d: d["paths"]["/api/v1/things"]["post"]["responses"].pop("201")) == [
        "POST /api/v1/things: response 201 removed"
    ]


def test_request_changes_that_break_clients():
    def require(doc):
        doc["components"]["schemas"]["ThingCreate"]["required"].append("kind")

    def retype(doc):
        doc["components"]["schemas"]["ThingCreate"]["properties"]["name"] = {"type": "integer"}

    def drop_enum(doc):
        doc["components"]["schemas"]["ThingCreate"]["properties"]["kind"]["enum"] = ["a"]

    def new_param(doc):
        doc["paths"]["/api/v1/things"]["get"]["parameters"].append(
            {"in": "query", "name": "tenant", "required": True, "schema": {"type": "string"}}
        )

    assert changed(require) == ["POST /api/v1/things body.kind: newly required"]
    assert changed(retype) == ["POST /api/v1/things body.name: type ['string'] -> ['integer']"]
    assert changed(drop_enum) == ["POST /api/v1/things body.kind: enum values removed ['b']"]
    assert changed(new_param) == ["GET /api/v1/things: new required query parameter 'tenant'"]
    assert changed(lambda d: d["paths"]["/api/v1/things"]["get"]["parameters"].clear()) == [
        "GET /api/v1/things: query parameter 'limit' removed"
    ]


def test_response_changes_that_break_clients():
    def drop(doc):
        doc["components"]["schemas"]["Thing"]["properties"].pop("note")

    def loosen(doc):
        doc["components"]["schemas"]["Thing"]["required"].remove("name")

    def nullable(doc):
        doc["components"]["schemas"]["Thing"]["properties"]["id"] = {
            "anyOf": [{"type": "string"}, {"type": "null"}]
        }

    def items(doc):
        doc["components"]["schemas"]["Thing"]["properties"]["tags"]["items"] = {"type": "integer"}

    assert changed(drop) == ["GET /api/v1/things 200.note: removed", "POST /api/v1/things 201.note: removed"]
    assert "GET /api/v1/things 200.name: was always present, now optional" in changed(loosen)
    assert "GET /api/v1/things 200.id: type ['string'] -> ['null', 'string']" in changed(nullable)
    assert "GET /api/v1/things 200.tags[]: type ['string'] -> ['integer']" in changed(items)
