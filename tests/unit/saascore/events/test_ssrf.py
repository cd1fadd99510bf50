"""The SSRF guard on many spellings of forbidden addresses (IPv4 and IPv6), with the real resolver for
numeric forms (offline: glibc parses them without DNS) and a fixed resolver for names."""

from __future__ import annotations

import ipaddress

import pytest

from saascore.events.exceptions import UnsafeUrlError
from saascore.events.ssrf import is_forbidden, parse_url, vet

FORBIDDEN_ADDRESSES = [
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",  # instance metadata
    "169.254.0.1",
    "100.64.0.1",  # CGNAT
    "100.127.255.254",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.0.8",
    "192.0.2.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "::1",
    "::",
    "fd00:ec2::254",  # instance metadata over IPv6
    "fc00::1",
    "fe80::1",
    "fec0::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "::127.0.0.1",  # IPv4-compatible
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:0001::",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001:db8::1",
    "fe80::1%eth0",
]
PUBLIC_ADDRESSES = ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e"]


@pytest.mark.parametrize("text", FORBIDDEN_ADDRESSES)
def test_forbidden_addresses(text):
    assert is_forbidden(ipaddress.ip_address(text))


@pytest.mark.parametrize("text", PUBLIC_ADDRESSES)
def test_public_addresses(text):
    assert not is_forbidden(ipaddress.ip_address(text))


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/",
        "https://2130706433/",  # decimal 127.0.0.1
        "https://0x7f000001/",  # hex
        "https://0x7f.0.0.1/",
        "https://0177.0.0.1/",  # octal
        "https://017700000001/",
        "https://127.1/",  # short form
        "https://0/",
        "https://[::1]/",
        "https://[::ffff:7f00:1]/",
        "https://[::ffff:127.0.0.1]:8443/x",
        "https://[0:0:0:0:0:ffff:a9fe:a9fe]/",  # 169.254.169.254 mapped, long form
        "https://[fd00:ec2::254]/latest",
        "https://169.254.169.254/latest/meta-data/",
        "https://0xa9fea9fe/",  # hex metadata
        "https://2852039166/",  # decimal metadata
        "https://100.100.100.200/",  # Alibaba metadata (CGNAT)
        "https://[64:ff9b::7f00:1]/",
    ],
)
def test_numeric_spellings_of_forbidden_hosts_are_refused(url):
    with pytest.raises(UnsafeUrlError, match="non-public"):
        vet(url)


def test_a_name_is_refused_if_any_of_its_addresses_is_forbidden():
    with pytest.raises(UnsafeUrlError, match="non-public"):
        vet("https://hooks.example/", resolve=lambda host, port: ["93.184.216.34", "::ffff:10.1.1.1"])
    target = vet("https://hooks.example:8443/in?x=1", resolve=lambda host, port: ["93.184.216.34"])
    assert (target.host, target.port, target.path, target.address) == (
        "hooks.example",
        8443,
        "/in?x=1",
        "93.184.216.34",
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example/", "https"),
        ("ftp://hooks.example/", "https"),
        ("hooks.example/x", "https"),
        ("https://user@hooks.example/", "credentials"),
        ("https://user:secret@hooks.example/", "credentials"),
        ("https://hooks.example@169.254.169.254/", "credentials"),
        ("https:///path", "no host"),
        ("https://[fe80::1%25eth0]/", "scoped"),
        ("https://hooks.example/#frag", "fragment"),
        ("https://hooks.example:99999/", "malformed"),
        ("https://hooks.example/\n", "control"),
        ("https://hooks.example/ x", "control"),
        ("https://" + "a" * 2050 + ".example/", "longer"),
    ],
)
def test_malformed_or_unsafe_urls_are_refused_before_resolution(url, reason):
    with pytest.raises(UnsafeUrlError, match=reason):
        vet(url, resolve=lambda host, port: pytest.fail("resolved a URL that should be refused first"))


def test_loopback_only_when_allowed_and_plain_http_only_to_loopback():
    assert vet("http://127.0.0.1:8080/hook", allow_loopback=True).address == "127.0.0.1"
    assert vet("https://[::1]/", allow_loopback=True).address == "::1"
    with pytest.raises(UnsafeUrlError, match="https"):
        vet("http://hooks.example/", allow_loopback=True, resolve=lambda host, port: ["127.0.0.1"])
    with pytest.raises(UnsafeUrlError, match="non-public"):
        vet("http://10.0.0.1/", allow_loopback=True) if False else vet(
            "https://10.0.0.1/", allow_loopback=True
        )
    with pytest.raises(UnsafeUrlError):
        vet("http://127.0.0.1/")


def test_parse_keeps_path_and_query_and_defaults_the_port():
    assert parse_url("https://Hooks.Example./a/b?c=d") == ("https", "hooks.example", 443, "/a/b?c=d")
