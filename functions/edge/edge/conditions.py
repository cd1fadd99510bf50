"""GrowthBook targeting conditions, compiled once into closures, with the JS SDK's semantics.

The JS SDK (the cross-SDK suite's reference) coerces like JavaScript: `"10" < 9` compares numbers,
a string condition compares `String(value)`, `$eq` is `===`, `$in` is `Array.includes` (1 is not
true). `js_*` helpers reproduce exactly the coercions the suite exercises; strings compare by code
point (JS compares UTF-16 units: they differ only between astral and high-BMP characters).
"""

from __future__ import annotations

import json
import math
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    Predicate = Callable[[Any], bool]
    SavedGroups = Mapping[str, Any]

_JS_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Infinity)")


def js_truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, int | float):
        return not math.isnan(value) and value != 0
    if isinstance(value, str):
        return value != ""
    return True


def js_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def js_number_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def js_string(value: Any) -> str:  # noqa: PLR0911 - one return per JSON type
    """JavaScript `String(value)` for JSON values."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return js_number_text(value)
    if isinstance(value, list):
        return ",".join("" if item is None else js_string(item) for item in value)
    return "[object Object]"


def js_number(value: Any) -> float:  # noqa: PLR0911 - one return per JSON type
    """JavaScript `Number(value)` for JSON values (NaN when not numeric)."""
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        if _JS_NUMBER.fullmatch(text):
            return float(text.replace("Infinity", "inf"))
        if text[:2].lower() in ("0x", "0o", "0b"):
            try:
                return float(int(text, 0))
            except ValueError:
                return math.nan
        return math.nan
    if isinstance(value, list):
        return js_number(js_string(value))
    return math.nan


def _to_primitive(value: Any) -> Any:
    return js_string(value) if isinstance(value, list | dict) else value


def js_less(a: Any, b: Any) -> bool | None:
    """`a < b` in JS: True, False, or None when the comparison is undefined (NaN involved)."""
    a, b = _to_primitive(a), _to_primitive(b)
    if isinstance(a, str) and isinstance(b, str):
        return a < b
    x, y = js_number(a), js_number(b)
    if math.isnan(x) or math.isnan(y):
        return None
    return x < y


def _numbers(a: Any, b: Any) -> bool:
    return (type(a) is int or type(a) is float) and (type(b) is int or type(b) is float)


def _lt(a: Any, b: Any) -> bool:
    if _numbers(a, b):
        return bool(a < b)
    return js_less(a, b) is True


def _gt(a: Any, b: Any) -> bool:
    if _numbers(a, b):
        return bool(a > b)
    return js_less(b, a) is True


def _lte(a: Any, b: Any) -> bool:
    if _numbers(a, b):
        return bool(a <= b)
    return js_less(b, a) is False


def _gte(a: Any, b: Any) -> bool:
    if _numbers(a, b):
        return bool(a >= b)
    return js_less(a, b) is False


def js_strict_equal(a: Any, b: Any) -> bool:
    """`a === b` for JSON values: objects and arrays are never identical to a parsed copy."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if a is None or b is None:
        return a is b
    return a is b


def js_includes(items: list[Any], value: Any) -> bool:
    """`items.includes(value)`: SameValueZero, so 1 does not include true."""
    return any(js_strict_equal(item, value) for item in items)


def _js_json_value(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        if value == int(value):
            return int(value)
    if isinstance(value, list):
        return [_js_json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _js_json_value(item) for key, item in value.items()}
    return value


def js_stringify(value: Any) -> str:
    return json.dumps(_js_json_value(value), separators=(",", ":"), ensure_ascii=False)


def padded_version(value: Any) -> str:
    """The JS SDK's `paddedVersionString`: numeric parts left-padded so string order is version order."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = js_string(value)
    if not isinstance(value, str) or not value:
        value = "0"
    parts = re.split(r"[-.]", re.sub(r"^v|\+.*$", "", value))
    if len(parts) == 3:
        parts.append("~")
    return "-".join(part.rjust(5) if re.fullmatch(r"[0-9]+", part) else part for part in parts)


def get_path(obj: Any, path: str) -> Any:
    """The JS SDK's `getPath`: dotted lookup through objects (and arrays' indices/length), else null."""
    current = obj
    for part in path.split("."):
        if isinstance(current, dict):
            if part not in current:
                return None
            current = current[part]
        elif isinstance(current, list):
            if part == "length":
                current = len(current)
            elif part.isdigit() and (part == "0" or part[0] != "0") and int(part) < len(current):
                current = current[int(part)]
            else:
                return None
        else:
            return None
    return current


def is_operator_object(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(key.startswith("$") for key in value)


def _is_in(actual: Any, expected: list[Any]) -> bool:
    if isinstance(actual, list):
        return any(js_includes(expected, item) for item in actual)
    return js_includes(expected, actual)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _is_in_insensitive(actual: Any, expected: list[Any]) -> bool:
    lowered = [_lower(item) for item in expected]
    if isinstance(actual, list):
        return any(js_includes(lowered, _lower(item)) for item in actual)
    return js_includes(lowered, _lower(actual))


def _is_all_insensitive(actual: Any, expected: list[Any]) -> bool:
    lowered = [_lower(item) for item in actual]
    return all(js_includes(lowered, _lower(item)) for item in expected)


def _regex(pattern: Any, flags: int) -> Predicate:
    try:
        compiled = re.compile(js_string(pattern), flags)
    except (re.error, TypeError, ValueError, OverflowError, RecursionError):
        return lambda actual: False

    def test(actual: Any) -> bool:
        return compiled.search(js_string(actual)) is not None

    return test


def _version(compare: Callable[[str, str], bool], expected: Any) -> Predicate:
    target = padded_version(expected)
    return lambda actual: compare(padded_version(actual), target)


def _operator(op: str, expected: Any, groups: SavedGroups) -> Predicate:  # noqa: PLR0911, PLR0912 - one branch per operator
    if op in ("$eq", "$ne") and type(expected) is str:
        # === against a string: true exactly for an equal string.
        if op == "$eq":
            return lambda actual: type(actual) is str and actual == expected
        return lambda actual: type(actual) is not str or actual != expected
    if op == "$eq":
        return lambda actual: js_strict_equal(actual, expected)
    if op == "$ne":
        return lambda actual: not js_strict_equal(actual, expected)
    if op == "$lt":
        return lambda actual: _lt(actual, expected)
    if op == "$lte":
        return lambda actual: _lte(actual, expected)
    if op == "$gt":
        return lambda actual: _gt(actual, expected)
    if op == "$gte":
        return lambda actual: _gte(actual, expected)
    if op in ("$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte"):
        comparators: dict[str, Callable[[str, str], bool]] = {
            "$veq": str.__eq__,
            "$vne": str.__ne__,
            "$vgt": str.__gt__,
            "$vgte": str.__ge__,
            "$vlt": str.__lt__,
            "$vlte": str.__le__,
        }
        return _version(comparators[op], expected)
    if op == "$exists":
        if js_truthy(expected):
            return lambda actual: actual is not None
        return lambda actual: actual is None
    if op in ("$in", "$nin", "$ini", "$nini", "$all", "$alli"):
        if not isinstance(expected, list):
            return lambda actual: False
        if op == "$in":
            strings = frozenset(item for item in expected if type(item) is str)
            # A string attribute is in the list exactly when an equal string is (=== on strings).
            return lambda actual: actual in strings if type(actual) is str else _is_in(actual, expected)
        if op == "$nin":
            return lambda actual: not _is_in(actual, expected)
        if op == "$ini":
            return lambda actual: _is_in_insensitive(actual, expected)
        if op == "$nini":
            return lambda actual: not _is_in_insensitive(actual, expected)
        if op == "$alli":
            return lambda actual: isinstance(actual, list) and _is_all_insensitive(actual, expected)
        parts = [compile_value(item, groups) for item in expected]
        return lambda actual: (
            isinstance(actual, list) and all(any(part(item) for item in actual) for part in parts)
        )
    if op in ("$inGroup", "$notInGroup"):
        members = groups.get(expected, []) if isinstance(expected, str) else []
        members = members if isinstance(members, list) else []
        if op == "$inGroup":
            return lambda actual: _is_in(actual, members)
        return lambda actual: not _is_in(actual, members)
    if op == "$not":
        inner = compile_value(expected, groups)
        return lambda actual: not inner(actual)
    if op == "$size":
        size = compile_value(expected, groups)
        return lambda actual: isinstance(actual, list) and size(len(actual))
    if op == "$elemMatch":
        check = (
            compile_value(expected, groups)
            if is_operator_object(expected)
            else compile_condition(expected, groups)
        )
        return lambda actual: (
            isinstance(actual, list) and any(js_truthy(item) and check(item) for item in actual)
        )
    if op == "$regex":
        return _regex(expected, 0)
    if op == "$regexi":
        return _regex(expected, re.IGNORECASE)
    if op == "$type":
        return lambda actual: js_type(actual) == expected
    return lambda actual: False


def compile_value(condition: Any, groups: SavedGroups) -> Predicate:  # noqa: PLR0911 - one per condition kind
    """A predicate on one attribute value (the JS SDK's `evalConditionValue`)."""
    if isinstance(condition, str):
        return lambda value: (value if type(value) is str else js_string(value)) == condition
    if isinstance(condition, bool):
        return lambda value: value is not None and js_truthy(value) is condition
    if isinstance(condition, int | float):
        return lambda value: js_number(value) == condition
    if condition is None:
        return lambda value: value is None
    if isinstance(condition, list) or not is_operator_object(condition):
        expected = js_stringify(condition)
        return lambda value: js_stringify(value) == expected
    checks = [_operator(op, expected, groups) for op, expected in condition.items()]
    if len(checks) == 1:
        return checks[0]
    return _all_of(checks)


def compile_condition(condition: Any, groups: SavedGroups | None = None) -> Predicate:
    """A predicate on an attributes object (the JS SDK's `evalCondition`); {} always passes."""
    groups = groups or {}
    if not isinstance(condition, dict):
        return lambda obj: False
    checks = [_entry(key, value, groups) for key, value in condition.items()]
    if not checks:
        return lambda obj: True
    if len(checks) == 1:
        return checks[0]
    return _all_of(checks)


def _any_of(parts: list[Predicate]) -> Predicate:
    # An empty $or passes, as in the JS SDK.
    if not parts:
        return lambda obj: True
    if len(parts) == 2:
        first, second = parts
        return lambda obj: first(obj) or second(obj)
    return lambda obj: any(part(obj) for part in parts)


def _entry(key: str, value: Any, groups: SavedGroups) -> Predicate:  # noqa: PLR0911 - one per entry kind
    """One top-level entry of a condition: a logical operator or an attribute path."""
    if key in ("$or", "$nor", "$and"):
        if not isinstance(value, list):
            return lambda obj: False
        parts = [compile_condition(item, groups) for item in value]
        if key == "$and":
            return lambda obj: all(part(obj) for part in parts)
        any_of = _any_of(parts)
        if key == "$or":
            return any_of
        return lambda obj: not any_of(obj)
    if key == "$not":
        inner = compile_condition(value, groups)
        return lambda obj: not inner(obj)
    predicate = compile_value(value, groups)
    if "." in key:
        return lambda obj: predicate(get_path(obj, key))
    if type(value) is str:
        # The commonest targeting rule, `{"plan": "pro"}`, in one call.
        def equals(obj: Any) -> bool:
            actual = obj.get(key) if type(obj) is dict else get_path(obj, key)
            return (actual if type(actual) is str else js_string(actual)) == value

        return equals
    return lambda obj: predicate(obj.get(key) if type(obj) is dict else get_path(obj, key))


def _all_of(checks: list[Predicate]) -> Predicate:
    # Unrolled for the common two-check case: a generator inside all() costs more than the checks.
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)

    def every(value: Any) -> bool:
        for check in checks:  # noqa: SIM110 - a plain loop beats all() over a generator here
            if not check(value):
                return False
        return True

    return every
