from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.flags import EvalContext, FlagEngine, choose_variation, fnv1a32, gb_hash, get_bucket_ranges

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
