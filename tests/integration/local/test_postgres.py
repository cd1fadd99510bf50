"""The throwaway cluster works without PostgreSQL on PATH, from the binaries the pgserver wheel ships."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import psycopg
import pytest

from local import postgres
from local.postgres import LocalCluster, PostgresError, port_is_free


def test_binaries_fall_back_to_the_pgserver_wheel(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    bundled = postgres.server_binaries()
    assert bundled.parts[-3:] == ("pgserver", "pginstall", "bin")
    assert (bundled / "initdb").exists()


@pytest.mark.slow
def test_a_cluster_from_the_wheel_starts_bootstraps_and_stops(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    cluster = LocalCluster(tmp_path / "pg", durable=False)
    cluster.start()
    try:
        with psycopg.connect(cluster.urls.admin) as conn:
            version = conn.execute("SHOW server_version").fetchone()
        assert version is not None
        with psycopg.connect(cluster.urls.app) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("saas_app",)
    finally:
        cluster.stop()
    assert port_is_free(cluster.port)


def test_a_taken_port_is_a_clear_error(tmp_path: Path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cluster = LocalCluster(tmp_path / "pg", port=port, durable=False)
        try:
            with pytest.raises(PostgresError, match=f"port {port} is taken"):
                cluster.start()
        finally:
            cluster.stop(mode="immediate")
