"""The billing tenants and fresh processor caches of the webhook tests, for the CLI's webhook commands."""

from __future__ import annotations

from tests.integration.webhooks.conftest import _fresh_caches, make_tenant, tenant

__all__ = ["_fresh_caches", "make_tenant", "tenant"]
