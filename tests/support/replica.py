"""A real streaming replica of the test cluster: `pg_basebackup -R` + a hot standby on its own port.

Session-scoped (one base backup per run); every test database cloned on the primary arrives on the
standby by replication, so a test reads its own database from both. Needs the cluster this run owns:
with an external DATABASE_URL there is nothing to take a base backup of, and the replica tests skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.postgres import APP_ROLE
from local.replica import LocalStandby
from tests.support.postgres import PgServer, TestDatabase, with_credentials


def start_standby(server: PgServer, root: Path) -> Iterator[LocalStandby]:
    if server.cluster is None:
        reason = "DATABASE_URL names a server this run does not own: no base backup to take"
        if os.environ.get("CI"):
            pytest.fail(reason + " — on CI the replica tests must run")
        pytest.skip(reason)
    standby = LocalStandby(server.cluster, root)
    standby.start()
    try:
        yield standby
    finally:
        standby.stop(mode="immediate")


def standby_app_url(standby: LocalStandby, database: TestDatabase) -> str:
    """The app role's URL for ``database`` on the standby (waits until the standby has it)."""
    standby.wait_for_replay()
    url = with_credentials(
        database.server.admin_url, user=APP_ROLE, password=database.server.app_password, dbname=database.name
    )
    return url.replace(f":{database.server.port}/", f":{standby.port}/")
