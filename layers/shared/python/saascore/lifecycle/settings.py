"""Lifecycle settings shared by the operator commands and the erasure job."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from pydantic import Field

from saascore.lifecycle.states import MAX_GRACE_DAYS
from saascore.settings import BaseServiceSettings


class LifecycleSettings(BaseServiceSettings):
    # How long an offboarding tenant's data is kept (reads and exports still work) before it is erased.
    erasure_grace_days: int = Field(
        default=30, ge=0, le=MAX_GRACE_DAYS, validation_alias="LIFECYCLE_ERASURE_GRACE_DAYS"
    )

    @property
    def erasure_grace_period(self) -> timedelta:
        return timedelta(days=self.erasure_grace_days)


@lru_cache(maxsize=1)
def get_lifecycle_settings() -> LifecycleSettings:
    return LifecycleSettings()
