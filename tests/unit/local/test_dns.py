"""The local stack's DNS (local/dns.py) through the API's own dnspython resolver on loopback UDP: what
`saas dev txt` publishes is what domain verification reads, split values come back joined, other names are
NXDOMAIN; and the API's resolver follows SSO_DNS_SERVER."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.services.dns_txt import DnsPythonResolver, get_txt_resolver, resolver_for, txt_values
from api.settings import get_settings
from local.dns import LocalDns, publish, read_zone, zone_path
from local.environment import function_environment
from local.keys import load_or_create_key
from saas_cli.main import main
from tests.unit.local.test_cli_and_logs import saved_state


@pytest.fixture
def local_dns(tmp_path: Path) -> Iterator[LocalDns]:
    server = LocalDns(tmp_path, 0).start()
    yield server
    server.stop()


def test_published_records_are_answered_at_once(local_dns: LocalDns) -> None:
    resolver = DnsPythonResolver(nameservers=["127.0.0.1"], port=local_dns.port, lifetime=2)
    name = "_saas-verification.acme.example"
    assert txt_values(resolver.txt(name)) == []
    publish(local_dns.zone_file, name, "saas-verification=tok")
    publish(local_dns.zone_file, name.upper(), "v=spf1 -all")
    publish(local_dns.zone_file, name, "saas-verification=tok")  # kept once
    long_value = "x" * 600  # three character-strings on the wire
    publish(local_dns.zone_file, "long.example", long_value)
    assert sorted(txt_values(resolver.txt(name))) == ["saas-verification=tok", "v=spf1 -all"]
    assert txt_values(resolver.txt("long.example")) == [long_value]
    assert txt_values(resolver.txt("other.example")) == []


def test_saas_dev_txt_publishes_into_the_running_stacks_zone(tmp_path: Path, capsys) -> None:
    for key in ("session.pem", "idp.pem"):
        load_or_create_key(tmp_path / "keys" / key)
    state = dataclasses.replace(saved_state(tmp_path, "http://127.0.0.1:8000"), dns_port=5399)
    state.save()
    assert (
        main(
            [
                "dev",
                "txt",
                "_saas-verification.Acme.example",
                "saas-verification=abc",
                "--root",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert "_saas-verification.acme.example TXT (127.0.0.1:5399): 1 value(s)" in capsys.readouterr().out
    assert read_zone(zone_path(tmp_path)) == {"_saas-verification.acme.example": ["saas-verification=abc"]}
    assert function_environment(state)["SSO_DNS_SERVER"] == "127.0.0.1:5399"
    assert main(["dev", "txt", "a.example", "v", "--root", str(tmp_path / "none")]) == 2


def test_the_api_resolver_follows_sso_dns_server(
    local_dns: LocalDns, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(local_dns.zone_file, "_saas-verification.acme.example", "saas-verification=t")
    monkeypatch.setenv("SSO_DNS_SERVER", f"127.0.0.1:{local_dns.port}")
    get_settings.cache_clear()
    get_txt_resolver.cache_clear()
    try:
        found = txt_values(get_txt_resolver().txt("_saas-verification.acme.example"))
    finally:
        get_settings.cache_clear()
        get_txt_resolver.cache_clear()
    assert found == ["saas-verification=t"]
    assert isinstance(resolver_for(None), DnsPythonResolver)


def test_check_domain_asks_the_server_sso_dns_server_names(
    local_dns: LocalDns, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    publish(local_dns.zone_file, "_saas-verification.acme.example", "saas-verification=tok123")
    monkeypatch.setenv("SSO_DNS_SERVER", f"127.0.0.1:{local_dns.port}")
    assert main(["sso", "check-domain", "acme.example", "--token", "tok123"]) == 0
    assert "verification record found" in capsys.readouterr().out
