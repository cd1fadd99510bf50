from __future__ import annotations

import copy

import pytest

from api.exceptions import ScimError
from api.services.scim_patch import Comparison, apply, parse_filter
from api.services.scim_schema import ENTERPRISE_SCHEMA, GROUPS, USERS

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def patch(*operations):
    return {"schemas": [PATCH], "Operations": list(operations)}


def test_filters_are_eq_comparisons_joined_by_and():
    assert parse_filter('userName eq "a\\"b" and active eq true and EXTERNALID Eq "x"') == [
        Comparison("userName", 'a"b'),
        Comparison("active", True),
        Comparison("EXTERNALID", "x"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        'userName ne "a"',
        'userName co "a"',
        "userName pr",
        'userName eq "a" or userName eq "b"',
        '(userName eq "a")',
        'not (userName eq "a")',
        'emails[type eq "work"]',
        'userName eq "unterminated',
        "userName eq bare",
        "",
        'userName eq "' + "a" * 1100 + '"',
    ],
)
def test_anything_else_is_invalid_filter(text):
    with pytest.raises(ScimError) as caught:
        parse_filter(text)
    assert caught.value.status == 400
    assert caught.value.scim_type == "invalidFilter"


USER = {
    "userName": "a@x.example",
    "emails": [{"value": "a@x.example", "type": "work", "primary": True}],
    "active": True,
}


def test_entra_forms():
    result = apply(
        USERS,
        USER,
        patch(
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Add", "path": 'emails[type eq "home"].value', "value": "a@home.example"},
            {"op": "Add", "path": f"{ENTERPRISE_SCHEMA}:manager", "value": "m-1"},
            {"op": "Replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:displayName", "value": "A"},
        ),
    )
    assert result["active"] is False
    assert result["emails"][1] == {"type": "home", "value": "a@home.example"}
    assert result[ENTERPRISE_SCHEMA] == {"manager": {"value": "m-1"}}
    assert result["displayName"] == "A"


def test_group_member_forms():
    group = {"displayName": "G", "members": [{"value": "u1"}, {"value": "u2"}, {"value": "u3"}]}
    result = apply(
        GROUPS,
        group,
        patch(
            {"op": "remove", "path": 'members[value eq "u1"]'},
            {"op": "remove", "path": "members", "value": [{"value": "u2"}]},
            {"op": "add", "path": "members", "value": [{"value": "u3"}, {"value": "u4"}]},
        ),
    )
    assert result["members"] == [{"value": "u3"}, {"value": "u4"}]


def test_a_failing_operation_leaves_the_document_untouched():
    original = copy.deepcopy(USER)
    with pytest.raises(ScimError) as caught:
        apply(
            USERS,
            USER,
            patch(
                {"op": "replace", "path": "title", "value": "x"}, {"op": "add", "path": "nope", "value": 1}
            ),
        )
    assert caught.value.scim_type == "invalidPath"
    assert original == USER
