"""SCIM filters (the subset served) and PATCH (RFC 7644 §3.5.2) over the stored attribute document.

Filters: ``attrPath eq value`` comparisons joined by ``and``; anything else (other operators, ``or``, ``not``,
grouping) is refused with ``invalidFilter`` rather than half-understood. PATCH paths: ``attr``, ``attr.sub``,
``attr[filter]``, ``attr[filter].sub``, each optionally prefixed by a schema URN, and no path at all (the value
is then an object of attributes or paths), in the spellings Entra ID and Okta send (``Replace``, ``"False"``,
``members[value eq "…"]``, a bare manager id).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.services.scim_schema import (
    COMMON_WRITABLE,
    PATCH_SCHEMA,
    Attribute,
    ResourceType,
    check_required,
    coerce,
    coerce_attribute,
    invalid,
)

MAX_OPERATIONS = 100
MAX_FILTER_CHARS = 1024
_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|(\[|\])|([^\s\[\]"]+))')
_UNSUPPORTED = "only `attribute eq value` comparisons joined by `and` are supported"


@dataclass(frozen=True)
class Comparison:
    attribute: str  # as written (resolved later against the schema)
    value: Any


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise invalid("the filter cannot be parsed", "invalidFilter")
        tokens.append(match.group(0).strip())
        position = match.end()
    return tokens


def _literal(token: str) -> Any:
    if token.startswith('"'):
        try:
            return json.loads(token)
        except ValueError as exc:
            raise invalid("a filter string is malformed", "invalidFilter") from exc
    lowered = token.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    try:
        return json.loads(token)
    except ValueError as exc:
        raise invalid(f"{token!r} is not a filter value", "invalidFilter") from exc


def parse_filter(text: str) -> list[Comparison]:
    if len(text) > MAX_FILTER_CHARS:
        raise invalid(f"the filter is longer than {MAX_FILTER_CHARS} characters", "invalidFilter")
    tokens = _tokens(text)
    if not tokens or len(tokens) % 4 != 3:
        raise invalid(_UNSUPPORTED, "invalidFilter")
    comparisons = []
    for index in range(0, len(tokens), 4):
        attribute, operator, value = tokens[index : index + 3]
        joiner = tokens[index + 3] if index + 3 < len(tokens) else "and"
        if operator.lower() != "eq" or joiner.lower() != "and" or attribute in ("(", "not") or "[" in tokens:
            raise invalid(_UNSUPPORTED, "invalidFilter")
        if not re.fullmatch(r"[A-Za-z0-9:._$-]+", attribute):
            raise invalid(f"{attribute!r} is not an attribute path", "invalidFilter")
        comparisons.append(Comparison(attribute, _literal(value)))
    return comparisons


@dataclass(frozen=True)
class Target:
    """A resolved PATCH path: where in the document (``container``: None for core, else the extension urn)."""

    container: str | None
    attribute: Attribute
    value_filter: tuple[Comparison, ...] = ()
    sub: Attribute | None = None


def _strip_urn(resource_type: ResourceType, path: str) -> tuple[str | None, str]:
    lowered = path.lower()
    for schema in (resource_type.schema, *resource_type.extensions):
        prefix = schema.id.lower() + ":"
        if lowered.startswith(prefix):
            return (None if schema is resource_type.schema else schema.id), path[len(prefix) :]
    return None, path


def resolve_path(resource_type: ResourceType, path: str) -> Target:
    container, rest = _strip_urn(resource_type, path.strip())
    match = re.fullmatch(r"([A-Za-z$][\w$-]*)(?:\[(.*)\])?(?:\.([A-Za-z$][\w$-]*))?", rest, re.DOTALL)
    if match is None:
        raise invalid(f"{path!r} is not a valid path", "invalidPath")
    name, filter_text, sub_name = match.groups()
    schema = resource_type.schema if container is None else resource_type.schema_for(container)
    assert schema is not None
    attribute = schema.attribute(name)
    if attribute is None and container is None and name.lower() == "externalid":
        attribute = COMMON_WRITABLE
    if attribute is None:
        lowered = name.lower()
        if container is None and lowered in ("id", "meta", "schemas"):
            raise invalid(f"{name} is read-only", "mutability")
        raise invalid(f"{path!r} names no attribute of {resource_type.name}", "invalidPath")
    value_filter: tuple[Comparison, ...] = ()
    if filter_text is not None:
        if not attribute.multi_valued:
            raise invalid(f"{attribute.name} is not multi-valued; it takes no filter", "invalidPath")
        try:
            value_filter = tuple(parse_filter(filter_text))
        except Exception as exc:
            raise invalid(f"the filter in {path!r} is not supported", "invalidPath") from exc
        for comparison in value_filter:
            if attribute.sub(comparison.attribute) is None:
                raise invalid(
                    f"{comparison.attribute} is not a sub-attribute of {attribute.name}", "invalidPath"
                )
    sub = None
    if sub_name is not None:
        sub = attribute.sub(sub_name)
        if sub is None:
            raise invalid(f"{sub_name} is not a sub-attribute of {attribute.name}", "invalidPath")
    if attribute.mutability == "readOnly" or (sub is not None and sub.mutability == "readOnly"):
        raise invalid(f"{path} is read-only", "mutability")
    return Target(container, attribute, value_filter, sub)


def _matches(attribute: Attribute, element: Any, comparisons: tuple[Comparison, ...]) -> bool:
    if not isinstance(element, Mapping):
        return False
    for comparison in comparisons:
        sub = attribute.sub(comparison.attribute)
        assert sub is not None
        actual, wanted = element.get(sub.name), comparison.value
        if isinstance(actual, str) and isinstance(wanted, str) and not sub.case_exact:
            actual, wanted = actual.lower(), wanted.lower()
        if actual != wanted:
            return False
    return True


def _place(document: dict[str, Any], container: str | None) -> dict[str, Any]:
    if container is None:
        return document
    part = document.get(container)
    if not isinstance(part, dict):
        part = {}
        document[container] = part
    return part


def _merge_complex(current: Any, value: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current) if isinstance(current, Mapping) else {}
    merged.update(value)
    return merged


def _add_values(existing: list[Any], new: list[Any]) -> list[Any]:
    """``add`` to a multi-valued attribute: values already there (or with the same ``value``) are not repeated."""
    out = list(existing)
    for item in new:
        same = isinstance(item, dict) and "value" in item
        if item not in out and not (
            same and any(isinstance(e, dict) and e.get("value") == item["value"] for e in out)
        ):
            out.append(item)
    return _one_primary(out)


def _set_whole(target: Target, place: dict[str, Any], value: Any, op: str) -> None:
    attribute, name = target.attribute, target.attribute.name
    coerced = coerce_attribute(attribute, value, name)
    if coerced is None:
        place.pop(name, None)
    elif attribute.multi_valued and op == "add":
        place[name] = _add_values(place.get(name) or [], coerced)
    elif attribute.type == "complex" and not attribute.multi_valued:
        place[name] = _merge_complex(place.get(name), coerced)  # RFC 7644 §3.5.2.1/3: sub-attributes merge
    else:
        place[name] = coerced


def _set_sub(target: Target, place: dict[str, Any], value: Any) -> None:
    attribute, sub = target.attribute, target.sub
    assert sub is not None
    if attribute.multi_valued:
        raise invalid(
            f'{attribute.name}.{sub.name} needs a value filter, e.g. {attribute.name}[type eq "work"]',
            "invalidPath",
        )
    current = dict(place.get(attribute.name) or {})
    coerced = coerce(sub, value, f"{attribute.name}.{sub.name}")
    if coerced is None:
        current.pop(sub.name, None)
    else:
        current[sub.name] = coerced
    if current:
        place[attribute.name] = current
    else:
        place.pop(attribute.name, None)


def _set_filtered(target: Target, place: dict[str, Any], value: Any) -> None:
    attribute, name = target.attribute, target.attribute.name
    elements = list(place.get(name) or [])
    matched = [e for e in elements if _matches(attribute, e, target.value_filter)]
    if target.sub is not None:
        coerced = coerce(target.sub, value, f"{name}.{target.sub.name}")
        if not matched:
            # Entra ID sets emails[type eq "work"].value on a user without one: the filter names the new value.
            new = {attribute.sub(c.attribute).name: c.value for c in target.value_filter}  # type: ignore[union-attr]
            new[target.sub.name] = coerced
            elements.append(coerce(attribute, new, name))
        for element in matched:
            element[target.sub.name] = coerced
    else:
        if not matched:
            raise invalid(f"no value of {name} matches the filter", "noTarget")
        replacement = coerce(attribute, value, name)
        elements = [(_merge_complex(e, replacement) if e in matched else e) for e in elements]
    place[name] = _one_primary(elements)


def _set(target: Target, document: dict[str, Any], value: Any, *, op: str) -> None:
    place = _place(document, target.container)
    if target.value_filter:
        _set_filtered(target, place, value)
    elif target.sub is not None:
        _set_sub(target, place, value)
    else:
        _set_whole(target, place, value, op)


def _one_primary(elements: list[Any]) -> list[Any]:
    primaries = [e for e in elements if isinstance(e, dict) and e.get("primary") is True]
    for extra in primaries[:-1]:
        extra["primary"] = False
    return elements


def _remove_unfiltered(target: Target, place: dict[str, Any], value: Any) -> None:
    attribute, name, sub = target.attribute, target.attribute.name, target.sub
    if sub is not None and attribute.multi_valued:
        for element in place.get(name) or []:
            element.pop(sub.name, None)
    elif sub is not None:
        current = dict(place.get(name) or {})
        current.pop(sub.name, None)
        place[name] = current
    elif attribute.multi_valued and value is not None:
        # Okta and Entra ID remove group members as {"path": "members", "value": [{"value": id}]}.
        items = value if isinstance(value, list) else [value]
        doomed = {str(item.get("value")) for item in items if isinstance(item, Mapping)}
        place[name] = [e for e in place.get(name) or [] if str(e.get("value")) not in doomed]
    else:
        place.pop(name, None)


def _remove(target: Target, document: dict[str, Any], value: Any) -> None:
    place = _place(document, target.container)
    attribute, name = target.attribute, target.attribute.name
    if not target.value_filter:
        _remove_unfiltered(target, place, value)
    elif target.sub is None:
        place[name] = [e for e in place.get(name) or [] if not _matches(attribute, e, target.value_filter)]
    else:
        for element in place.get(name) or []:
            if _matches(attribute, element, target.value_filter):
                element.pop(target.sub.name, None)
    if name in place and not place[name]:
        place.pop(name, None)


def _pathless(resource_type: ResourceType, value: Any) -> list[tuple[Target, Any]]:
    """``add``/``replace`` without a path: each member of the value object is an attribute (or a path, or an
    extension's object of attributes)."""
    if not isinstance(value, Mapping):
        raise invalid("an operation without a path needs an object value", "invalidSyntax")
    pairs: list[tuple[Target, Any]] = []
    for key, item in value.items():
        name = str(key)
        if name.lower() in ("schemas", "id", "meta"):
            continue  # Okta repeats the id in a no-path replace; read-only, ignored as in PUT
        extension = resource_type.schema_for(name)
        if extension is not None and extension is not resource_type.schema:
            if not isinstance(item, Mapping):
                raise invalid(f"{name} must be an object")
            pairs.extend(
                (resolve_path(resource_type, f"{extension.id}:{sub}"), v)
                for sub, v in item.items()
                if str(sub).lower() != "schemas"
            )
            continue
        pairs.append((resolve_path(resource_type, name), item))
    return pairs


def _operations(body: Any) -> list[Any]:
    if not isinstance(body, Mapping) or PATCH_SCHEMA not in (body.get("schemas") or []):
        raise invalid("the body must be a PatchOp message", "invalidSyntax")
    operations = body.get("Operations") or body.get("operations")
    if not isinstance(operations, list) or not operations:
        raise invalid("Operations must be a non-empty list", "invalidSyntax")
    if len(operations) > MAX_OPERATIONS:
        raise invalid(f"at most {MAX_OPERATIONS} operations per request", "tooMany")
    return operations


def _apply_one(resource_type: ResourceType, result: dict[str, Any], operation: Any) -> None:
    if not isinstance(operation, Mapping):
        raise invalid("each operation must be an object", "invalidSyntax")
    op, path, value = str(operation.get("op", "")).lower(), operation.get("path"), operation.get("value")
    if path is not None and not isinstance(path, str):
        raise invalid("path must be a string", "invalidPath")
    extension = resource_type.schema_for(path) if path else None
    if extension is resource_type.schema:
        extension = None
    if op in ("add", "replace"):
        if "value" not in operation:
            raise invalid(f"{op} needs a value", "invalidSyntax")
        # No path, or one naming an extension schema: the value is an object of attributes (§3.5.2).
        pairs = (
            [(resolve_path(resource_type, path), value)]
            if path and extension is None
            else _pathless(resource_type, value if extension is None else {extension.id: value})
        )
        for target, item in pairs:
            _set(target, result, item, op=op)
    elif op == "remove":
        if not path:
            raise invalid("remove needs a path", "noTarget")
        if extension is not None:
            result.pop(extension.id, None)
        else:
            _remove(resolve_path(resource_type, path), result, value)
    else:
        raise invalid(f"op must be add, replace or remove, not {operation.get('op')!r}", "invalidSyntax")


def apply(resource_type: ResourceType, document: dict[str, Any], body: Any) -> dict[str, Any]:
    """The document after every operation of a PatchOp body, or an error and no change at all."""
    result = copy.deepcopy(document)
    for operation in _operations(body):
        _apply_one(resource_type, result, operation)
    for urn in [k for k, v in result.items() if k.startswith("urn:") and not v]:
        del result[urn]
    check_required(resource_type, result)
    return result
