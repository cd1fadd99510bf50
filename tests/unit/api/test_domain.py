from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from api.exceptions import (
    MalformedRequestError,
    PermissionDeniedError,
    PreconditionFailedError,
    PreconditionRequiredError,
    TenantAccessError,
    UnauthenticatedError,
)
from api.problems import _pointer
from api.schemas.projects import Project, ProjectCreate, ProjectUpdate
from api.services.access import Access, access_from_row, authorize, effective_plan
from api.services.audit import diff
from api.services.idempotency import request_fingerprint
from api.services.identity import Principal
from api.services.pagination import decode_cursor, encode_cursor
from api.services.projects import check_if_match
from api.services.ratelimit import limits_for
from api.services.sessions import parse_refresh_token
from api.services.signing import rsa_jwk, rsa_numbers_from_spki
from api.services.tenancy import parse_experiments, parse_flags
from api.settings import ApiSettings
from saascore.exceptions import ConfigurationError

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def access(permissions, level="full"):
    principal = Principal(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "member", "starter", "t")
    return Access(principal, "member", frozenset(permissions), "starter", level, "active")


def test_spki_parser_matches_cryptography():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    numbers = key.public_numbers()
    assert rsa_numbers_from_spki(der) == (numbers.n, numbers.e)
    jwk = rsa_jwk(numbers.n, numbers.e)
    assert jwk["kty"] == "RSA"
    assert jwk["e"] == "AQAB"
    assert len(jwk["kid"]) == 43  # base64url SHA-256 thumbprint


def test_spki_parser_refuses_non_rsa_documents():
    with pytest.raises(ConfigurationError):
        rsa_numbers_from_spki(bytes.fromhex("3006300102") + b"\x04\x01\x00")


def test_authorize_checks_permission_and_access_level():
    authorize(access({"projects:create"}), "projects:create", "POST")
    with pytest.raises(PermissionDeniedError):
        authorize(access({"projects:read"}), "projects:create", "POST")
    authorize(access({"projects:read"}, "read_only"), "projects:read", "GET")
    with pytest.raises(TenantAccessError):
        authorize(access({"projects:create"}, "read_only"), "projects:create", "POST")
    with pytest.raises(TenantAccessError):
        authorize(access({"projects:read"}, "suspended"), "projects:read", "GET")
    authorize(access({"billing:manage"}, "suspended"), "billing:manage", "POST")


def test_effective_plan_lapses_trial_to_free():
    assert effective_plan("starter", "trialing", NOW + timedelta(days=1), NOW) == "starter"
    assert effective_plan("starter", "trialing", NOW - timedelta(seconds=1), NOW) == "free"
    assert effective_plan("pro", "active", NOW - timedelta(days=9), NOW) == "pro"


def test_audit_diff_keeps_only_changes():
    before = {"name": "a", "version": 1, "status": "active"}
    after = {"name": "b", "version": 2, "status": "active"}
    assert diff(before, after) == ({"name": "a", "version": 1}, {"name": "b", "version": 2})
    assert diff(None, after) == (None, after)
    assert diff(before, None) == (before, None)


def test_cursor_is_bound_to_its_query():
    scope = {"sort": "name", "status": None}
    cursor = encode_cursor(["abc", "id-1"], scope)
    assert decode_cursor(cursor, scope, size=2) == ["abc", "id-1"]
    with pytest.raises(MalformedRequestError):
        decode_cursor(cursor, {**scope, "sort": "-name"}, size=2)
    for junk in ("", "!!!", "e30", "x" * 600):
        with pytest.raises(MalformedRequestError):
            decode_cursor(junk, scope, size=2)


def test_validation_pointer_forms():
    assert _pointer(("body", "name")) == {"pointer": "#/name"}
    assert _pointer(("body", "a/b", 0)) == {"pointer": "#/a~1b/0"}
    assert _pointer(("query", "limit")) == {"query": "limit"}
    assert _pointer(("header", "if-match")) == {"header": "if-match"}


def test_if_match():
    project = Project(
        id=uuid.uuid4(),
        name="p",
        description="",
        status="active",
        version=3,
        created_by=None,
        created_at=NOW,
        updated_at=NOW,
        deleted_at=None,
    )
    check_if_match('"v3"', project)
    check_if_match('W/"v3"', project)
    check_if_match('"v1", "v3"', project)
    check_if_match("*", project)
    with pytest.raises(PreconditionFailedError):
        check_if_match('"v2"', project)
    with pytest.raises(PreconditionRequiredError):
        check_if_match(None, project)


def test_request_models_refuse_unknown_fields_and_nulls():
    with pytest.raises(ValidationError):
        ProjectCreate.model_validate({"name": "x", "extra": 1})
    with pytest.raises(ValidationError):
        ProjectUpdate.model_validate({"name": None})
    assert ProjectUpdate.model_validate({}).model_fields_set == set()


def test_refresh_token_format():
    tenant = uuid.uuid4()
    parsed_tenant, digest = parse_refresh_token(f"{tenant}.secret")
    assert parsed_tenant == tenant
    assert len(digest) == 32
    for bad in ("secret", f"{tenant}.", "not-a-uuid.secret"):
        with pytest.raises(UnauthenticatedError):
            parse_refresh_token(bad)


def test_fingerprint_covers_method_path_and_body():
    base = request_fingerprint("POST", "/a", b"{}")
    assert base != request_fingerprint("PATCH", "/a", b"{}")
    assert base != request_fingerprint("POST", "/b", b"{}")
    assert base != request_fingerprint("POST", "/a", b"{ }")


def test_rate_limits_follow_the_plan():
    assert limits_for("free") == (120, 60)
    assert limits_for("pro") == (3000, 750)
    assert limits_for("unknown-plan") == limits_for("free")


def test_edge_flag_headers_parsing():
    assert parse_flags('{"new-billing":true,"checkout":"b"}') == {"new-billing": True, "checkout": "b"}
    assert parse_flags("not json") == {}
    assert parse_flags("[1]") == {}
    assert parse_experiments("checkout-exp:1,pricing:annual%2Cyearly,junk") == {
        "checkout-exp": "1",
        "pricing": "annual,yearly",
    }
    assert parse_experiments(None) == {}


def test_settings_key_source_rules(monkeypatch):
    monkeypatch.setenv("SESSION_KEY_SOURCE", "kms")
    monkeypatch.delenv("SESSION_KMS_KEY_ID", raising=False)
    with pytest.raises(ConfigurationError, match="SESSION_KMS_KEY_ID"):
        ApiSettings()
    monkeypatch.setenv("SESSION_KEY_SOURCE", "pem")
    monkeypatch.setenv("APP_ENV", "prod")
    with pytest.raises(ConfigurationError, match="PEM"):
        ApiSettings()
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("IDP_AUDIENCES", "a, b,")
    assert ApiSettings().idp_audiences == ("a", "b")
    monkeypatch.setenv("IDP_JWKS", "not json")
    with pytest.raises(ConfigurationError):
        ApiSettings().pinned_idp_keys()


def _access_row(access_level: str, grace_ends_at: datetime | None) -> dict[str, object]:
    return {
        "session_active": True,
        "role_key": "member",
        "permissions": ["projects:read", "projects:create"],
        "plan": "starter",
        "access_level": access_level,
        "billing_grace_ends_at": grace_ends_at,
        "billing_status": "past_due",
        "trial_ends_at": None,
    }


@pytest.mark.parametrize(
    ("stored", "grace_ends_in", "expected"),
    [
        ("grace", timedelta(days=1), "grace"),
        ("grace", timedelta(seconds=-1), "read_only"),
        ("full", timedelta(seconds=-1), "full"),
        ("suspended", None, "suspended"),
    ],
)
def test_an_expired_grace_period_is_enforced_without_waiting_for_a_stripe_event(
    stored, grace_ends_in, expected
):
    now = datetime(2026, 11, 24, tzinfo=UTC)
    principal = Principal(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "member", "starter", "t")
    grace_ends_at = None if grace_ends_in is None else now + grace_ends_in
    access = access_from_row(principal, _access_row(stored, grace_ends_at), now)
    assert access.access_level == expected
    if expected == "read_only":
        authorize(access, "projects:read", "GET")
        with pytest.raises(TenantAccessError):
            authorize(access, "projects:create", "POST")
