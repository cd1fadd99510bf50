"""The compiled form of a GrowthBook payload (features, rules, experiments) and the SDK's result types.

Built once per payload by `edge.flags.FlagEngine`; conditions are compiled closures, bucket ranges and
seeds are precomputed, and FlagEngine assigns each hash a lane slot (`edge.buckets`) for its hot path.
"""

from __future__ import annotations

from collections.abc import Mapping

from edge.conditions import compile_condition, js_string, js_truthy
from edge.gbmath import get_bucket_ranges
from saascontracts.records import factory, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from edge.conditions import Predicate

    StickyDoc = dict[str, Any]
    Kernel = Callable[[Mapping[str, Any], dict[str, list[float | None]]], tuple[Any, tuple[str, str] | None]]

MISSING: Any = object()


@record
class EvalContext:
    """What one evaluation sees: attributes plus the SDK context options the suite exercises."""

    attributes: Mapping[str, Any]
    forced_variations: Mapping[str, int] = factory(default_factory=dict)
    qa_mode: bool = False
    enabled: bool = True
    url: str | None = None
    contextual_bandits: Mapping[str, Any] | None = None
    # Sticky-bucket documents by "attributeName||attributeValue"; None means no sticky-bucket service
    # (the SDK's default). Updated in place as the SDK updates its documents.
    sticky_docs: dict[str, StickyDoc] | None = None
    # Bucket hashes per hash value (edge.buckets lanes), shared by every experiment of one evaluation.
    memo: dict[str, list[float | None]] = factory(default_factory=dict)


class ExperimentResult:
    """One experiment assignment (the SDK's `ExperimentResult`); built per evaluation, so a plain class."""

    __slots__ = (
        "bandit",
        "bucket",
        "feature_id",
        "hash_attribute",
        "hash_used",
        "hash_value",
        "in_experiment",
        "key",
        "name",
        "passthrough",
        "sticky_bucket_used",
        "value",
        "variation_id",
    )

    def __init__(
        self,
        *,
        key: str,
        feature_id: str | None,
        in_experiment: bool,
        hash_used: bool,
        variation_id: int,
        value: Any,
        hash_attribute: str,
        hash_value: Any,
        bucket: float | None = None,
        name: str | None = None,
        passthrough: bool = False,
        bandit: Mapping[str, Any] | None = None,
        sticky_bucket_used: bool = False,
    ) -> None:
        self.key = key
        self.feature_id = feature_id
        self.in_experiment = in_experiment
        self.hash_used = hash_used
        self.variation_id = variation_id
        self.value = value
        self.hash_attribute = hash_attribute
        self.hash_value = hash_value
        self.bucket = bucket
        self.name = name
        self.passthrough = passthrough
        self.bandit = bandit
        self.sticky_bucket_used = sticky_bucket_used

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "key": self.key,
            "featureId": self.feature_id,
            "inExperiment": self.in_experiment,
            "hashUsed": self.hash_used,
            "variationId": self.variation_id,
            "value": self.value,
            "hashAttribute": self.hash_attribute,
            "hashValue": self.hash_value,
            "stickyBucketUsed": self.sticky_bucket_used,
        }
        if self.name:
            result["name"] = self.name
        if self.bucket is not None:
            result["bucket"] = self.bucket
        if self.passthrough:
            result["passthrough"] = True
        if self.bandit is not None:
            result.update(self.bandit)
        return result


class FeatureResult:
    """One feature's value and why (the SDK's `FeatureResult`)."""

    __slots__ = ("experiment", "experiment_result", "rule_id", "source", "value")

    def __init__(
        self,
        value: Any,
        source: str,
        rule_id: str = "",
        experiment: Mapping[str, Any] | None = None,
        experiment_result: ExperimentResult | None = None,
    ) -> None:
        self.value = value
        self.source = source
        self.rule_id = rule_id
        self.experiment = experiment
        self.experiment_result = experiment_result

    @property
    def on(self) -> bool:
        return js_truthy(self.value)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "value": self.value,
            "on": self.on,
            "off": not self.on,
            "source": self.source,
            "ruleId": self.rule_id,
        }
        if self.experiment is not None:
            result["experiment"] = dict(self.experiment)
        if self.experiment_result is not None:
            result["experimentResult"] = self.experiment_result.to_dict()
        return result


def _number(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _ranges(value: Any) -> list[tuple[float, float]] | None:
    if not isinstance(value, list):
        return None
    return [(float(item[0]), float(item[1])) for item in value]


@record
class Filter:
    attribute: str
    seed: str
    hash_version: int
    ranges: tuple[tuple[float, float], ...]


@record
class Parent:
    feature_id: str
    condition: Predicate
    gate: bool


def _filters(value: Any) -> tuple[Filter, ...] | None:
    if not isinstance(value, list):
        return None
    return tuple(
        Filter(
            attribute=item.get("attribute") or "id",
            seed=js_string(item.get("seed", "")),
            hash_version=int(_number(item.get("hashVersion"), 2)) or 2,
            ranges=tuple(_ranges(item.get("ranges")) or ()),
        )
        for item in value
    )


def _parents(value: Any, groups: Mapping[str, Any]) -> tuple[Parent, ...] | None:
    if not isinstance(value, list):
        return None
    return tuple(
        Parent(item["id"], compile_condition(item.get("condition") or {}, groups), bool(item.get("gate")))
        for item in value
    )


# Rule keys the JS SDK copies from a feature's experiment rule into the experiment it runs.
TRUTHY_COPIED = (
    "weights",
    "hashAttribute",
    "fallbackAttribute",
    "disableStickyBucketing",
    "namespace",
    "meta",
    "ranges",
    "name",
    "phase",
    "seed",
    "hashVersion",
    "filters",
    "condition",
)


def _variation_key(meta: list[Any], index: int) -> tuple[str, bool]:
    item = meta[index] if index < len(meta) else None
    item = item if isinstance(item, Mapping) else {}
    return js_string(item.get("key") or index), bool(item.get("passthrough"))


class Experiment:
    """An experiment compiled from a `run` definition or a feature's experiment rule."""

    __slots__ = (
        "active",
        "bandit_ref",
        "bucket_version",
        "condition",
        "coverage",
        "definition",
        "disable_sticky",
        "fallback_attribute",
        "filter_slots",
        "filters",
        "force",
        "hash_attribute",
        "hash_version",
        "key",
        "meta",
        "min_bucket_version",
        "namespace",
        "ns_slot",
        "parents",
        "ranges",
        "seed",
        "slot",
        "stopped",
        "variation_keys",
        "variations",
        "weights",
    )

    def __init__(
        self, definition: Mapping[str, Any], groups: Mapping[str, Any], bandit_ref: str | None = None
    ) -> None:
        self.definition = definition
        self.key: str = js_string(definition.get("key", ""))
        variations = definition.get("variations")
        self.bandit_ref = bandit_ref
        self.variations: list[Any] = list(variations) if isinstance(variations, list) else []
        self.weights: list[float] | None = definition.get("weights")
        self.coverage = _number(definition.get("coverage"), 1.0) if "coverage" in definition else None
        explicit = _ranges(definition.get("ranges"))
        self.ranges = explicit or get_bucket_ranges(
            len(self.variations), 1 if self.coverage is None else self.coverage, self.weights
        )
        self.seed: str = js_string(definition.get("seed") or self.key)
        self.hash_attribute: str = definition.get("hashAttribute") or "id"
        self.fallback_attribute: str | None = definition.get("fallbackAttribute") or None
        self.hash_version = int(_number(definition.get("hashVersion"), 1)) or 1
        namespace = definition.get("namespace")
        self.namespace = (
            (js_string(namespace[0]), float(namespace[1]), float(namespace[2]))
            if isinstance(namespace, list) and len(namespace) == 3
            else None
        )
        self.filters = _filters(definition.get("filters"))
        condition = definition.get("condition")
        self.condition = compile_condition(condition, groups) if condition else None
        self.parents = _parents(definition.get("parentConditions"), groups)
        self.active = definition.get("active", True) is not False and definition.get("status") != "draft"
        self.force: Any = definition.get("force", MISSING)
        meta = definition.get("meta")
        self.meta: list[Any] = meta if isinstance(meta, list) else []
        self.stopped = definition.get("status") == "stopped"
        self.disable_sticky = bool(definition.get("disableStickyBucketing"))
        self.bucket_version = int(_number(definition.get("bucketVersion"), 0))
        self.min_bucket_version = int(_number(definition.get("minBucketVersion"), 0))
        # (variation key, passthrough) per variation, as the result objects would report them.
        self.variation_keys = [_variation_key(self.meta, index) for index in range(len(self.variations))]
        # Bucket slots, assigned by FlagEngine for its hot path.
        self.slot: int | None = None
        self.ns_slot: int | None = None
        self.filter_slots: tuple[int | None, ...] = ()


class Rule:
    __slots__ = (
        "condition",
        "coverage",
        "experiment",
        "fallback_attribute",
        "filter_slots",
        "filters",
        "force",
        "hash_attribute",
        "hash_version",
        "id",
        "parents",
        "range",
        "seed",
        "slot",
    )

    def __init__(self, feature_id: str, rule: Mapping[str, Any], groups: Mapping[str, Any]) -> None:
        self.id: str = js_string(rule.get("id") or "")
        self.parents = _parents(rule.get("parentConditions"), groups)
        self.filters = _filters(rule.get("filters"))
        self.force: Any = rule.get("force", MISSING) if "force" in rule else MISSING
        condition = rule.get("condition")
        self.condition = compile_condition(condition, groups) if condition else None
        self.seed = js_string(rule.get("seed") or feature_id)
        self.hash_attribute: str = rule.get("hashAttribute") or "id"
        self.fallback_attribute: str | None = rule.get("fallbackAttribute") or None
        self.range = tuple(rule["range"]) if isinstance(rule.get("range"), list) else None
        self.coverage = _number(rule.get("coverage"), 1.0) if "coverage" in rule else None
        self.hash_version = int(_number(rule.get("hashVersion"), 1)) or 1
        self.experiment: Experiment | None = None
        self.slot: int | None = None
        self.filter_slots: tuple[int | None, ...] = ()
        if self.force is MISSING and ("variations" in rule or "contextualBanditRef" in rule):
            definition: dict[str, Any] = {"key": rule.get("key") or feature_id}
            bandit_ref = None
            if "variations" in rule:
                definition["variations"] = rule["variations"]
            else:
                bandit_ref = js_string(rule["contextualBanditRef"])
                definition["variations"] = rule.get("contextualVariations")
            if "coverage" in rule:
                definition["coverage"] = rule["coverage"]
            for name in TRUTHY_COPIED:
                if rule.get(name):
                    definition[name] = rule[name]
            for name in ("bucketVersion", "minBucketVersion"):
                if name in rule:
                    definition[name] = rule[name]
            self.experiment = Experiment(definition, groups, bandit_ref)


class Feature:
    __slots__ = ("default", "fast", "kernel", "key", "rules", "sticky")

    def __init__(self, key: str, definition: Mapping[str, Any], groups: Mapping[str, Any]) -> None:
        self.key = key
        self.default = definition.get("defaultValue")
        rules = definition.get("rules") or []
        self.rules = tuple(Rule(key, rule, groups) for rule in rules if isinstance(rule, Mapping))
        self.fast = False
        self.kernel: Kernel | None = None
        # Whether a sticky-bucket service changes this feature's evaluation (an experiment rule that
        # does not disable sticky bucketing).
        self.sticky = any(
            rule.experiment is not None and not rule.experiment.disable_sticky for rule in self.rules
        )
