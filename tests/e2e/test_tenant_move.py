"""The walk-through of docs/cells.md: `contoso` moves from its dedicated cell to the pooled one and back
through `saas tenants move --local` while a client keeps writing through the local CloudFront; every write
is accepted before or after the freeze (503s retried after Retry-After, 401s refreshed), none is lost."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest

from local.environment import LOCAL_CELL_DIRECTORY_TTL
from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import sign_in

pytestmark = pytest.mark.e2e

MAX_RETRY_SLEEP = 1.0  # the freeze lasts well under a second here; Retry-After (5 s) is an upper bound


@dataclass
class Writer:
    """Creates projects one after another until stopped, the way a well-behaved client does."""

    client: httpx.Client
    anonymous: httpx.Client  # refresh needs no access token
    refresh_token: str
    stop: threading.Event = field(default_factory=threading.Event)
    accepted: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)

    def run(self) -> None:
        while not self.stop.is_set():
            name = f"w-{uuid.uuid4().hex[:10]}"
            self._write(name)

    def _write(self, name: str) -> None:
        key = str(uuid.uuid4())
        for _ in range(50):
            response = self.client.post(
                "/api/v1/projects", json={"name": name}, headers={"Idempotency-Key": key}
            )
            self.statuses[response.status_code] += 1
            if response.status_code == 201:
                self.accepted.append(name)
                return
            if response.status_code == 503:
                time.sleep(min(float(response.headers["retry-after"]), MAX_RETRY_SLEEP))
            elif response.status_code == 401:
                self._refresh()
            else:
                self.unexpected.append(f"{response.status_code} {response.text}")
                return
        self.unexpected.append(f"{name}: never accepted")

    def _refresh(self) -> None:
        refreshed = self.anonymous.post(
            "/api/v1/sessions/refresh", json={"refresh_token": self.refresh_token}
        )
        assert refreshed.status_code == 200, refreshed.text
        body = refreshed.json()
        self.refresh_token = body["refresh_token"]
        self.client.headers["authorization"] = f"Bearer {body['access_token']}"


def project_names(owner_url: str, tenant_id: str) -> list[str]:
    with psycopg.connect(owner_url) as conn:
        conn.execute("SELECT app.set_tenant(%s)", (uuid.UUID(tenant_id),))
        return [row[0] for row in conn.execute("SELECT name FROM projects WHERE name LIKE 'w-%'")]


def on_pro_plan(owner_url: str, tenant_id: str) -> None:
    """Pro has no project limit, so the writer can go on for as long as the moves take."""
    with psycopg.connect(owner_url) as conn:
        conn.execute("SELECT app.set_tenant(%s)", (uuid.UUID(tenant_id),))
        conn.execute("UPDATE tenants SET plan = 'pro' WHERE id = %s", (uuid.UUID(tenant_id),))


def test_contoso_moves_out_and_back_while_a_client_keeps_writing(stack: RunningStack) -> None:
    first = sign_in(stack, "gina@example.com", "contoso")
    first.close()
    on_pro_plan(stack.state.cells["contoso"]["owner"], first.tenant_id)
    contoso = sign_in(stack, "gina@example.com", "contoso")
    writer = Writer(contoso.client, stack.client(), contoso.refresh_token)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    try:
        time.sleep(1)
        settle = str(LOCAL_CELL_DIRECTORY_TTL)
        out = stack.saas(
            "tenants", "move", "contoso", "--to", "pooled", "--local", "--settle-seconds", settle
        )
        assert "moved tenant" in out.stdout, out.stdout
        time.sleep(1)
        back = stack.saas(
            "tenants", "move", "contoso", "--to", "contoso", "--local", "--settle-seconds", settle
        )
        assert "moved tenant" in back.stdout, back.stdout
        time.sleep(1)
    finally:
        writer.stop.set()
        thread.join(60)
        contoso.close()
        writer.anonymous.close()

    assert writer.unexpected == [], f"{writer.unexpected}\nthe stack's log ends:\n{stack.log_tail(8000)}"
    assert len(writer.accepted) > 10
    dedicated = project_names(stack.state.cells["contoso"]["owner"], contoso.tenant_id)
    assert sorted(dedicated) == sorted(writer.accepted)  # every accepted write, once, in the tenant's cell
    assert project_names(stack.state.owner_database_url, contoso.tenant_id) == []
    print(f"writes accepted {len(writer.accepted)}, responses {dict(writer.statuses)}")
