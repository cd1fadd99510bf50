"""Differential tests against the growthbook SDK 4.0 (the Python package in the venv) on generated
payloads and visitors: values, sources and experiment exposures, without and with sticky bucketing."""

from __future__ import annotations

from typing import Any

from growthbook import GrowthBook, InMemoryStickyBucketService
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.flags import EvalContext, FlagEngine

FALLBACK_PAYLOAD = {
    "features": {
        "checkout": {
            "defaultValue": "classic",
            "rules": [
                {
                    "key": "checkout-exp",
                    "variations": ["classic", "new"],
                    "hashAttribute": "userId",
                    "fallbackAttribute": "anonymousId",
                }
            ],
        }
    }
}


def sdk_result(
    payload: dict[str, Any], attributes: dict[str, Any], key: str, **options: Any
) -> dict[str, Any]:
    return (
        GrowthBook(attributes=attributes, features=payload["features"], **options).eval_feature(key).to_dict()
    )


def test_experiment_ignores_fallback_attribute_without_sticky_bucketing() -> None:
    # The SDKs use an experiment's fallbackAttribute only with a sticky-bucket service: an anonymous
    # visitor (no userId) is not in the experiment, and no exposure is reported.
    visitor = {"id": "anon-1", "anonymousId": "anon-1"}
    engine = FlagEngine(FALLBACK_PAYLOAD)
    evaluation = engine.evaluate(visitor)
    assert evaluation.flags == {"checkout": "classic"}
    assert evaluation.experiments == ()
    result = engine.eval_feature("checkout", EvalContext(visitor))
    assert comparable(result.to_dict()) == comparable(sdk_result(FALLBACK_PAYLOAD, visitor, "checkout"))
    assert result.source == "defaultValue"


def test_experiment_uses_fallback_attribute_with_sticky_bucketing() -> None:
    visitor = {"id": "anon-1", "anonymousId": "anon-1"}
    service = InMemoryStickyBucketService()
    expected = sdk_result(FALLBACK_PAYLOAD, visitor, "checkout", sticky_bucket_service=service)
    docs: dict[str, dict[str, Any]] = {}
    result = FlagEngine(FALLBACK_PAYLOAD).eval_feature("checkout", EvalContext(visitor, sticky_docs=docs))
    assert comparable(result.to_dict()) == comparable(expected)
    assert expected["experimentResult"]["hashAttribute"] == "anonymousId"
    assert docs == service.docs


HASH_VALUES = st.one_of(
    st.none(),
    st.sampled_from(["", "u-1", "u-2", "a-9", "x"]),
    st.text(alphabet="abc123-", min_size=1, max_size=8),
    st.integers(-3, 3),
    st.booleans(),
)
VISITORS = st.fixed_dictionaries(
    {
        "id": HASH_VALUES,
        "userId": HASH_VALUES,
        "anonymousId": HASH_VALUES,
        "plan": st.sampled_from(["free", "pro"]),
    }
).map(lambda visitor: {name: value for name, value in visitor.items() if value is not None})


@st.composite
def experiment_rules(draw: st.DrawFn, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    count = draw(st.integers(2, 3))
    rule: dict[str, Any] = {
        "key": draw(st.sampled_from(["e1", "e2"])),
        "variations": [f"v{index}" for index in range(count)],
        "meta": [{"key": str(index)} for index in range(count)],
        "hashAttribute": draw(st.sampled_from(["id", "userId", "anonymousId"])),
        "hashVersion": draw(st.sampled_from([1, 2])),
    }
    if draw(st.booleans()):
        rule["fallbackAttribute"] = draw(st.sampled_from(["anonymousId", "id"]))
    if draw(st.booleans()):
        rule["coverage"] = draw(st.sampled_from([0.30005, 0.70005, 1]))
    if condition is None and draw(st.booleans()):
        rule["condition"] = {"plan": draw(st.sampled_from(["free", "pro"]))}
    elif condition:
        rule["condition"] = condition
    if draw(st.booleans()):
        rule["bucketVersion"] = draw(st.integers(0, 2))
        rule["minBucketVersion"] = draw(st.integers(0, rule["bucketVersion"]))
    if draw(st.booleans()):
        rule["disableStickyBucketing"] = True
    return rule


@st.composite
def payloads(draw: st.DrawFn, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    rules = draw(st.lists(experiment_rules(condition), min_size=1, max_size=3))
    if draw(st.booleans()):
        rules.insert(
            0, {"force": "rolled", "coverage": 0.50005, "hashAttribute": "userId", "fallbackAttribute": "id"}
        )
    return {"features": {"f": {"defaultValue": "default", "rules": rules}}}


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    experiment = result.get("experimentResult")
    return {
        "value": result["value"],
        "source": result["source"],
        "ruleId": result["ruleId"],
        "experimentResult": experiment and {key: experiment.get(key) for key in sorted(experiment)},
    }


@settings(max_examples=300, deadline=None)
@given(payload=payloads(), visitor=VISITORS)
def test_matches_sdk_without_sticky_bucketing(payload: dict[str, Any], visitor: dict[str, Any]) -> None:
    engine = FlagEngine(payload)
    ours = engine.eval_feature("f", EvalContext(visitor)).to_dict()
    assert comparable(ours) == comparable(sdk_result(payload, visitor, "f"))
    evaluation = engine.evaluate(visitor)
    assert evaluation.flags["f"] == ours["value"]
    exposed = ours["source"] == "experiment"
    assert evaluation.experiments == (
        ((ours["experiment"]["key"], ours["experimentResult"]["key"]),) if exposed else ()
    )


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Payload versions (coverage, weights of hashing, bucket versions, rules change; the targeting
    condition stays: see test_sticky_bucket_survives_a_targeting_change) and one browser's visitors."""
    condition = draw(st.sampled_from([{}, {"plan": "free"}, {"plan": "pro"}]))
    plan = draw(st.sampled_from(["free", "pro"]))
    history = draw(st.lists(payloads(condition), min_size=1, max_size=3))
    visits = draw(st.lists(VISITORS.map(lambda visitor: {**visitor, "plan": plan}), min_size=1, max_size=4))
    return history, visits


@settings(max_examples=120, deadline=None)
@given(case=histories())
def test_matches_sdk_sticky_bucket_service_over_a_history(
    case: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    # Both sides start empty and keep their own store: the SDK its InMemoryStickyBucketService.
    history, visits = case
    service = InMemoryStickyBucketService()
    docs: dict[str, dict[str, Any]] = {}
    for payload in history:
        for visitor in visits:
            expected = sdk_result(payload, visitor, "f", sticky_bucket_service=service)
            ours = FlagEngine(payload).eval_feature("f", EvalContext(visitor, sticky_docs=docs))
            assert comparable(ours.to_dict()) == comparable(expected)
    assert docs.keys() == service.docs.keys()
    for key, doc in docs.items():
        sdk_doc = service.docs[key]
        assert doc["assignments"].items() <= sdk_doc["assignments"].items()
        # The SDK's only extra entries are its in-place copies of another document's (docs/flags.md).
        copied = sdk_doc["assignments"].items() - doc["assignments"].items()
        others = {item for k, d in service.docs.items() if k != key for item in d["assignments"].items()}
        assert copied <= others, (key, copied)


def test_sticky_bucket_survives_a_targeting_change() -> None:
    # The JS SDK (the suite's reference) keeps a sticky-bucketed visitor in the experiment when the
    # rule's condition no longer matches; the Python SDK 4.0 re-checks a rule's condition first.
    rule = {"key": "e", "variations": ["a", "b"], "meta": [{"key": "0"}, {"key": "1"}]}
    before = {"features": {"f": {"defaultValue": "off", "rules": [{**rule, "condition": {"plan": "pro"}}]}}}
    after = {"features": {"f": {"defaultValue": "off", "rules": [{**rule, "condition": {"plan": "free"}}]}}}
    visitor = {"id": "u-1", "plan": "pro"}
    docs: dict[str, dict[str, Any]] = {}
    enrolled = FlagEngine(before).eval_feature("f", EvalContext(visitor, sticky_docs=docs))
    kept = FlagEngine(after).eval_feature("f", EvalContext(visitor, sticky_docs=docs))
    assert enrolled.source == kept.source == "experiment"
    assert kept.value == enrolled.value
    assert kept.experiment_result is not None
    assert kept.experiment_result.sticky_bucket_used
    service = InMemoryStickyBucketService()
    sdk_result(before, visitor, "f", sticky_bucket_service=service)
    assert sdk_result(after, visitor, "f", sticky_bucket_service=service)["source"] == "defaultValue"
