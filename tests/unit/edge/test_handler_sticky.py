"""Sticky bucketing through the triggers: origin-request reads the cookie, viewer-response writes it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from edge import handler
from saascontracts.b64 import b64url_decode, b64url_encode
from tests.support.tokens import NOW, FrozenClock, SigningKey
from tests.unit.edge.test_handler import edge_config, load_event, origin_event

VISITOR_ID = "0123456789abcdef"


def sticky_payload(coverage: float) -> dict[str, Any]:
    rule = {
        "key": "checkout-exp",
        "variations": ["a", "b", "c"],
        "meta": [{"key": "0"}, {"key": "1"}, {"key": "2"}],
        "hashAttribute": "userId",
        "fallbackAttribute": "anonymousId",
        "coverage": coverage,
    }
    return {"features": {"checkout": {"defaultValue": "a", "rules": [rule]}}}


def configure(signing_key: SigningKey, *, coverage: float = 1, enabled: bool = True) -> None:
    flags = {"payload": sticky_payload(coverage), "sticky_bucketing": {"enabled": enabled}}
    handler.configure(edge_config(signing_key, flags=flags), clock=FrozenClock(NOW))


@pytest.fixture(autouse=True)
def reset() -> Iterator[None]:
    yield
    handler.configure(None)


def cookies(sticky: str | None = None) -> str:
    return f"aid={VISITOR_ID}" + (f"; gbStickyBuckets={sticky}" if sticky else "")


def respond(cookie_header: str) -> dict[str, Any]:
    event = load_event("viewer-response.json")
    event["Records"][0]["cf"]["request"]["headers"]["cookie"] = [{"key": "Cookie", "value": cookie_header}]
    return handler.viewer_response(event)


def sticky_set_cookie(response: dict[str, Any]) -> str | None:
    values = [item["value"] for item in response["headers"].get("set-cookie", [])]
    sticky = [value for value in values if value.startswith("gbStickyBuckets=")]
    assert len(sticky) <= 1
    return sticky[0] if sticky else None


def experiments(cookie_header: str) -> str | None:
    request = handler.origin_request(origin_event(Cookie=cookie_header))
    entries = request["headers"].get("x-experiments")
    return entries[0]["value"] if entries else None


def test_viewer_response_stores_the_assignment_and_origin_request_honours_it(signing_key: SigningKey) -> None:
    configure(signing_key)
    exposure = experiments(cookies())
    assert exposure is not None
    assert exposure.startswith("checkout-exp:")
    set_cookie = sticky_set_cookie(respond(cookies()))
    assert set_cookie is not None
    value = set_cookie.split(";")[0].split("=", 1)[1]
    assert {"Path=/", "Secure", "HttpOnly", "SameSite=Lax"} <= {
        part.strip() for part in set_cookie.split(";")
    }
    assert len(set_cookie) < 4096
    docs = json.loads(b64url_decode(value))
    assert docs == [
        {
            "attributeName": "anonymousId",
            "attributeValue": VISITOR_ID,
            "assignments": {"checkout-exp__0": exposure.split(":")[1]},
        }
    ]
    # Unchanged cookie: nothing to write.
    assert sticky_set_cookie(respond(cookies(value))) is None
    # Coverage cut to 1 %: without the cookie the visitor is out, with it the exposure stays.
    configure(signing_key, coverage=0.0001)
    assert experiments(cookies()) is None
    assert experiments(cookies(value)) == exposure


def test_a_forged_cookie_does_not_choose_the_variation(signing_key: SigningKey) -> None:
    configure(signing_key)
    exposure = experiments(cookies())
    assert exposure is not None
    forged_key = next(key for key in ("0", "1", "2") if f"checkout-exp:{key}" != exposure)
    forged = b64url_encode(
        json.dumps(
            [
                {
                    "attributeName": "anonymousId",
                    "attributeValue": VISITOR_ID,
                    "assignments": {"checkout-exp__0": forged_key},
                }
            ]
        ).encode()
    )
    assert experiments(cookies(forged)) == exposure
    rewritten = sticky_set_cookie(respond(cookies(forged)))
    assert rewritten is not None
    assert (
        forged_key
        not in json.loads(b64url_decode(rewritten.split(";")[0].split("=", 1)[1]))[0]["assignments"].values()
    )


def test_sticky_bucketing_is_off_by_default(signing_key: SigningKey) -> None:
    configure(signing_key, enabled=False)
    # Without sticky bucketing the SDKs ignore fallbackAttribute: no userId, no exposure, no cookie.
    assert experiments(cookies()) is None
    assert sticky_set_cookie(respond(cookies())) is None


def test_viewer_response_without_the_country_does_not_persist_country_targeted_experiments(
    signing_key: SigningKey,
) -> None:
    payload = sticky_payload(1)
    payload["features"]["checkout"]["rules"][0]["condition"] = {"country": {"$ne": "DE"}}
    flags = {"payload": payload, "sticky_bucketing": {"enabled": True}}
    handler.configure(edge_config(signing_key, flags=flags), clock=FrozenClock(NOW))
    # origin-request sees DE and leaves the visitor out; a viewer-response that cannot see the country
    # must not enrol them by persisting what it would compute without it.
    request = handler.origin_request(origin_event(Cookie=cookies(), CloudFront_Viewer_Country="DE"))
    assert "x-experiments" not in request["headers"]
    assert sticky_set_cookie(respond(cookies())) is None
    event = load_event("viewer-response.json")
    headers = event["Records"][0]["cf"]["request"]["headers"]
    headers["cookie"] = [{"key": "Cookie", "value": cookies()}]
    headers["cloudfront-viewer-country"] = [{"key": "CloudFront-Viewer-Country", "value": "FR"}]
    assert sticky_set_cookie(handler.viewer_response(event)) is not None
