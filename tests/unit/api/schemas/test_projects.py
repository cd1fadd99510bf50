"""Project request models refuse unknown fields and nulls."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.schemas.projects import ProjectCreate, ProjectUpdate


def test_request_models_refuse_unknown_fields_and_nulls():
    with pytest.raises(ValidationError):
        ProjectCreate.model_validate({"name": "x", "extra": 1})
    with pytest.raises(ValidationError):
        ProjectUpdate.model_validate({"name": None})
    assert ProjectUpdate.model_validate({}).model_fields_set == set()
