"""The sticky-bucket cookie: SDK document format, validation, size bounds, and differential runs
against the SDK's own InMemoryStickyBucketService."""

from __future__ import annotations

import json
from typing import Any

import pytest
from growthbook import GrowthBook, InMemoryStickyBucketService
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.config import ConfigError, load_config
from edge.flags import EvalContext, FlagEngine
from edge.sticky import StickyBuckets
from saascontracts.b64 import b64url_decode, b64url_encode
from tests.unit.edge.test_flags_sdk import comparable

META = [{"key": "0"}, {"key": "1"}, {"key": "2"}]


def payload(*, coverage: float = 1, bucket_version: int = 0, min_bucket_version: int = 0) -> dict[str, Any]:
    return {
        "features": {
            "checkout": {
                "defaultValue": "classic",
                "rules": [
                    {
                        "key": "checkout-exp",
                        "variations": ["classic", "new", "bold"],
                        "meta": META,
                        "hashAttribute": "userId",
                        "fallbackAttribute": "anonymousId",
                        "coverage": coverage,
                        "bucketVersion": bucket_version,
                        "minBucketVersion": min_bucket_version,
                    }
                ],
            }
        }
    }


def cookie_of(docs: list[dict[str, Any]]) -> str:
    return b64url_encode(json.dumps(docs).encode())


def buckets(data: dict[str, Any], max_cookie_bytes: int = 3072) -> StickyBuckets:
    return StickyBuckets(FlagEngine(data), max_cookie_bytes=max_cookie_bytes)


def hashed_variation(data: dict[str, Any], visitor: dict[str, Any]) -> str:
    result = FlagEngine(data).eval_feature("checkout", EvalContext(visitor, sticky_docs={}))
    assert result.experiment_result is not None
    return result.experiment_result.key


VISITOR = {"id": "u-1", "userId": "u-1", "anonymousId": "anon-1"}


def test_cookie_holds_the_sdks_documents() -> None:
    store = buckets(payload())
    cookie = store.updated_cookie(None, VISITOR)
    assert cookie is not None
    docs = json.loads(b64url_decode(cookie))
    expected_key = hashed_variation(payload(), VISITOR)
    assert docs == [
        {"assignments": {"checkout-exp__0": expected_key}, "attributeName": "userId", "attributeValue": "u-1"}
    ]
    # The SDK's own service reads the same documents and gives the same variation.
    service = InMemoryStickyBucketService()
    for doc in docs:
        service.save_assignments(doc)
    result = GrowthBook(attributes=VISITOR, features=payload()["features"], sticky_bucket_service=service)
    assert result.eval_feature("checkout").experimentResult.key == expected_key  # type: ignore[union-attr]
    assert store.updated_cookie(cookie, VISITOR) is None


def test_a_forged_variation_is_refused() -> None:
    genuine = hashed_variation(payload(), VISITOR)
    for forged in {"0", "1", "2"} - {genuine}:
        cookie = cookie_of(
            [{"attributeName": "userId", "attributeValue": "u-1", "assignments": {"checkout-exp__0": forged}}]
        )
        assert buckets(payload()).load(cookie, VISITOR) == {}


def test_a_genuine_assignment_survives_a_coverage_cut() -> None:
    # At 1 % coverage the visitor would not be enrolled; the sticky bucket keeps the variation it had.
    cookie = buckets(payload()).updated_cookie(None, VISITOR)
    low = payload(coverage=0.01)
    docs = buckets(low).load(cookie, VISITOR)
    result = FlagEngine(low).eval_feature("checkout", EvalContext(VISITOR, sticky_docs=docs))
    assert result.experiment_result is not None
    assert result.experiment_result.sticky_bucket_used
    assert result.experiment_result.key == hashed_variation(payload(), VISITOR)
    assert FlagEngine(low).eval_feature("checkout", EvalContext(VISITOR)).source == "defaultValue"


def test_documents_of_another_identity_are_ignored() -> None:
    genuine = hashed_variation(payload(), {"userId": "u-2"})
    cookie = cookie_of(
        [{"attributeName": "userId", "attributeValue": "u-2", "assignments": {"checkout-exp__0": genuine}}]
    )
    assert buckets(payload()).load(cookie, VISITOR) == {}


def test_earlier_bucket_versions_block_without_validation() -> None:
    cookie = cookie_of(
        [{"attributeName": "userId", "attributeValue": "u-1", "assignments": {"checkout-exp__0": "anything"}}]
    )
    blocked = payload(bucket_version=1, min_bucket_version=1)
    docs = buckets(blocked).load(cookie, VISITOR)
    assert docs["userId||u-1"]["assignments"] == {"checkout-exp__0": "anything"}
    result = FlagEngine(blocked).eval_feature("checkout", EvalContext(VISITOR, sticky_docs=docs))
    assert result.source == "defaultValue"


@pytest.mark.parametrize(
    "entry", [{"checkout-exp": "1"}, {"checkout-exp__01": "1"}, {"checkout-exp__x": "1"}]
)
def test_malformed_entries_are_dropped(entry: dict[str, str]) -> None:
    cookie = cookie_of([{"attributeName": "userId", "attributeValue": "u-1", "assignments": entry}])
    assert buckets(payload()).load(cookie, VISITOR) == {}


def test_inert_entries_are_kept_and_validated_once_they_count() -> None:
    later = payload(bucket_version=1)
    forged = next(key for key in ("0", "1", "2") if key != hashed_variation(later, VISITOR))
    entries = {"checkout-exp__1": forged, "other-exp__0": "1"}
    cookie = cookie_of([{"attributeName": "userId", "attributeValue": "u-1", "assignments": entries}])
    # Version 1 and other-exp are used by no experiment of this payload: kept as they are.
    assert buckets(payload()).load(cookie, VISITOR)["userId||u-1"]["assignments"] == entries
    # Once version 1 is current, the forged entry is refused.
    assert buckets(later).load(cookie, VISITOR)["userId||u-1"]["assignments"] == {"other-exp__0": "1"}


@pytest.mark.parametrize(
    "cookie",
    ["", "not base64!", b64url_encode(b"{}"), b64url_encode(b"[1, null, {}]"), b64url_encode(b"[" * 2200)],
)
def test_malformed_cookies_are_ignored(cookie: str) -> None:
    assert buckets(payload()).load(cookie, VISITOR) == {}
    assert buckets(payload()).updated_cookie(cookie, VISITOR) is not None


DOC_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
DOCS = st.lists(
    st.fixed_dictionaries(
        {
            "attributeName": st.sampled_from(["userId", "anonymousId", "id", "other"]) | DOC_VALUES,
            "attributeValue": st.sampled_from(["u-1", "anon-1"]) | DOC_VALUES,
            "assignments": st.dictionaries(
                st.sampled_from(["checkout-exp__0", "checkout-exp__1", "x__0"]) | st.text(max_size=20),
                st.sampled_from(["0", "1", "2"]) | DOC_VALUES,
                max_size=5,
            )
            | DOC_VALUES,
        }
    )
    | DOC_VALUES,
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(docs=DOCS, raw=st.text(max_size=200))
def test_any_cookie_gives_valid_documents_or_none(docs: list[Any], raw: str) -> None:
    store = buckets(payload())
    for cookie in (cookie_of(docs), raw):
        loaded = store.load(cookie, VISITOR)
        for key, doc in loaded.items():
            assert key == f"{doc['attributeName']}||{doc['attributeValue']}"
            assert doc["attributeValue"] == VISITOR[doc["attributeName"]]
            assert all(isinstance(variation, str) for variation in doc["assignments"].values())
        updated = store.updated_cookie(cookie, VISITOR)
        assert updated is None or len(updated) <= 3072


def test_the_cookie_is_bounded_on_read_and_write() -> None:
    store = buckets(payload(), max_cookie_bytes=256)
    genuine = hashed_variation(payload(), VISITOR)
    doc = {"attributeName": "userId", "attributeValue": "u-1", "assignments": {"checkout-exp__0": genuine}}
    padded = cookie_of([doc, {"attributeName": "pad", "attributeValue": "x" * 300, "assignments": {}}])
    assert len(padded) > 256
    assert store.load(padded, VISITOR) == {}
    assert store.load(cookie_of([doc]), VISITOR) != {}
    long_id = {"userId": "u" * 300, "anonymousId": "anon-1"}
    assert store.updated_cookie(None, long_id) is None


def test_config_bounds_the_cookie_below_the_browser_limit() -> None:
    issuers = [{"issuer": "https://issuer.test", "audiences": ["a"], "jwks_url": "https://issuer.test/jwks"}]
    config = load_config({"issuers": issuers, "flags": {"sticky_bucketing": {"enabled": True}}})
    settings_ = config.flags.sticky_bucketing
    assert settings_.enabled
    assert settings_.max_cookie_bytes == 3072
    for bad in ({"max_cookie_bytes": 4096}, {"enabled": "yes"}, {"cookie": "a;b"}, {"unknown": 1}):
        with pytest.raises(ConfigError):
            load_config({"issuers": issuers, "flags": {"sticky_bucketing": bad}})


# --- differential: the cookie store against the SDK's InMemoryStickyBucketService -------------------

# Per experiment: variations, weights, hash version and fallback attribute stay across versions.
SHAPES = {"e1": (["a", "b"], None, 1, None), "e2": (["a", "b", "c"], [0.2, 0.3, 0.5], 2, "anonymousId")}


@st.composite
def versions(draw: st.DrawFn) -> dict[str, Any]:
    """One payload version: experiments keep their variations, weights and hash version (what the
    cookie validation relies on, see test_an_upgraded_assignment_lasts_while_its_fallback_is_read) while
    coverage, bucket versions, the hash attribute and rule order change."""
    rules = []
    for key in draw(st.lists(st.sampled_from(sorted(SHAPES)), min_size=1, max_size=2, unique=True)):
        variations, weights, hash_version, fallback = SHAPES[key]
        rule: dict[str, Any] = {
            "key": key,
            "variations": variations,
            "meta": [{"key": str(index)} for index in range(len(variations))],
            "hashVersion": hash_version,
            "hashAttribute": draw(st.sampled_from(["id", "userId"])),
            "coverage": draw(st.sampled_from([0.05005, 0.5, 1])),
        }
        if weights:
            rule["weights"] = weights
        if fallback:
            rule["fallbackAttribute"] = fallback
        if draw(st.booleans()):
            rule["bucketVersion"] = draw(st.integers(0, 2))
            rule["minBucketVersion"] = draw(st.integers(0, rule["bucketVersion"]))
        rules.append(rule)
    return {"features": {"f": {"defaultValue": "default", "rules": rules}}}


# One browser: the anonymous id cookie is always there; the user signs in and out.
BROWSER_VISITS = st.lists(
    st.sampled_from(
        [
            {"id": "anon-1", "anonymousId": "anon-1"},
            {"id": "u-1", "userId": "u-1", "anonymousId": "anon-1"},
            {"id": "u-2", "userId": "u-2", "anonymousId": "anon-1"},
        ]
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(history=st.lists(versions(), min_size=1, max_size=3), visits=BROWSER_VISITS)
def test_cookie_store_matches_the_sdk_service(
    history: list[dict[str, Any]], visits: list[dict[str, Any]]
) -> None:
    service = InMemoryStickyBucketService()
    cookie: str | None = None
    for data in history:
        store = buckets(data)
        for visitor in visits:
            sdk = GrowthBook(attributes=visitor, features=data["features"], sticky_bucket_service=service)
            expected = sdk.eval_feature("f").to_dict()
            docs = store.load(cookie, visitor)
            ours = FlagEngine(data).eval_feature("f", EvalContext(visitor, sticky_docs=docs))
            assert comparable(ours.to_dict()) == comparable(expected)
            cookie = store.updated_cookie(cookie, visitor) or cookie


def test_an_upgraded_assignment_lasts_while_its_fallback_is_read() -> None:
    # Signed out, the visitor is bucketed on anonymousId; signed in, the SDK copies that variation into
    # the userId document. The cookie store accepts the copy only where userId's own hash agrees, so
    # the variation holds while the experiment still reads the anonymousId document (its fallback).
    anonymous = {"anonymousId": "anon-1"}
    signed_in = {**anonymous, "userId": "u-7"}
    data = payload()
    store = buckets(data)
    cookie = store.updated_cookie(None, anonymous)
    anonymous_key = hashed_variation(data, anonymous)
    assert anonymous_key != hashed_variation(data, {"userId": "u-7"})
    cookie = store.updated_cookie(cookie, signed_in) or cookie
    docs = store.load(cookie, signed_in)
    result = FlagEngine(data).eval_feature("checkout", EvalContext(signed_in, sticky_docs=docs))
    assert result.experiment_result is not None
    assert (result.experiment_result.key, result.experiment_result.sticky_bucket_used) == (
        anonymous_key,
        True,
    )
    # Without the fallback document (another browser, or an experiment without fallbackAttribute) the
    # copy is refused and the visitor is bucketed on userId, where the SDK's own store would keep it.
    alone = store.load(cookie, {"userId": "u-7"})
    assert "userId||u-7" not in alone


def test_features_reading_an_absent_attribute_are_not_persisted() -> None:
    experiment = {"key": "e", "variations": ["a", "b"], "meta": [{"key": "0"}, {"key": "1"}]}
    data = {
        "features": {
            "by-country": {"rules": [{"condition": {"country": {"$ne": "DE"}}, "force": 1}, experiment]},
            "by-plan": {"rules": [{**experiment, "key": "p", "condition": {"$or": [{"plan": "pro"}]}}]},
            "child": {
                "rules": [
                    {**experiment, "key": "c", "parentConditions": [{"id": "by-country", "condition": {}}]}
                ]
            },
            "opaque": {"rules": [{**experiment, "key": "o", "condition": {"$savedGroups": ["g"]}}]},
        }
    }
    store = buckets(data)
    assert store.features_without(frozenset()) == ("by-country", "by-plan", "child", "opaque")
    assert store.features_without(frozenset({"country", "deviceType"})) == ("by-plan",)
    assert store.features_without(frozenset({"plan"})) == ("by-country", "child")
