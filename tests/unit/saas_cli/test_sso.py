"""`saas sso check-domain` with a resolver of real dnspython TXT rdata (no network)."""

from __future__ import annotations

import json

import pytest

from api.exceptions import DnsLookupError
from saas_cli import sso
from saas_cli.main import main
from tests.support.sso import ZoneResolver


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> ZoneResolver:
    resolver = ZoneResolver()
    monkeypatch.setattr(sso, "resolver", lambda: resolver)
    return resolver


def test_reports_the_values_and_finds_the_token(zone, capsys):
    zone.publish(
        "_saas-verification.acme.example", '"v=spf1 -all"', '"saas-verification=" "tok123tok123tok123"'
    )
    assert main(["sso", "check-domain", "ACME.example", "--token", "tok123tok123tok123", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["record_name"] == "_saas-verification.acme.example"
    assert report["values"] == ["v=spf1 -all", "saas-verification=tok123tok123tok123"]
    assert report["verification_values"] == ["saas-verification=tok123tok123tok123"]
    assert report["verified"] is True


def test_a_missing_token_exits_1_and_names_what_to_publish(zone, capsys):
    assert main(["sso", "check-domain", "acme.example", "--token", "saas-verification=abc"]) == 1
    out = capsys.readouterr().out
    assert "0 value(s)" in out
    assert "missing: saas-verification=abc" in out


def test_without_a_token_it_only_reports(zone, capsys):
    assert main(["sso", "check-domain", "acme.example"]) == 0
    assert "_saas-verification.acme.example TXT: 0 value(s)" in capsys.readouterr().out


def test_bad_domain_and_dns_failure(zone, capsys):
    assert main(["sso", "check-domain", "localhost"]) == 2
    zone.failure = DnsLookupError("the DNS lookup of x did not answer; try again")
    assert main(["sso", "check-domain", "acme.example"]) == 3
    assert "did not answer" in capsys.readouterr().err
