"""RFC 9110 If-Match handling of project updates."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from api.exceptions import (
    PreconditionFailedError,
    PreconditionRequiredError,
)
from api.schemas.projects import Project
from api.services.projects import check_if_match

NOW = datetime(2026, 11, 24, tzinfo=UTC)


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
