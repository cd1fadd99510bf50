from __future__ import annotations

import pytest

from tests.integration.api.harness import ApiHarness, Session, api

__all__ = ["api"]


@pytest.fixture
def fuzz_session(api: ApiHarness) -> Session:
    """An owner on the Pro plan (no plan limits in the way of the fuzzer)."""
    owner = api.sign_up()
    api.set_plan(owner.tenant_id, "pro")
    return owner
