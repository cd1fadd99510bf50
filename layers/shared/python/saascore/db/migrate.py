"""Tiny SQL migration runner: numbered files shipped as package data, applied in order.

Each migration runs in its own transaction together with the row that records it (version, name,
SHA-256 of the file). Before anything is applied, every recorded checksum is compared with the file on
disk: an edited applied migration stops the run with a clear error. A session advisory lock serialises
concurrent runs (the second waits, then finds nothing to do). Migrations run as the owner role, never on
the request path, so the session lock and plain SQL are fine here.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from importlib import resources

import psycopg

from saascore.exceptions import MigrationError
from saascore.observability import get_logger

MIGRATIONS_PACKAGE = "saascore.db.migrations"
MIGRATION_FILE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
LOCK_KEY = 0x5AA5_0001  # pg_advisory_lock key shared by every migrate run

logger = get_logger("migrate")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def filename(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"


def discover(package: str = MIGRATIONS_PACKAGE) -> list[Migration]:
    found: dict[int, Migration] = {}
    for entry in resources.files(package).iterdir():
        match = MIGRATION_FILE.match(entry.name)
        if match is None:
            continue
        migration = Migration(int(match["version"]), match["name"], entry.read_text(encoding="utf-8"))
        if migration.version in found:
            raise MigrationError(
                f"two migrations share version {migration.version:04d}: "
                f"{found[migration.version].filename} and {migration.filename}"
            )
        found[migration.version] = migration
    return [found[version] for version in sorted(found)]


def _ensure_history_table(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    conn.execute(
        """
        CREATE SCHEMA IF NOT EXISTS migrations;
        CREATE TABLE IF NOT EXISTS migrations.schema_migrations (
            version      integer PRIMARY KEY,
            name         text NOT NULL,
            checksum     text NOT NULL,
            applied_at   timestamptz NOT NULL DEFAULT now(),
            duration_ms  integer NOT NULL
        );
        """
    )


def _verify_applied(applied: dict[int, tuple[str, str]], available: list[Migration]) -> None:
    by_version = {migration.version: migration for migration in available}
    for version, (name, checksum) in sorted(applied.items()):
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(
                f"migration {version:04d}_{name} is recorded as applied but its file is missing"
            )
        if migration.checksum != checksum:
            raise MigrationError(
                f"migration {migration.filename} was edited after it was applied "
                f"(recorded sha256 {checksum[:12]}…, file sha256 {migration.checksum[:12]}…); "
                "add a new migration instead of changing an applied one"
            )


def migrate(conninfo: str, *, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply pending migrations; returns the ones applied by this call (empty when up to date)."""
    available = discover() if migrations is None else migrations
    applied_now: list[Migration] = []
    with psycopg.connect(conninfo, autocommit=True, prepare_threshold=None) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            _ensure_history_table(conn)
            rows = conn.execute("SELECT version, name, checksum FROM migrations.schema_migrations").fetchall()
            applied = {int(version): (str(name), str(checksum)) for version, name, checksum in rows}
            _verify_applied(applied, available)
            for migration in available:
                if migration.version in applied:
                    continue
                started = time.perf_counter()
                try:
                    with conn.transaction():
                        conn.execute(migration.sql.encode())
                        conn.execute(
                            "INSERT INTO migrations.schema_migrations (version, name, checksum, duration_ms)"
                            " VALUES (%s, %s, %s, %s)",
                            (
                                migration.version,
                                migration.name,
                                migration.checksum,
                                int((time.perf_counter() - started) * 1000),
                            ),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(f"migration {migration.filename} failed: {exc}") from exc
                logger.info("migration applied", extra={"migration": migration.filename})
                applied_now.append(migration)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    return applied_now
