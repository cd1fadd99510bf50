"""Where producers (API, webhooks, scheduler) send job messages: read from the environment once."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class JobsQueueSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    jobs_queue_url: str | None = Field(default=None, validation_alias="JOBS_QUEUE_URL")
    # Outbox rows younger than this belong to the request path that wrote them; the sweeper leaves them.
    outbox_grace_seconds: int = Field(default=30, ge=0, le=3600, validation_alias="JOBS_OUTBOX_GRACE_SECONDS")


@lru_cache(maxsize=1)
def get_jobs_queue_settings() -> JobsQueueSettings:
    return JobsQueueSettings()
