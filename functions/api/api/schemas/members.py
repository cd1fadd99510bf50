"""Request and response models of /api/v1/members."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from api.schemas.common import RequestModel
from api.schemas.roles import RoleKey

Email = Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class Member(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID | None
    email: str | None
    display_name: str | None
    role: str
    status: str
    invited_email: str | None
    created_at: datetime


class MemberInvite(RequestModel):
    email: Email
    role: RoleKey = "member"


class MemberUpdate(RequestModel):
    role: RoleKey
