"""A writing request never reads from the replica: ``ReplicaTx`` is the request's own transaction."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from starlette.requests import Request

from api.deps import replica_tx
from saascore.db.connection import Database
from saascore.settings import DatabaseSettings


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_writing_request_reads_its_own_transaction_even_with_a_replica(method):
    settings = DatabaseSettings.model_validate(
        {"DATABASE_URL": "postgresql://a@127.0.0.1:1/x", "DATABASE_READ_URL": "postgresql://a@127.0.0.1:2/x"}
    )
    primary_conn = object()
    request = Request({"type": "http", "method": method, "headers": [], "path": "/"})
    principal = type("P", (), {"tenant_id": uuid.uuid4()})()

    async def first() -> object:
        generator = replica_tx(request, principal, primary_conn, Database(settings))  # type: ignore[arg-type]
        return await anext(generator)

    assert asyncio.run(first()) is primary_conn
