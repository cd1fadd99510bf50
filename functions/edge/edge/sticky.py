"""Sticky bucketing at the edge: GrowthBook sticky-bucket documents kept in one bounded cookie.

The cookie value is base64url (unpadded) of a compact JSON array of the SDK's own documents,
`[{"attributeName": "id", "attributeValue": "u1", "assignments": {"exp__0": "1"}}, ...]`, so any
SDK's sticky-bucket service can read what the edge wrote. The edge holds no secret to sign it with,
so every assignment read back is validated instead (docs/decisions/0031-sticky-bucket-cookie-validated-not-signed.md):

- a document counts only for the visitor it names: its `attributeName` is an identifier attribute of
  the payload and `attributeValue` is the visitor's current value of it;
- an assignment for an experiment's current `bucketVersion` counts only if the engine itself gives
  that variation to that identity: the identity's hash falls in the variation's range at full
  coverage under the current weights (so coverage and targeting may change, a variation cannot be
  chosen);
- assignments no experiment uses now are kept as they are: an earlier bucket version can only
  exclude the visitor (`minBucketVersion`), which a client can get anyway by deleting the cookie,
  and a later version or an experiment absent from this payload is validated once it counts;
- malformed entries and documents are dropped, and the whole cookie is ignored past its byte bound.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from edge.conditions import js_string
from edge.flags import FlagEngine, hashable
from edge.gbmath import gb_hash, get_bucket_ranges
from saascontracts.b64 import Base64Error, b64url_decode, b64url_encode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from edge.flagmodel import Experiment

    StickyDocs = dict[str, dict[str, Any]]

_ENTRY = re.compile(r"(.+)__(0|[1-9][0-9]{0,8})")
# A document is at most this many assignments; the byte bound below is the real limit.
MAX_ASSIGNMENTS = 64


def doc_key(name: str, value: str) -> str:
    return f"{name}||{value}"


class StickyBuckets:
    """Reads, validates and writes the sticky-bucket cookie for one compiled payload."""

    def __init__(self, engine: FlagEngine, *, max_cookie_bytes: int) -> None:
        self.engine = engine
        self.max_cookie_bytes = max_cookie_bytes
        experiments: dict[str, list[Experiment]] = {}
        names: dict[str, None] = {}
        for feature in engine.features.values():
            for rule in feature.rules:
                experiment = rule.experiment
                if experiment is None:
                    continue
                names[experiment.hash_attribute] = None
                if experiment.fallback_attribute:
                    names[experiment.fallback_attribute] = None
                if not experiment.disable_sticky:
                    experiments.setdefault(experiment.key, []).append(experiment)
        self._experiments = experiments
        # The SDK's derived `sticky_bucket_identifier_attributes`.
        self.identifier_attributes = tuple(names)
        self._references: dict[str, frozenset[str]] = {}

    # --- which features a request without some attributes may persist -------------------------------

    def features_without(self, absent: frozenset[str]) -> tuple[str, ...]:
        """The features whose rules (and prerequisites) reference none of these attributes: the ones a
        trigger that cannot see them may still persist assignments for (decision record 0032)."""
        if not absent:
            return tuple(self.engine.features)
        return tuple(
            key
            for key in self.engine.features
            if not (references := self._referenced(key, frozenset())) & absent and "*" not in references
        )

    def _referenced(self, key: str, stack: frozenset[str]) -> frozenset[str]:
        """Attributes a feature's conditions read, prerequisites included; {"*"} when not knowable."""
        cached = self._references.get(key)
        if cached is not None:
            return cached
        names: set[str] = set()
        definition = self.engine.definitions.get(key)
        rules = definition.get("rules") if isinstance(definition, dict) else None
        for rule in rules if isinstance(rules, list) else ():
            if not isinstance(rule, dict):
                continue
            names |= _condition_attributes(rule.get("condition"))
            if "contextualBanditRef" in rule:
                names.add("*")  # leaf conditions choose the weights
            parents = rule.get("parentConditions")
            for parent in parents if isinstance(parents, list) else ():
                parent_id = parent.get("id") if isinstance(parent, dict) else None
                if not isinstance(parent_id, str) or parent_id in stack:
                    names.add("*")
                    continue
                names |= self._referenced(parent_id, stack | {key})
        result = frozenset(names)
        self._references[key] = result
        return result

    # --- reading ------------------------------------------------------------------------------------

    def decode(self, cookie: str | None) -> list[Any]:
        """The documents in a cookie value; [] when absent, oversized or malformed."""
        if not cookie or len(cookie) > self.max_cookie_bytes:
            return []
        try:
            docs = json.loads(b64url_decode(cookie))
        # Deeply nested JSON exhausts the parser's recursion limit: as malformed as any other.
        except (Base64Error, ValueError, RecursionError):
            return []
        return docs if isinstance(docs, list) else []

    def load(self, cookie: str | None, attributes: Mapping[str, Any]) -> StickyDocs:
        """The visitor's validated documents from a cookie value, by `attributeName||attributeValue`."""
        return self.select(self.decode(cookie), attributes)

    def select(self, docs: list[Any], attributes: Mapping[str, Any], *, validate: bool = True) -> StickyDocs:
        """The documents that belong to this visitor (the SDK's `get_all_assignments` for the derived
        identifier attributes), each assignment validated unless the store is trusted (`validate=False`,
        as for the SDK's own services)."""
        selected: StickyDocs = {}
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            name, value, assignments = (
                doc.get("attributeName"),
                doc.get("attributeValue"),
                doc.get("assignments"),
            )
            if (
                name not in self.identifier_attributes
                or not isinstance(value, str)
                or not isinstance(assignments, dict)
                or len(assignments) > MAX_ASSIGNMENTS
            ):
                continue
            current = attributes.get(name)
            if not hashable(current) or js_string(current) != value:
                continue
            kept = {
                entry: variation
                for entry, variation in assignments.items()
                if isinstance(variation, str) and (not validate or self._valid(entry, variation, value))
            }
            if kept or not validate:
                selected[doc_key(name, value)] = {
                    "attributeName": name,
                    "attributeValue": value,
                    "assignments": kept,
                }
        return selected

    def _valid(self, entry: str, variation: str, hash_value: str) -> bool:
        """Well-formed, and for every experiment that would use it now (same key, its current bucket
        version) the variation the engine gives this identity. Entries no experiment uses now (earlier
        or later bucket versions, experiments not in this payload) are inert and kept as they are: an
        earlier version can only exclude the visitor, and the others are validated once they count."""
        match = _ENTRY.fullmatch(entry)
        if match is None:
            return False
        key, version = match.group(1), int(match.group(2))
        return all(
            _engine_gives(experiment, hash_value, variation)
            for experiment in self._experiments.get(key, ())
            if experiment.bucket_version == version
        )

    def _inert(self, entry: str) -> bool:
        match = _ENTRY.fullmatch(entry)
        return match is None or match.group(1) not in self._experiments

    # --- writing ------------------------------------------------------------------------------------

    def encode(self, docs: list[dict[str, Any]]) -> str | None:
        """The cookie value for these documents, or None when there are none or they exceed the bound."""
        if not docs:
            return None
        text = b64url_encode(json.dumps(docs, separators=(",", ":"), sort_keys=True).encode())
        return text if len(text) <= self.max_cookie_bytes else None

    def updated_cookie(
        self, cookie: str | None, attributes: Mapping[str, Any], keys: tuple[str, ...] | None = None
    ) -> str | None:
        """The new cookie value after evaluating the features (all, or `keys`) for this visitor, or None
        when the cookie needs no change. Documents of the browser's other identities (a user who signed
        out, the anonymous id) are kept after the visitor's own, and dropped first when over the bound;
        if the visitor's own documents alone exceed it, nothing new is stored."""
        stored = self.decode(cookie)
        docs = self.select(stored, attributes)
        self.engine.evaluate(attributes, keys, sticky_docs=docs)
        own = [docs[key] for key in sorted(docs)]
        others = [doc for doc in stored if self._other_identity(doc, attributes)]
        value = self.encode(own + others)
        while value is None and others:
            others.pop()
            value = self.encode(own + others)
        if value is None:
            # Over the bound with the visitor's documents alone: drop entries of experiments that are
            # not in this payload before giving up.
            own = [
                {**doc, "assignments": {k: v for k, v in doc["assignments"].items() if not self._inert(k)}}
                for doc in own
            ]
            value = self.encode(own)
        if value is None or value == cookie:
            return None
        return value

    def _other_identity(self, doc: Any, attributes: Mapping[str, Any]) -> bool:
        """A well-formed document this payload does not read for this visitor (another identity of the
        browser, or an attribute no experiment hashes on now): kept as it is, validated when it counts."""
        if not isinstance(doc, dict) or set(doc) != {"attributeName", "attributeValue", "assignments"}:
            return False
        name, value, assignments = doc["attributeName"], doc["attributeValue"], doc["assignments"]
        if not isinstance(name, str) or not isinstance(value, str) or not isinstance(assignments, dict):
            return False
        if name not in self.identifier_attributes:
            return True
        current = attributes.get(name)
        return not (hashable(current) and js_string(current) == value)


def _condition_attributes(condition: Any) -> set[str]:
    """Top-level attribute names a condition reads; {"*"} for a shape that cannot be read statically."""
    if condition is None or condition == {}:
        return set()
    if not isinstance(condition, dict):
        return {"*"}
    names: set[str] = set()
    for key, value in condition.items():
        if key in ("$and", "$or", "$nor"):
            for item in value if isinstance(value, list) else [None]:
                names |= _condition_attributes(item) if isinstance(item, dict) else {"*"}
        elif key == "$not":
            names |= _condition_attributes(value) if isinstance(value, dict) else {"*"}
        elif key.startswith("$"):
            names.add("*")
        else:
            names.add(key.split(".", 1)[0])
    return names


def _engine_gives(experiment: Experiment, hash_value: str, variation: str) -> bool:
    """Whether hashing gives `variation` to this identity at full coverage under the current weights."""
    index = next(
        (
            position
            for position, meta in enumerate(experiment.meta)
            if isinstance(meta, dict) and meta.get("key") == variation
        ),
        -1,
    )
    if index < 0 or index >= len(experiment.variations):
        return False
    n = gb_hash(experiment.seed, hash_value, experiment.hash_version)
    if n is None:
        return False
    explicit = experiment.definition.get("ranges")
    ranges = (
        experiment.ranges
        if isinstance(explicit, list) and explicit
        else get_bucket_ranges(len(experiment.variations), 1, experiment.weights)
    )
    start, end = ranges[index]
    return bool(start <= n < end)
