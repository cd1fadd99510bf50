"""Route modules load on first use: the table covers every module and path, and a cold import is lean."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
import threading

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

import api.routes
from api.route_loader import RouteLoader, RouteLoaderMiddleware, serves
from api.routes import ROUTE_MODULES
from api.versioning import VERSIONS, openapi_url


def _paths(module: str) -> set[str]:
    router = importlib.import_module(module).router
    return {route.path for route in router.routes if isinstance(route, APIRoute)}


def test_every_route_module_is_in_the_table():
    on_disk = {f"api.routes.{info.name}" for info in pkgutil.iter_modules(api.routes.__path__)}
    assert on_disk == set(ROUTE_MODULES), "add the module and its path prefixes to api.routes.ROUTE_MODULES"


@pytest.mark.parametrize("module", sorted(ROUTE_MODULES))
def test_each_module_serves_exactly_its_own_paths(module):
    paths = _paths(module)
    assert paths
    for path in paths:
        owners = [name for name, prefixes in ROUTE_MODULES.items() if any(serves(p, path) for p in prefixes)]
        assert owners == [module], f"{path} is served by {owners}, declared in {module}"


def test_prefixes_match_whole_segments():
    assert serves("/api/v1/roles", "/api/v1/roles")
    assert serves("/api/v1/roles", "/api/v1/roles/42")
    assert not serves("/api/v1/roles", "/api/v1/roles-archive")
    assert serves("/.well-known", "/.well-known/jwks.json")


def _probe(code: str, **env: str) -> list[str]:
    script = (
        "import json, sys\n"
        f"{code}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('api.routes.', 'psycopg')) "
        "and m.count('.') <= 2)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env={**os.environ, **env}
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_a_cold_import_loads_no_route_module_and_no_database_driver():
    assert _probe("import api.main") == []


def test_a_request_loads_only_the_module_that_serves_it():
    loaded = _probe(
        "from fastapi.testclient import TestClient\n"
        "import api.main\n"
        "assert TestClient(api.main.app).get('/api/v1/health').json() == {'status': 'ok'}"
    )
    assert loaded == ["api.routes.health"]


def test_provisioned_concurrency_builds_every_route_during_initialisation():
    loaded = _probe("import api.main", AWS_LAMBDA_INITIALIZATION_TYPE="provisioned-concurrency")
    assert set(ROUTE_MODULES) <= set(loaded)
    assert "psycopg" in loaded


def _fresh_app() -> tuple[FastAPI, RouteLoader]:
    app = FastAPI()
    loader = RouteLoader(
        app, {"api.routes.health": ("/api/v1/health",), "api.routes.usage": ("/api/v1/usage",)}
    )
    app.add_middleware(RouteLoaderMiddleware, loader=loader)
    return app, loader


def _operations(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (method, str(context.path))
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        for method in sorted(context.original_route.methods or ())
    ]


def test_concurrent_first_requests_include_a_module_once():
    app, loader = _fresh_app()
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def first_request() -> None:
        barrier.wait()
        statuses.append(TestClient(app).get("/api/v1/health").status_code)

    threads = [threading.Thread(target=first_request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 4
    assert _operations(app) == [("GET", "/api/v1/health")]
    assert loader.pending == {"api.routes.usage"}


def test_unknown_paths_load_nothing_and_wrong_methods_are_405():
    app, loader = _fresh_app()
    client = TestClient(app)
    assert client.get("/api/v1/nothing-here").status_code == 404
    assert loader.pending == {"api.routes.health", "api.routes.usage"}
    assert client.delete("/api/v1/health").status_code == 405
    assert loader.pending == {"api.routes.usage"}
    loader.load_all()
    assert not loader.pending
    assert {path for _, path in _operations(app)} == {"/api/v1/health", "/api/v1/usage"}


def test_the_openapi_document_lists_every_module(api):
    # Each version's document lists its own modules' paths (api.versioning).
    documented = set()
    for version in VERSIONS:
        documented |= set(api.client.get(openapi_url(version)).json()["paths"])
    for module in ROUTE_MODULES:
        router = importlib.import_module(module).router
        # SCIM's routes opt out: RFC 7644 and its own /Schemas and /ResourceTypes are its contract.
        listed = {r.path for r in router.routes if isinstance(r, APIRoute) and r.include_in_schema}
        assert listed <= documented, module
        assert listed or module == "api.routes.scim", f"{module} documents nothing"
