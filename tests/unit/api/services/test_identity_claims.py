"""The federated claims of a Cognito ID token: which provider, which groups."""

from __future__ import annotations

import json

import pytest

from api.services.dns_txt import txt_values
from api.services.identity import MAX_GROUPS, federated_groups, federated_provider
from tests.support.sso import ZoneResolver

SAML = {"providerName": "sso-aaaaaaaaaaaa-bbbbbbbbbbbb", "providerType": "SAML", "primary": "true"}


@pytest.mark.parametrize(
    ("identities", "expected"),
    [
        ([SAML], SAML["providerName"]),
        (json.dumps([SAML]), SAML["providerName"]),  # some libraries hand the claim over as text
        ([{**SAML, "primary": "false"}], SAML["providerName"]),
        ([SAML, {**SAML, "providerName": "other", "primary": "false"}], SAML["providerName"]),
        ([{**SAML, "primary": "false"}, {**SAML, "providerName": "other", "primary": "false"}], None),
        ([{**SAML, "providerType": "Google"}], None),
        ("not json", None),
        (None, None),
        ({"providerName": "x"}, None),
    ],
)
def test_federated_provider(identities, expected):
    assert federated_provider({"identities": identities}) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "[admins, engineering]",
            ("admins", "engineering"),
        ),  # Cognito's form of a multi-valued SAML attribute
        ('["admins", "engineering"]', ("admins", "engineering")),
        (["admins", "admins", " x "], ("admins", "x")),
        ("admins", ("admins",)),
        ("", ()),
        (None, ()),
        (42, ()),
    ],
)
def test_federated_groups(value, expected):
    assert federated_groups({"custom:groups": value}) == expected


def test_groups_are_bounded():
    assert len(federated_groups({"custom:groups": [f"g{i}" for i in range(1000)]})) == MAX_GROUPS


def test_txt_values_join_character_strings():
    zone = ZoneResolver()
    zone.publish("n", '"a" "b" "c"', '"caf\\195\\169"')
    assert txt_values(zone.txt("n")) == ["abc", "café"]
