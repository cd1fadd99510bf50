from __future__ import annotations

from tests.support.stripe_stub import stripe_stub

__all__ = ["stripe_stub"]
