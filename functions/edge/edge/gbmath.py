"""GrowthBook's hashing and bucketing arithmetic, scalar and exactly as the JS SDK computes it.

The reference for `edge.buckets` (which computes many hashes at once) and for the cross-SDK suite's
`hash`, `getBucketRange`, `chooseVariation`, `inNamespace`, `getEqualWeights` and
`getQueryStringOverride` sections.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_MASK = 0xFFFFFFFF


def fnv1a32(text: str, state: int = _FNV_OFFSET) -> int:
    """FNV-1a over UTF-16 code units, as the JS SDK's `charCodeAt` loop."""
    units: Iterable[int] = (
        text.encode("ascii") if text.isascii() else memoryview(text.encode("utf-16-le")).cast("H")
    )
    for unit in units:
        state = ((state ^ unit) * _FNV_PRIME) & _MASK
    return state


def gb_hash(seed: str, value: str, version: int) -> float | None:
    if version == 2:
        return fnv1a32(str(fnv1a32(seed + value))) % 10000 / 10000
    if version == 1:
        return fnv1a32(value + seed) % 1000 / 1000
    return None


def get_equal_weights(count: int) -> list[float]:
    return [1 / count] * count if count > 0 else []


def get_bucket_ranges(
    count: int, coverage: float = 1, weights: list[float] | None = None
) -> list[tuple[float, float]]:
    coverage = min(max(coverage, 0), 1)
    equal = get_equal_weights(count)
    chosen = weights if weights is not None and len(weights) == count else equal
    if not 0.99 <= sum(chosen) <= 1.01:
        chosen = equal
    ranges = []
    cumulative = 0.0
    for weight in chosen:
        start = cumulative
        cumulative += weight
        ranges.append((start, start + coverage * weight))
    return ranges


def choose_variation(n: float, ranges: Iterable[tuple[float, float]]) -> int:
    for index, (start, end) in enumerate(ranges):
        if start <= n < end:
            return index
    return -1


def in_namespace(hash_value: str, namespace: tuple[str, float, float]) -> bool:
    n = gb_hash("__" + namespace[0], hash_value, 1)
    return n is not None and namespace[1] <= n < namespace[2]


def get_query_string_override(key: str, url: str | None, count: int) -> int | None:
    if not url or "?" not in url:
        return None
    search = url.split("?")[1].split("#")[0]
    for pair in search.split("&"):
        name, _, value = pair.partition("=")
        if name != key:
            continue
        digits = value.strip()
        sign = -1 if digits.startswith("-") else 1
        digits = digits.lstrip("+-")
        end = 0
        while end < len(digits) and digits[end].isdigit():
            end += 1
        if end == 0:
            return None
        forced = sign * int(digits[:end])
        return forced if 0 <= forced < count else None
    return None
