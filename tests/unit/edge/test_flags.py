from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.buckets import Bucketer
from edge.flags import EvalContext, FlagEngine, choose_variation, fnv1a32, gb_hash, get_bucket_ranges
from tests.unit.edge.conftest import CONFORMANCE

PAYLOAD = {
    "features": {
        "dark-mode": {"defaultValue": False, "rules": [{"condition": {"plan": "pro"}, "force": True}]},
        "checkout": {
            "defaultValue": "classic",
            "rules": [{"key": "checkout-exp", "variations": ["classic", "new"], "hashAttribute": "id"}],
        },
        "beta": {
            "defaultValue": False,
            "rules": [
                {
                    "force": True,
                    "coverage": 1.0,
                    "hashAttribute": "userId",
                    "fallbackAttribute": "anonymousId",
                }
            ],
        },
    }
}


def test_evaluate_returns_values_and_experiments() -> None:
    engine = FlagEngine(PAYLOAD)
    result = engine.evaluate({"id": "user-1", "plan": "pro"})
    assert result.flags["dark-mode"] is True
    assert result.flags["checkout"] in ("classic", "new")
    assert result.experiments == (("checkout-exp", "0" if result.flags["checkout"] == "classic" else "1"),)
    assert engine.evaluate({"id": "user-1", "plan": "free"}).flags["dark-mode"] is False


def test_evaluate_without_hash_attribute_stays_out_of_experiments() -> None:
    result = FlagEngine(PAYLOAD).evaluate({"plan": "pro"})
    assert result.flags["checkout"] == "classic"
    assert result.experiments == ()


def test_fallback_attribute_buckets_anonymous_visitors() -> None:
    engine = FlagEngine(PAYLOAD)
    assert engine.evaluate({"anonymousId": "anon-1"}).flags["beta"] is True
    assert engine.evaluate({}).flags["beta"] is False


def test_fnv_uses_utf16_code_units() -> None:
    # "😀" is one code point but two UTF-16 units (0xD83D 0xDE00), as JS charCodeAt sees it.
    expected = fnv1a32("a")
    expected = ((expected ^ 0xD83D) * 0x01000193) & 0xFFFFFFFF
    expected = ((expected ^ 0xDE00) * 0x01000193) & 0xFFFFFFFF
    assert fnv1a32("a😀") == expected


@settings(max_examples=50, deadline=None)
@given(
    key=st.text(min_size=1, max_size=20),
    user=st.text(min_size=1, max_size=40),
    count=st.integers(min_value=2, max_value=5),
)
def test_bucketing_is_deterministic(key: str, user: str, count: int) -> None:
    first = FlagEngine(engine_payload(key, count)).eval_feature("f", EvalContext({"id": user}))
    second = FlagEngine(engine_payload(key, count)).eval_feature("f", EvalContext({"id": user}))
    assert first.value == second.value
    assert first.experiment_result is not None
    assert first.experiment_result.in_experiment


def engine_payload(key: str, count: int) -> dict[str, object]:
    return {"features": {"f": {"rules": [{"key": key, "variations": list(range(count))}]}}}


@settings(max_examples=8, deadline=None)
@given(seed=st.text(min_size=1, max_size=12), version=st.sampled_from([1, 2]))
def test_bucketing_is_uniform_within_tolerance(seed: str, version: int) -> None:
    users = 4000
    ranges = get_bucket_ranges(4)
    counts = Counter(
        choose_variation(gb_hash(seed, f"user-{index}", version) or 0.0, ranges) for index in range(users)
    )
    # Each of 4 buckets should get 25 %; ±4 points is > 6 standard deviations at n = 4000.
    assert set(counts) == {0, 1, 2, 3}
    assert all(abs(count / users - 0.25) < 0.04 for count in counts.values())


SUITE = json.loads((CONFORMANCE / "growthbook-cases.json").read_text())
SDK_ONLY_CONTEXT = {"forcedVariations", "qaMode", "enabled", "url", "contextualBandits"}


@pytest.mark.parametrize(
    "case",
    [case for case in SUITE["feature"] if not SDK_ONLY_CONTEXT & set(case[1])],
    ids=lambda case: case[0],
)
def test_hot_path_matches_eval_feature_on_suite(case: list[Any]) -> None:
    _, data, key, expected = case
    engine = FlagEngine(data)
    evaluation = engine.evaluate(data.get("attributes", {}), [key])
    assert evaluation.flags[key] == expected["value"]
    result = expected.get("experimentResult")
    expected_experiments = (
        ((expected["experiment"]["key"], result["key"]),)
        if expected["source"] == "experiment" and result and result["inExperiment"]
        else ()
    )
    assert evaluation.experiments == expected_experiments


@settings(max_examples=40, deadline=None)
@given(
    seeds=st.lists(st.tuples(st.text(max_size=12), st.sampled_from([1, 2, 3])), min_size=1, max_size=12),
    value=st.text(min_size=1, max_size=40),
)
def test_lane_bucketer_matches_scalar_hash(seeds: list[tuple[str, int]], value: str) -> None:
    bucketer = Bucketer()
    slots = [(seed, version, bucketer.slot(seed, version)) for seed, version in seeds]
    buckets = bucketer.compute(value)
    for seed, version, slot in slots:
        assert (None if slot is None else buckets[slot]) == gb_hash(seed, value, version)


ATTRIBUTE_VALUES = st.fixed_dictionaries(
    {
        "id": st.one_of(st.none(), st.text(max_size=20), st.integers(0, 10**6)),
        "plan": st.sampled_from(["free", "pro", "enterprise"]),
        "country": st.sampled_from(["US", "DE", "FR"]),
        "seats": st.integers(0, 200),
    }
)
MIXED_PAYLOAD = {
    "features": {
        "target": {"defaultValue": 0, "rules": [{"condition": {"plan": "pro"}, "force": 1}]},
        "rollout-v1": {"defaultValue": "off", "rules": [{"force": "on", "coverage": 0.4}]},
        "rollout-v2-range": {
            "defaultValue": "off",
            "rules": [{"force": "on", "range": [0.2, 0.7], "hashVersion": 2, "seed": "s"}],
        },
        "exp": {
            "defaultValue": "a",
            "rules": [
                {"key": "e1", "variations": ["a", "b", "c"], "weights": [0.2, 0.3, 0.5], "coverage": 0.9}
            ],
        },
        "exp-ns": {
            "defaultValue": "a",
            "rules": [
                {"key": "e2", "variations": ["a", "b"], "namespace": ["ns", 0.1, 0.6], "hashVersion": 2}
            ],
        },
        "filtered": {
            "defaultValue": 0,
            "rules": [{"force": 5, "filters": [{"seed": "f", "ranges": [[0, 0.5]]}]}],
        },
        "holdout": {
            "defaultValue": "x",
            "rules": [
                {
                    "key": "h",
                    "variations": ["x", "y"],
                    "ranges": [[0, 0.5], [0.5, 1]],
                    "meta": [{}, {"passthrough": True}],
                },
                {"condition": {"seats": {"$gt": 100}}, "force": "big"},
            ],
        },
    }
}


@settings(max_examples=150, deadline=None)
@given(attributes=ATTRIBUTE_VALUES)
def test_hot_path_matches_eval_feature_for_random_visitors(attributes: dict[str, Any]) -> None:
    engine = FlagEngine(MIXED_PAYLOAD)
    evaluation = engine.evaluate(attributes)
    ctx = EvalContext(attributes)
    for key in MIXED_PAYLOAD["features"]:
        assert evaluation.flags[key] == engine.eval_feature(key, ctx).value


@pytest.mark.parametrize("count", [1, 3, 7])
def test_lane_decimal_stage_handles_every_digit_count(count: int) -> None:
    # Seeds chosen freely; the stage-2 input is forced to values with 1..10 digits (0 and 2**32-1 included).
    bucketer = Bucketer()
    for index in range(count):
        bucketer.slot(f"seed-{index}", 2)
    bucketer.compute("warm-up")
    values = [0, 7, 12345, 10**8 - 1, 10**8, 10**9 - 1, 10**9, 2**32 - 1][:count] or [0]
    values += [10**9 + 7] * (count - len(values))
    firsts = memoryview(b"".join(value.to_bytes(8, "little") for value in values)).cast("Q")
    lanes = bucketer._stage2(firsts)
    assert list(lanes) == [fnv1a32(str(value)) for value in values]
