"""The refresh token's format."""

from __future__ import annotations

import uuid

import pytest

from api.exceptions import (
    UnauthenticatedError,
)
from api.services.sessions import parse_refresh_token


def test_refresh_token_format():
    tenant = uuid.uuid4()
    parsed_tenant, digest = parse_refresh_token(f"{tenant}.secret")
    assert parsed_tenant == tenant
    assert len(digest) == 32
    for bad in ("secret", f"{tenant}.", "not-a-uuid.secret"):
        with pytest.raises(UnauthenticatedError):
            parse_refresh_token(bad)
