from __future__ import annotations

import json
from typing import Any

from edge.config import FlagSettings
from edge.flagstore import FlagStore, encode_experiments, encode_flags
from tests.support.tokens import FrozenClock

BUNDLED = {"features": {"banner": {"defaultValue": "bundled"}}}
FRESH = {"features": {"banner": {"defaultValue": "fresh"}}}


class Fetch:
    def __init__(self, *answers: bytes | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, url: str, timeout: float, *, max_bytes: int) -> bytes:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def store(fetch: Fetch, clock: FrozenClock, **settings: Any) -> FlagStore:
    return FlagStore(
        FlagSettings(
            payload=BUNDLED, refresh_url="https://flags.test/payload.json", refresh_ttl_seconds=60, **settings
        ),
        fetch=fetch,
        monotonic=clock,
    )


def banner(flag_store: FlagStore) -> Any:
    return json.loads(flag_store.headers_for({"id": "u"})[0])["banner"]


def test_refresh_replaces_payload_then_waits_for_ttl() -> None:
    fetch = Fetch(json.dumps(FRESH).encode(), json.dumps(BUNDLED).encode())
    clock = FrozenClock(0)
    flags = store(fetch, clock)
    assert banner(flags) == "fresh"
    clock.now = 59
    assert banner(flags) == "fresh"
    assert fetch.calls == 1
    clock.now = 60
    assert banner(flags) == "bundled"
    assert fetch.calls == 2


def test_stale_if_error_keeps_payload_in_force(capsys: Any) -> None:
    fetch = Fetch(
        json.dumps(FRESH).encode(), OSError("timed out"), b"{not json", b"[]", json.dumps(BUNDLED).encode()
    )
    clock = FrozenClock(0)
    flags = store(fetch, clock)
    assert banner(flags) == "fresh"
    for step in (1, 2, 3):
        clock.now = 60 * step
        assert banner(flags) == "fresh"
        assert flags.last_error
    assert capsys.readouterr().out.count("flags refresh failed") == 3
    clock.now = 240
    assert banner(flags) == "bundled"
    assert flags.last_error is None


def test_first_refresh_failure_falls_back_to_bundled_payload() -> None:
    flags = store(Fetch(OSError("no route")), FrozenClock(0))
    assert banner(flags) == "bundled"


def test_no_refresh_url_never_fetches() -> None:
    fetch = Fetch()
    flags = FlagStore(FlagSettings(payload=BUNDLED), fetch=fetch)
    assert json.loads(flags.headers_for({})[0]) == {"banner": "bundled"}
    assert fetch.calls == 0


def test_forward_limits_features_sent() -> None:
    payload = {"features": {"a": {"defaultValue": 1}, "b": {"defaultValue": 2}}}
    flags = FlagStore(FlagSettings(payload=payload, forward=("b",)))
    assert json.loads(flags.headers_for({})[0]) == {"b": 2}


def test_flags_header_format_and_size_limit() -> None:
    flags = {"a": True, "b": "x" * 50, "c": {"nested": [1, 2]}, "é": None}
    encoded = encode_flags(flags, max_bytes=4096)
    assert json.loads(encoded) == flags
    assert encoded.isascii()
    assert " " not in encoded
    small = encode_flags(flags, max_bytes=40)
    assert len(small) <= 40
    assert json.loads(small) == {"a": True, "c": {"nested": [1, 2]}}


def test_experiments_header_format() -> None:
    assert encode_experiments((("checkout", "1"), ("odd key,:", "v 2"))) == "checkout:1,odd%20key%2C%3A:v%202"
    assert encode_experiments(()) == ""


def test_evaluations_are_cached_per_attribute_set() -> None:
    flags = FlagStore(FlagSettings(payload=BUNDLED), cache_size=2)
    first = flags.headers_for({"id": "1"})
    assert flags.headers_for({"id": "1"}) is first
    flags.headers_for({"id": "2"})
    flags.headers_for({"id": "3"})
    assert len(flags._cache) == 2
