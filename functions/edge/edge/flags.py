"""GrowthBook-compatible feature flags and experiments, compiled once per payload, standard library only.

`FlagEngine(payload)` compiles a GrowthBook SDK payload (`{"features": ..., "savedGroups": ...}`):
conditions become closures, bucket ranges and hash seeds are precomputed. `eval_feature` and `run`
follow the SDK (Python 4.0 and the JS reference of the cross-SDK suite in tests/unit/edge/conformance)
for force, rollout and experiment rules, conditions, saved groups, prerequisites, namespaces, filters,
hash versions 1 and 2, ranges, passthrough/holdouts, forced variations, QA mode, contextual-bandit
fallbacks and sticky bucketing (`EvalContext.sticky_docs`; `edge.sticky` keeps the documents in a
cookie). As in the SDKs, an experiment's `fallbackAttribute` is used only with sticky bucketing.
Not supported: encrypted payloads, URL redirects. docs/flags.md lists every divergence from SDK 4.0.

`evaluate(attributes)` is the edge's hot path: every feature's value plus the experiments the visitor
was bucketed into, without building the SDK's result objects.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from edge.buckets import Bucketer
from edge.conditions import compile_condition, js_string
from edge.flagmodel import (
    MISSING,
    EvalContext,
    Experiment,
    ExperimentResult,
    Feature,
    FeatureResult,
    Filter,
    Parent,
)
from edge.gbmath import (
    choose_variation,
    fnv1a32,
    gb_hash,
    get_bucket_ranges,
    get_equal_weights,
    get_query_string_override,
    in_namespace,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from edge.flagmodel import Kernel, Rule

__all__ = [
    "EvalContext",
    "Evaluation",
    "ExperimentResult",
    "FeatureResult",
    "FlagEngine",
    "choose_variation",
    "fnv1a32",
    "gb_hash",
    "get_bucket_ranges",
    "get_equal_weights",
    "get_query_string_override",
    "hashable",
    "in_namespace",
]


def hashable(value: Any) -> bool:
    """Whether an attribute value can identify a visitor (the SDKs' `isHashable`): a non-empty string
    or a finite non-zero number; booleans, null, lists and objects never do."""
    if type(value) is str:
        return value != ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        number = float(value)
    except OverflowError:  # an integer past the double range is Infinity in JS
        return False
    return number != 0 and math.isfinite(number)


def sticky_key(experiment_key: str, bucket_version: int) -> str:
    """The key of one assignment inside a sticky-bucket document."""
    return f"{experiment_key}__{bucket_version}"


class Evaluation:
    """The hot-path result: each feature's value and the experiments the visitor is bucketed into."""

    __slots__ = ("experiments", "flags")

    def __init__(self, flags: dict[str, Any], experiments: tuple[tuple[str, str], ...]) -> None:
        self.flags = flags
        self.experiments = experiments


class FlagEngine:
    """A compiled payload; immutable, so one instance serves every request until the payload changes."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        features = payload.get("features") or {}
        groups = payload.get("savedGroups") or {}
        if not isinstance(features, Mapping) or not isinstance(groups, Mapping):
            raise ValueError("payload features and savedGroups must be objects")
        self.groups: Mapping[str, Any] = groups
        self.definitions: Mapping[str, Any] = features
        self.contextual_bandits: Mapping[str, Any] = payload.get("contextualBandits") or {}
        self.features = {key: Feature(key, value, groups) for key, value in features.items()}
        self._bucketer = Bucketer()
        for feature in self.features.values():
            self._assign_slots(feature)
        # When every feature has a kernel, evaluate() is one tight loop over them.
        # Whether any experiment can use sticky buckets: without one, sticky documents change nothing.
        self.sticky = any(feature.sticky for feature in self.features.values())
        kernels = [(key, feature.kernel) for key, feature in self.features.items()]
        self._all_kernels: tuple[tuple[str, Kernel], ...] | None = (
            tuple((key, kernel) for key, kernel in kernels if kernel is not None)
            if all(kernel is not None for _, kernel in kernels)
            else None
        )

    def _assign_slots(self, feature: Feature) -> None:
        """Register every hash the feature may need; features without prerequisites, forced or
        contextual-bandit experiments take the hot path (`_fast`), the rest the SDK path."""
        slot = self._bucketer.slot
        feature.fast = True
        for rule in feature.rules:
            if rule.force is not MISSING and (rule.range is not None or rule.coverage is not None):
                rule.slot = slot(rule.seed, rule.hash_version)
            rule.filter_slots = tuple(slot(item.seed, item.hash_version) for item in rule.filters or ())
            if rule.parents is not None:
                feature.fast = False
            experiment = rule.experiment
            if experiment is None:
                continue
            experiment.slot = slot(experiment.seed, experiment.hash_version)
            if experiment.namespace is not None:
                experiment.ns_slot = slot("__" + experiment.namespace[0], 1)
            experiment.filter_slots = tuple(
                slot(item.seed, item.hash_version) for item in experiment.filters or ()
            )
            if (
                experiment.bandit_ref is not None
                or experiment.parents is not None
                or experiment.force is not MISSING
            ):
                feature.fast = False
        if feature.fast:
            feature.kernel = self._kernel(feature)

    def _kernel(self, feature: Feature) -> Kernel:
        """The hot-path evaluator of one feature: a tight loop when every rule is a plain (conditional)
        force, else the general `_fast`."""
        plain = all(
            rule.force is not MISSING
            and rule.filters is None
            and rule.range is None
            and rule.coverage is None
            for rule in feature.rules
        )
        if not plain:
            single = self._single_rule_kernel(feature)
            if single is not None:
                return single
            fast = self._fast
            return lambda attributes, memo: fast(feature, attributes, memo)
        rules = tuple((rule.condition, rule.force) for rule in feature.rules)
        default = (feature.default, None)
        if len(rules) == 1 and rules[0][0] is not None:
            only, forced = rules[0][0], (rules[0][1], None)
            return lambda attributes, memo: forced if only(attributes) else default

        def kernel(attributes: Mapping[str, Any], memo: dict[str, list[float | None]]) -> tuple[Any, None]:
            for condition, force in rules:
                if condition is None or condition(attributes):
                    return force, None
            return default

        return kernel

    # --- the SDK's functions ------------------------------------------------------------------------

    def eval_feature(  # noqa: PLR0911, PLR0912 - the SDK's rule loop, step by step
        self, key: str, ctx: EvalContext, stack: frozenset[str] = frozenset()
    ) -> FeatureResult:
        if key in stack:
            return FeatureResult(None, "cyclicPrerequisite")
        feature = self.features.get(key)
        if feature is None:
            return FeatureResult(None, "unknownFeature")
        attributes = ctx.attributes
        for rule in feature.rules:
            if rule.parents is not None:
                blocked = self._parents_block(rule.parents, ctx, stack | {key})
                if blocked == "cyclic":
                    return FeatureResult(None, "cyclicPrerequisite")
                if blocked == "gate":
                    return FeatureResult(None, "prerequisite")
                if blocked:
                    continue
            if rule.filters is not None and self._filtered_out(rule.filters, attributes):
                continue
            if rule.force is not MISSING:
                if rule.condition is not None and not rule.condition(attributes):
                    continue
                if not self._in_rollout(rule, attributes):
                    continue
                return FeatureResult(rule.force, "force", rule.id)
            experiment = rule.experiment
            if experiment is None:
                continue
            result, definition = self._run(experiment, ctx, key, stack | {key})
            if result.in_experiment and not result.passthrough:
                return FeatureResult(result.value, "experiment", rule.id, definition, result)
        return FeatureResult(feature.default, "defaultValue")

    def run(self, definition: Mapping[str, Any], ctx: EvalContext) -> ExperimentResult:
        return self._run(Experiment(definition, self.groups), ctx, None, frozenset())[0]

    # --- the edge's hot path ------------------------------------------------------------------------

    def evaluate(
        self,
        attributes: Mapping[str, Any],
        keys: Iterable[str] | None = None,
        sticky_docs: dict[str, dict[str, Any]] | None = None,
    ) -> Evaluation:
        """Every feature's value (or those in `keys`) and the experiments the visitor is bucketed into;
        the same values as `eval_feature` (a test and the benchmark check), without its result objects.
        With `sticky_docs` (sticky bucketing on), features with sticky experiments take the SDK path and
        the documents are updated in place."""
        flags: dict[str, Any] = {}
        experiments: list[tuple[str, str]] = []
        memo: dict[str, list[float | None]] = {}
        ctx: EvalContext | None = None
        features = self.features
        items = features.items() if keys is None else ((key, features.get(key)) for key in keys)
        sticky = sticky_docs is not None and self.sticky
        if keys is None and self._all_kernels is not None and not sticky:
            for key, kernel in self._all_kernels:
                flags[key], assignment = kernel(attributes, memo)
                if assignment is not None:
                    experiments.append(assignment)
            return Evaluation(flags, tuple(experiments))
        for key, feature in items:
            if feature is not None and feature.kernel is not None and not (sticky and feature.sticky):
                value, assignment = feature.kernel(attributes, memo)
                flags[key] = value
                if assignment is not None:
                    experiments.append(assignment)
                continue
            ctx = ctx or EvalContext(attributes, sticky_docs=sticky_docs, memo=memo)
            result = self.eval_feature(key, ctx)
            flags[key] = result.value
            exp = result.experiment_result
            if exp is not None and exp.in_experiment and result.experiment is not None:
                experiments.append((result.experiment["key"], exp.key))
        return Evaluation(flags, tuple(experiments))

    def _single_rule_kernel(self, feature: Feature) -> Kernel | None:
        """Specialised kernels for the two commonest hashed shapes: one rollout rule, one experiment rule."""
        if len(feature.rules) != 1 or feature.rules[0].filters is not None:
            return None
        rule = feature.rules[0]
        default: tuple[Any, None] = (feature.default, None)
        compute = self._bucketer.compute
        hash_text = self._hash_text
        condition = rule.condition
        if rule.force is not MISSING:
            slot, coverage = rule.slot, rule.coverage
            if rule.range is not None or coverage is None or coverage == 0 or slot is None:
                return None
            forced = (rule.force, None)
            name, fallback = rule.hash_attribute, rule.fallback_attribute

            def rollout(
                attributes: Mapping[str, Any], memo: dict[str, list[float | None]]
            ) -> tuple[Any, None]:
                if condition is not None and not condition(attributes):
                    return default
                text = attributes.get(name)
                if type(text) is not str or not text:
                    text = hash_text(attributes, name, fallback)
                    if text is None:
                        return default
                buckets = memo.get(text)
                if buckets is None:
                    buckets = memo[text] = compute(text)
                n = buckets[slot]
                return forced if n is not None and n <= coverage else default

            return rollout
        experiment = rule.experiment
        if (
            experiment is None
            or experiment.filters is not None
            or experiment.slot is None
            or experiment.stopped
            or not experiment.active
            or len(experiment.variations) < 2
        ):
            return None
        exp_slot, ns_slot, namespace = experiment.slot, experiment.ns_slot, experiment.namespace
        if namespace is not None and ns_slot is None:
            return None
        exp_condition = experiment.condition
        # The hot path runs without sticky bucketing, where the SDKs ignore an experiment's fallback.
        name, fallback = experiment.hash_attribute, None
        outcomes = [
            (start, end, None if passthrough else (value, (experiment.key, key)))
            for (start, end), value, (key, passthrough) in zip(
                experiment.ranges, experiment.variations, experiment.variation_keys, strict=False
            )
        ]

        def run(
            attributes: Mapping[str, Any], memo: dict[str, list[float | None]]
        ) -> tuple[Any, tuple[str, str] | None]:
            text = attributes.get(name)
            if type(text) is not str or not text:
                text = hash_text(attributes, name, fallback)
                if text is None:
                    return default
            buckets = memo.get(text)
            if buckets is None:
                buckets = memo[text] = compute(text)
            if namespace is not None:
                n = buckets[ns_slot]  # type: ignore[index]
                if n is None or not namespace[1] <= n < namespace[2]:
                    return default
            if exp_condition is not None and not exp_condition(attributes):
                return default
            n = buckets[exp_slot]
            if n is None:
                return default
            for start, end, outcome in outcomes:
                if start <= n < end:
                    return default if outcome is None else outcome
            return default

        return run

    def _bucket(self, memo: dict[str, list[float | None]], value: str, slot: int | None) -> float | None:
        if slot is None:
            return None
        buckets = memo.get(value)
        if buckets is None:
            buckets = memo[value] = self._bucketer.compute(value)
        return buckets[slot]

    @staticmethod
    def _hash_text(attributes: Mapping[str, Any], name: str, fallback: str | None) -> str | None:
        value = attributes.get(name)
        if type(value) is str and value:
            return value
        if not hashable(value):
            if not fallback:
                return None
            value = attributes.get(fallback)
            if not hashable(value):
                return None
        return value if type(value) is str else js_string(value)

    def _fast_filtered(
        self,
        filters: tuple[Filter, ...],
        slots: tuple[int | None, ...],
        attributes: Mapping[str, Any],
        memo: dict[str, list[float | None]],
    ) -> bool:
        for item, slot in zip(filters, slots, strict=True):
            value = self._hash_text(attributes, item.attribute, None)
            n = None if value is None else self._bucket(memo, value, slot)
            if n is None or not any(start <= n < end for start, end in item.ranges):
                return True
        return False

    def _fast(  # noqa: PLR0912 - eval_feature's rule loop, minus what the hot path cannot meet
        self, feature: Feature, attributes: Mapping[str, Any], memo: dict[str, list[float | None]]
    ) -> tuple[Any, tuple[str, str] | None]:
        for rule in feature.rules:
            if rule.filters is not None and self._fast_filtered(
                rule.filters, rule.filter_slots, attributes, memo
            ):
                continue
            if rule.force is not MISSING:
                if rule.condition is not None and not rule.condition(attributes):
                    continue
                if rule.range is None and rule.coverage is None:
                    return rule.force, None
                if rule.range is None and rule.coverage == 0:
                    continue
                text = self._hash_text(attributes, rule.hash_attribute, rule.fallback_attribute)
                n = None if text is None else self._bucket(memo, text, rule.slot)
                if n is None:
                    continue
                if rule.range is not None:
                    if not rule.range[0] <= n < rule.range[1]:
                        continue
                elif rule.coverage is not None and n > rule.coverage:
                    continue
                return rule.force, None
            experiment = rule.experiment
            if experiment is None or len(experiment.variations) < 2 or not experiment.active:
                continue
            text = self._hash_text(attributes, experiment.hash_attribute, None)
            if text is None:
                continue
            if experiment.filters is not None:
                if self._fast_filtered(experiment.filters, experiment.filter_slots, attributes, memo):
                    continue
            elif experiment.namespace is not None:
                n = self._bucket(memo, text, experiment.ns_slot)
                if n is None or not experiment.namespace[1] <= n < experiment.namespace[2]:
                    continue
            if experiment.condition is not None and not experiment.condition(attributes):
                continue
            n = self._bucket(memo, text, experiment.slot)
            assigned = -1 if n is None else choose_variation(n, experiment.ranges)
            if assigned < 0 or experiment.stopped:
                continue
            variation_key, passthrough = experiment.variation_keys[assigned]
            if passthrough:
                continue
            return experiment.variations[assigned], (experiment.key, variation_key)
        return feature.default, None

    # --- internals ----------------------------------------------------------------------------------

    def _parents_block(
        self, parents: tuple[Parent, ...], ctx: EvalContext, stack: frozenset[str]
    ) -> str | bool:
        for parent in parents:
            parent_result = self.eval_feature(parent.feature_id, ctx, stack)
            if parent_result.source == "cyclicPrerequisite":
                return "cyclic"
            if not parent.condition({"value": parent_result.value}):
                return "gate" if parent.gate else True
        return False

    @staticmethod
    def _hash_value(attributes: Mapping[str, Any], name: str, fallback: str | None) -> tuple[str, Any]:
        """(attribute used, its raw value or "" when none is hashable), as the SDK's `getHashAttribute`."""
        value = attributes.get(name)
        if hashable(value):
            return name, value
        if fallback:
            fallback_value = attributes.get(fallback)
            if hashable(fallback_value):
                return fallback, fallback_value
        return name, ""

    def _filtered_out(self, filters: tuple[Filter, ...], attributes: Mapping[str, Any]) -> bool:
        for item in filters:
            value = attributes.get(item.attribute)
            if not hashable(value):
                return True
            n = gb_hash(item.seed, js_string(value), item.hash_version)
            if n is None or not any(start <= n < end for start, end in item.ranges):
                return True
        return False

    def _in_rollout(self, rule: Rule, attributes: Mapping[str, Any]) -> bool:
        if rule.range is None and rule.coverage is None:
            return True
        if rule.range is None and rule.coverage == 0:
            return False
        _, value = self._hash_value(attributes, rule.hash_attribute, rule.fallback_attribute)
        if value == "":
            return False
        n = gb_hash(rule.seed, js_string(value), rule.hash_version)
        if n is None:
            return False
        if rule.range is not None:
            return bool(rule.range[0] <= n < rule.range[1])
        return rule.coverage is None or n <= rule.coverage

    def _result(
        self,
        *,
        experiment: Experiment,
        variations: list[Any],
        index: int,
        hash_used: bool,
        feature_id: str | None,
        attribute: tuple[str, Any],
        bucket: float | None = None,
        sticky_used: bool = False,
    ) -> ExperimentResult:
        in_experiment = 0 <= index < len(variations)
        if not in_experiment:
            index = 0
        meta = experiment.meta[index] if index < len(experiment.meta) else {}
        meta = meta if isinstance(meta, Mapping) else {}
        return ExperimentResult(
            key=js_string(meta.get("key") or index),
            feature_id=feature_id,
            in_experiment=in_experiment,
            hash_used=hash_used,
            variation_id=index,
            value=variations[index] if variations else None,
            hash_attribute=attribute[0],
            hash_value=attribute[1],
            bucket=bucket,
            name=meta.get("name") or None,
            passthrough=bool(meta.get("passthrough")),
            sticky_bucket_used=sticky_used,
        )

    def _bandit_leaf(
        self, experiment: Experiment, ctx: EvalContext
    ) -> tuple[list[float] | None, dict[str, Any] | None]:
        bandits = ctx.contextual_bandits if ctx.contextual_bandits is not None else self.contextual_bandits
        definition = bandits.get(experiment.bandit_ref or "") if isinstance(bandits, Mapping) else None
        if not isinstance(definition, Mapping):
            return None, None
        leaf_id: Any = -1
        weights = experiment.weights
        contexts = definition.get("contexts")
        for leaf in contexts if isinstance(contexts, list) else []:
            if isinstance(leaf, Mapping) and compile_condition(leaf.get("condition") or {}, self.groups)(
                ctx.attributes
            ):
                leaf_id, weights = leaf.get("leafId"), leaf.get("weights")
                break
        info: dict[str, Any] = {"leafId": leaf_id, "variationWeights": weights}
        if "banditVersion" in definition:
            info["banditVersion"] = definition["banditVersion"]
        return weights, info

    def _run(  # noqa: PLR0911, PLR0912 - the SDK's numbered steps, in order
        self, experiment: Experiment, ctx: EvalContext, feature_id: str | None, stack: frozenset[str]
    ) -> tuple[ExperimentResult, Mapping[str, Any]]:
        definition: Mapping[str, Any] = experiment.definition
        variations = experiment.variations
        attributes = ctx.attributes
        docs = None if experiment.disable_sticky else ctx.sticky_docs
        fallback = experiment.fallback_attribute if docs is not None else None
        attribute = self._hash_value(attributes, experiment.hash_attribute, fallback)

        def excluded() -> tuple[ExperimentResult, Mapping[str, Any]]:
            return self._result(
                experiment=experiment,
                variations=variations,
                index=-1,
                hash_used=False,
                feature_id=feature_id,
                attribute=attribute,
            ), definition

        if len(variations) < 2 or not ctx.enabled:
            return excluded()
        ranges = experiment.ranges
        bandit: dict[str, Any] | None = None
        if experiment.bandit_ref is not None:
            # The matching leaf's weights apply even to forced variations; its metadata only when hashed.
            weights, bandit = self._bandit_leaf(experiment, ctx)
            if bandit is not None:
                coverage = 1 if experiment.coverage is None else experiment.coverage
                ranges = get_bucket_ranges(len(variations), coverage, weights)
                definition = {**definition, "weights": weights}
        key = experiment.key
        forced = get_query_string_override(key, ctx.url, len(variations))
        if forced is None and key in ctx.forced_variations:
            forced = ctx.forced_variations[key]
        if forced is not None:
            return self._result(
                experiment=experiment,
                variations=variations,
                index=forced,
                hash_used=False,
                feature_id=feature_id,
                attribute=attribute,
            ), definition
        if not experiment.active:
            return excluded()
        hash_value = attribute[1]
        if hash_value == "":
            return excluded()
        sticky_index, blocked = (
            self._sticky_variation(experiment, docs, attributes) if docs is not None else (-1, False)
        )
        found = sticky_index >= 0
        # A visitor with a sticky bucket keeps it whatever the targeting says now.
        if not found:
            if experiment.filters is not None:
                if self._filtered_out(experiment.filters, attributes):
                    return excluded()
            elif experiment.namespace is not None and not in_namespace(
                js_string(hash_value), experiment.namespace
            ):
                return excluded()
            if experiment.condition is not None and not experiment.condition(attributes):
                return excluded()
            if experiment.parents is not None and self._parents_block(experiment.parents, ctx, stack):
                return excluded()
        if bandit is not None:
            definition = {**definition, "contextualBandit": bandit}
        text = js_string(hash_value)
        n = (
            gb_hash(experiment.seed, text, experiment.hash_version)
            if experiment.slot is None
            else self._bucket(ctx.memo, text, experiment.slot)
        )
        if n is None:
            return excluded()
        assigned = sticky_index if found else choose_variation(n, ranges)
        if blocked:
            return self._result(
                experiment=experiment,
                variations=variations,
                index=-1,
                hash_used=False,
                feature_id=feature_id,
                attribute=attribute,
                sticky_used=True,
            ), definition
        if assigned < 0:
            return excluded()
        if experiment.force is not MISSING:
            force = experiment.force
            index = force if isinstance(force, int) and not isinstance(force, bool) else -1
            return self._result(
                experiment=experiment,
                variations=variations,
                index=index,
                hash_used=False,
                feature_id=feature_id,
                attribute=attribute,
            ), definition
        if ctx.qa_mode or definition.get("status") == "stopped":
            return excluded()
        result = self._result(
            experiment=experiment,
            variations=variations,
            index=assigned,
            hash_used=True,
            feature_id=feature_id,
            attribute=attribute,
            bucket=n,
            sticky_used=found,
        )
        if bandit is not None:
            result.bandit = bandit
        if docs is not None:
            self._persist(docs, experiment, attribute, result.key)
        return result, definition

    # --- sticky bucketing, step for step as the SDK's ----------------------------------------------

    @staticmethod
    def _sticky_assignments(
        docs: Mapping[str, Mapping[str, Any]], attributes: Mapping[str, Any], experiment: Experiment
    ) -> dict[str, Any]:
        """The visitor's assignments: the hash attribute's document, then the fallback's (which never
        overrides an entry of the first)."""
        merged: dict[str, Any] = {}
        for name in (experiment.hash_attribute, experiment.fallback_attribute):
            if not name:
                continue
            value = attributes.get(name)
            doc = docs.get(f"{name}||{js_string(value) if hashable(value) else ''}")
            assignments = doc.get("assignments") if isinstance(doc, dict) else None
            if isinstance(assignments, dict):
                for key, variation in assignments.items():
                    merged.setdefault(key, variation)
        return merged

    def _sticky_variation(
        self, experiment: Experiment, docs: Mapping[str, Mapping[str, Any]], attributes: Mapping[str, Any]
    ) -> tuple[int, bool]:
        """(stored variation index or -1, whether an assignment below `minBucketVersion` blocks)."""
        assignments = self._sticky_assignments(docs, attributes, experiment)
        key = experiment.key
        if any(sticky_key(key, version) in assignments for version in range(experiment.min_bucket_version)):
            return -1, True
        stored = assignments.get(sticky_key(key, experiment.bucket_version))
        if not stored:
            return -1, False
        for index, meta in enumerate(experiment.meta):
            if isinstance(meta, dict) and meta.get("key") == stored:
                return index, False
        return -1, False

    @staticmethod
    def _persist(
        docs: dict[str, dict[str, Any]], experiment: Experiment, attribute: tuple[str, Any], variation: str
    ) -> None:
        name, value = attribute[0], js_string(attribute[1])
        doc_key = f"{name}||{value}"
        existing = docs.get(doc_key)
        assignments = existing.get("assignments") if isinstance(existing, dict) else None
        assignments = dict(assignments) if isinstance(assignments, dict) else {}
        entry = sticky_key(experiment.key, experiment.bucket_version)
        if assignments.get(entry) == variation and existing is not None:
            return
        assignments[entry] = variation
        docs[doc_key] = {"attributeName": name, "attributeValue": value, "assignments": assignments}
