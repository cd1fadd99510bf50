"""The committed v1 OpenAPI document is the API's contract; this finds the breaking changes against it.

Breaking (what an existing client would notice): a removed path or operation; a removed success response;
a new required parameter or request field; a removed request field (bodies refuse unknown fields) or
parameter; a changed type anywhere; a removed enum value in a request; a removed response field, or one that
was always present and now may be absent. Additions (paths, operations, optional fields, response fields,
statuses) are not breaking.

``python -m api.openapi_contract check`` compares the app with ``docs/openapi/v1.json``;
``python -m api.openapi_contract write`` regenerates it after a deliberate, compatible change (``make openapi``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

CONTRACT_PATH: Final = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "v1.json"
METHODS: Final = ("get", "put", "post", "delete", "patch", "head", "options")
MAX_DEPTH: Final = 12
Direction = Literal["request", "response"]


class _Schemas:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.components = document.get("components", {}).get("schemas", {})

    def resolve(self, schema: Mapping[str, Any] | None) -> dict[str, Any]:
        seen: set[str] = set()
        current = dict(schema or {})
        while "$ref" in current and current["$ref"] not in seen:
            seen.add(current["$ref"])
            current = dict(self.components.get(current["$ref"].rsplit("/", 1)[-1], {}))
        return current


def _types(schema: Mapping[str, Any], schemas: _Schemas) -> set[str]:
    """The JSON types a schema admits (anyOf/oneOf flattened; `null` kept, so Optional is visible)."""
    resolved = schemas.resolve(schema)
    branches = resolved.get("anyOf") or resolved.get("oneOf")
    if branches:
        return set().union(*(_types(branch, schemas) for branch in branches))
    kind = resolved.get("type")
    if isinstance(kind, list):
        return set(kind)
    if kind:
        return {kind}
    return {"object"} if "properties" in resolved else set()


def _non_null(schema: Mapping[str, Any], schemas: _Schemas) -> dict[str, Any]:
    resolved = schemas.resolve(schema)
    for branch in resolved.get("anyOf") or resolved.get("oneOf") or ():
        candidate = schemas.resolve(branch)
        if candidate.get("type") != "null":
            return candidate
    return resolved


def _compare_schema(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    where: str,
    direction: Direction,
    schemas: tuple[_Schemas, _Schemas],
    depth: int = 0,
) -> list[str]:
    if depth > MAX_DEPTH:
        return []
    old_s, new_s = schemas
    problems: list[str] = []
    old_types, new_types = _types(old, old_s), _types(new, new_s)
    if old_types and new_types:
        if direction == "request" and not old_types <= new_types:
            problems.append(f"{where}: type {sorted(old_types)} -> {sorted(new_types)}")
        if direction == "response" and not new_types <= old_types:
            problems.append(f"{where}: type {sorted(old_types)} -> {sorted(new_types)}")
    old_r, new_r = _non_null(old, old_s), _non_null(new, new_s)
    if direction == "request" and "enum" in old_r and "enum" in new_r:
        removed = set(old_r["enum"]) - set(new_r["enum"])
        if removed:
            problems.append(f"{where}: enum values removed {sorted(map(str, removed))}")
    old_props, new_props = old_r.get("properties", {}), new_r.get("properties", {})
    old_required, new_required = set(old_r.get("required", ())), set(new_r.get("required", ()))
    for name, old_prop in old_props.items():
        field = f"{where}.{name}"
        if name not in new_props:
            problems.append(f"{field}: removed")
            continue
        if direction == "response" and name in old_required and name not in new_required:
            problems.append(f"{field}: was always present, now optional")
        problems += _compare_schema(
            old_prop, new_props[name], where=field, direction=direction, schemas=schemas, depth=depth + 1
        )
    if direction == "request":
        for name in sorted(new_required - old_required):
            problems.append(f"{where}.{name}: newly required")
    if "items" in old_r and "items" in new_r:
        problems += _compare_schema(
            old_r["items"],
            new_r["items"],
            where=f"{where}[]",
            direction=direction,
            schemas=schemas,
            depth=depth + 1,
        )
    return problems


def _json_schema(content: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not content:
        return None
    for media_type in ("application/json", "application/problem+json"):
        if media_type in content:
            return dict(content[media_type].get("schema", {}))
    return None


def _compare_operation(
    old: Mapping[str, Any], new: Mapping[str, Any], *, where: str, schemas: tuple[_Schemas, _Schemas]
) -> list[str]:
    problems: list[str] = []
    old_params = {(p["in"], p["name"]): p for p in old.get("parameters", ())}
    new_params = {(p["in"], p["name"]): p for p in new.get("parameters", ())}
    for key, param in old_params.items():
        if key not in new_params:
            problems.append(f"{where}: {key[0]} parameter {key[1]!r} removed")
            continue
        problems += _compare_schema(
            param.get("schema", {}),
            new_params[key].get("schema", {}),
            where=f"{where} {key[0]} {key[1]}",
            direction="request",
            schemas=schemas,
        )
    for key, param in new_params.items():
        if key not in old_params and param.get("required"):
            problems.append(f"{where}: new required {key[0]} parameter {key[1]!r}")
    old_body = _json_schema(old.get("requestBody", {}).get("content"))
    new_body = _json_schema(new.get("requestBody", {}).get("content"))
    if new.get("requestBody", {}).get("required") and not old.get("requestBody"):
        problems.append(f"{where}: a request body is now required")
    if old_body is not None and new_body is not None:
        problems += _compare_schema(
            old_body, new_body, where=f"{where} body", direction="request", schemas=schemas
        )
    for status, response in old.get("responses", {}).items():
        if not status.startswith("2"):
            continue
        if status not in new.get("responses", {}):
            problems.append(f"{where}: response {status} removed")
            continue
        old_schema = _json_schema(response.get("content"))
        new_schema = _json_schema(new["responses"][status].get("content"))
        if old_schema is not None and new_schema is not None:
            problems += _compare_schema(
                old_schema, new_schema, where=f"{where} {status}", direction="response", schemas=schemas
            )
    return problems


def breaking_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What in ``new`` would break a client written against ``old`` (empty: compatible)."""
    schemas = (_Schemas(old), _Schemas(new))
    problems: list[str] = []
    for path, old_item in old.get("paths", {}).items():
        new_item = new.get("paths", {}).get(path)
        if new_item is None:
            problems.append(f"{path}: path removed")
            continue
        for method in METHODS:
            if method not in old_item:
                continue
            where = f"{method.upper()} {path}"
            if method not in new_item:
                problems.append(f"{where}: operation removed")
                continue
            problems += _compare_operation(old_item[method], new_item[method], where=where, schemas=schemas)
    return problems


def current_document() -> dict[str, Any]:
    from api.main import app

    document: dict[str, Any] = app.openapi()
    return document


def main(argv: Sequence[str]) -> int:
    command = argv[0] if argv else "check"
    path = Path(argv[1]) if len(argv) > 1 else CONTRACT_PATH
    document = current_document()
    if command == "write":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
        print(f"wrote {path}")
        return 0
    if command != "check":
        print("usage: python -m api.openapi_contract [check|write] [path]", file=sys.stderr)
        return 2
    problems = breaking_changes(json.loads(path.read_text()), document)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} breaking change(s) against {path}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
