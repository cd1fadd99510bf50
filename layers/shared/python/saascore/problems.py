"""RFC 9457 problem details, shared by every HTTP-facing adapter of the origin."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://errors.saas.example/"


@dataclass(frozen=True, slots=True)
class Problem:
    status: int
    title: str
    slug: str = "about:blank"
    detail: str | None = None
    instance: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return "about:blank" if self.slug == "about:blank" else PROBLEM_TYPE_BASE + self.slug

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail is not None:
            body["detail"] = self.detail
        if self.instance is not None:
            body["instance"] = self.instance
        body.update(self.extensions)
        return body
