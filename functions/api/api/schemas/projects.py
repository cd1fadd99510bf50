from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import RequestModel

ProjectName = Annotated[str, Field(min_length=1, max_length=200)]
ProjectDescription = Annotated[str, Field(max_length=5000)]
ProjectStatus = Literal["active", "archived"]
ProjectSort = Literal["created_at", "-created_at", "name", "-name"]


class ProjectCreate(RequestModel):
    name: ProjectName
    description: ProjectDescription = ""
    status: ProjectStatus = "active"


class ProjectUpdate(RequestModel):
    name: ProjectName | None = None
    description: ProjectDescription | None = None
    status: ProjectStatus | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> ProjectUpdate:
        nulls = [name for name in self.model_fields_set if getattr(self, name) is None]
        if nulls:
            raise ValueError(f"{', '.join(sorted(nulls))} cannot be null; omit a field to keep it")
        return self


class Project(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    status: ProjectStatus
    version: int
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
