"""Parsing of the flag and experiment headers the edge sets."""

from __future__ import annotations

from api.services.tenancy import parse_experiments, parse_flags


def test_edge_flag_headers_parsing():
    assert parse_flags('{"new-billing":true,"checkout":"b"}') == {"new-billing": True, "checkout": "b"}
    assert parse_flags("not json") == {}
    assert parse_flags("[1]") == {}
    assert parse_experiments("checkout-exp:1,pricing:annual%2Cyearly,junk") == {
        "checkout-exp": "1",
        "pricing": "annual,yearly",
    }
    assert parse_experiments(None) == {}
