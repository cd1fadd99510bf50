"""The README walk-through's steps as functions: dev IdP token → session → authenticated client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.e2e.conftest import RunningStack


@dataclass
class Session:
    access_token: str
    refresh_token: str
    tenant_id: str
    user_id: str
    plan: str
    client: httpx.Client

    def close(self) -> None:
        self.client.close()


def idp_token(stack: RunningStack, email: str, tenant: str) -> str:
    """`saas token --email … --tenant …` (signs the tenant up on first use) → the IdP token."""
    return stack.saas("token", "--email", email, "--tenant", tenant).stdout.strip()


def sign_in(stack: RunningStack, email: str, tenant: str) -> Session:
    token = idp_token(stack, email, tenant)
    with stack.client() as anonymous:
        created = anonymous.post("/api/v1/sessions", json={"id_token": token, "tenant": tenant})
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return Session(
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
        tenant_id=body["tenant_id"],
        user_id=body["user_id"],
        plan=body["plan"],
        client=stack.client(body["access_token"]),
    )
