from __future__ import annotations

import pytest

from api.exceptions import ScimError
from api.services.scim_schema import (
    ENTERPRISE_SCHEMA,
    USERS,
    parse_resource,
    project,
    service_provider_config,
)


def test_primary_is_unique_and_readonly_input_is_ignored():
    stored = parse_resource(
        USERS,
        {
            "schemas": [USERS.schema.id],
            "UserName": "b@x.example",
            "id": "ignored",
            "groups": [{"value": "g"}],
            "emails": [{"value": "1@x.example", "primary": True}, {"value": "2@x.example", "primary": True}],
        },
    )
    assert stored == {
        "userName": "b@x.example",
        "emails": [{"value": "1@x.example", "primary": False}, {"value": "2@x.example", "primary": True}],
    }


def test_attribute_projection():
    document = {
        "schemas": [USERS.schema.id],
        "id": "1",
        "userName": "u",
        "name": {"givenName": "G", "familyName": "F"},
        "title": "T",
        ENTERPRISE_SCHEMA: {"department": "D", "division": "V"},
    }
    assert project(USERS, document, attributes="name.givenName", excluded=None) == {
        "schemas": [USERS.schema.id],
        "id": "1",
        "name": {"givenName": "G"},
    }
    assert project(USERS, document, attributes=None, excluded=f"title,{ENTERPRISE_SCHEMA}:division") == {
        "schemas": [USERS.schema.id],
        "id": "1",
        "userName": "u",
        "name": {"givenName": "G", "familyName": "F"},
        ENTERPRISE_SCHEMA: {"department": "D"},
    }


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        ({"userName": "u"}, "invalidSyntax"),
        ({"schemas": [USERS.schema.id]}, "invalidValue"),
        ({"schemas": [USERS.schema.id], "userName": "u", "shoeSize": 9}, "invalidSyntax"),
        ({"schemas": [USERS.schema.id], "userName": "u", "active": "maybe"}, "invalidValue"),
        ({"schemas": [USERS.schema.id], "userName": "u", "title": "x" * 1025}, "invalidValue"),
        ({"schemas": [USERS.schema.id], "userName": "u", "emails": [{"value": "a"}] * 101}, "tooMany"),
        ({"schemas": [USERS.schema.id], "userName": "a\x00b"}, "invalidValue"),
    ],
)
def test_bodies_the_schemas_refuse(body, scim_type):
    with pytest.raises(ScimError) as caught:
        parse_resource(USERS, body)
    assert caught.value.scim_type == scim_type


def test_the_service_provider_config_publishes_the_body_limit():
    config = service_provider_config("/scim/v2", max_payload_bytes=1234, max_results=100)
    assert config["bulk"] == {"supported": False, "maxOperations": 0, "maxPayloadSize": 1234}
    assert config["filter"] == {"supported": True, "maxResults": 100}
    assert config["patch"] == {"supported": True}
