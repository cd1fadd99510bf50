"""A real hot standby of a local cluster: `pg_basebackup -R` from the primary, started on its own port.

The standby streams WAL from the primary over a physical replication slot (so the primary keeps what a
stopped standby still needs) and answers read-only queries (hot standby). Roles, passwords, databases
and RLS policies arrive by replication; nothing is created on the standby. The same binaries as the
primary's are used (PATH, else the pgserver wheel; see `local.postgres.server_binaries`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from local.postgres import LocalCluster, PostgresError, _chown_tree, _open_parents

SLOT_PREFIX = "saas_standby_"


@dataclass(frozen=True, slots=True)
class ReplicationLag:
    """What the standby reports: WAL received vs replayed, and the age of the last replayed commit."""

    receive_lsn: str | None
    replay_lsn: str | None
    replay_paused: bool
    last_replay_age_seconds: float | None
    behind_bytes: int | None  # WAL the primary has written (inserted) that the standby has not replayed


class LocalStandby(LocalCluster):
    """A streaming replica of ``primary`` under ``root``; ``start()`` takes the base backup on first use."""

    def __init__(self, primary: LocalCluster, root: Path, *, port: int | None = None) -> None:
        super().__init__(root, port=port, durable=primary.durable)
        self.primary = primary
        self.secrets_file = primary.secrets_file  # the roles are the primary's, replicated
        self.slot = SLOT_PREFIX + str(primary.port)

    def initialise(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if self.account is not None:
            _open_parents(self.root)
            _chown_tree(self.root, self.account)
        with psycopg.connect(self.primary.urls.admin, autocommit=True) as conn:
            # A slot left by a standby whose data directory is gone would pin WAL for nothing.
            conn.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                (self.slot,),
            )
        result = self._run(
            "pg_basebackup",
            "--host=127.0.0.1",
            f"--port={self.primary.port}",
            "--username=postgres",
            f"--pgdata={self.data}",
            "--write-recovery-conf",
            "--wal-method=stream",
            "--checkpoint=fast",
            "--create-slot",
            f"--slot={self.slot}",
            "--no-password",
            env={"PGPASSWORD": self._passwords()["postgres"]},
        )
        if result.returncode != 0:
            raise PostgresError(f"pg_basebackup failed: {result.stderr.strip()}")

    def bootstrap(self) -> None:
        """Nothing to create on a standby: wait until it accepts read-only connections."""
        self.wait_until_ready()

    def lag(self) -> ReplicationLag:
        with psycopg.connect(self.primary.urls.admin, autocommit=True) as primary:
            current = primary.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
        with psycopg.connect(self.urls.admin, autocommit=True) as standby:
            row = standby.execute(
                "SELECT pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text, "
                "pg_is_wal_replay_paused(), "
                "extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8, "
                "pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())::bigint",
                (current[0] if current else None,),
            ).fetchone()
        assert row is not None
        return ReplicationLag(row[0], row[1], bool(row[2]), row[3], row[4])

    def wait_for_replay(self, timeout: float = 30.0) -> None:
        """Block until the standby has replayed everything the primary had written when this was called."""
        self._wait_for("pg_last_wal_replay_lsn()", timeout)

    def wait_for_receive(self, timeout: float = 30.0) -> None:
        """Block until the standby has received (not necessarily replayed) the primary's WAL so far."""
        self._wait_for("pg_last_wal_receive_lsn()", timeout)

    def _wait_for(self, position: str, timeout: float) -> None:
        with psycopg.connect(self.primary.urls.admin, autocommit=True) as primary:
            target = primary.execute("SELECT pg_current_wal_insert_lsn()").fetchone()
            # WAL is streamed once flushed; a throwaway cluster commits asynchronously, so flush it
            # now with one synchronous commit (an xid makes it write a commit record).
            primary.execute("SET synchronous_commit = on")
            primary.execute("SELECT txid_current()")
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.urls.admin, autocommit=True) as standby:
            while True:
                done = standby.execute(
                    f"SELECT {position} >= %s::pg_lsn", (target[0] if target else None,)
                ).fetchone()
                if done and done[0]:
                    return
                if time.monotonic() > deadline:
                    raise PostgresError(
                        f"the standby did not reach {target} ({position}) within {timeout:.0f} s"
                    )
                time.sleep(0.02)
