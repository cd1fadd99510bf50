from __future__ import annotations

from tests.integration.api.harness import api

__all__ = ["api"]
