"""No request-path code may send SQL that makes RDS Proxy pin a connection (DESIGN.md §4).

Scans every string literal in the Lambda code roots (functions/*, the shared layer) except the migration
machinery, which runs as the owner at deploy time and never through the proxy, and the tenant mover (an
operator's command).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
REQUEST_PATH_ROOTS = [ROOT / "functions", ROOT / "layers" / "shared" / "python"]
NOT_REQUEST_PATH = {
    ROOT / "layers/shared/python/saascore/db/migrate.py",
    ROOT / "layers/shared/python/saascore/db/migrate_handler.py",
    # `saas tenants move` runs as each cell's owner from an operator's shell, one session per cell: a
    # pinned connection there costs nothing (its lock_timeout is SET LOCAL).
    ROOT / "layers/shared/python/saascore/moves/repositories/moves.py",
}
MAX_STATEMENT_BYTES = 16 * 1024

FORBIDDEN = {
    "session SET/RESET": re.compile(r"(?:^|;)\s*(?:SET|RESET)\s+(?!LOCAL\s+ROLE\b)[a-z_]", re.IGNORECASE),
    "set_config": re.compile(r"\bset_config\s*\(", re.IGNORECASE),
    "PREPARE/DEALLOCATE": re.compile(r"(?:^|;)\s*(?:PREPARE|DEALLOCATE|EXECUTE)\s+\w", re.IGNORECASE),
    "sequences": re.compile(r"\b(?:nextval|setval|currval)\s*\(", re.IGNORECASE),
    "session advisory locks": re.compile(
        r"\bpg_(?:try_)?advisory_(?:un)?lock(?:_shared)?\s*\(", re.IGNORECASE
    ),
    "temporary tables": re.compile(
        r"\bCREATE\s+(?:GLOBAL\s+|LOCAL\s+)?TEMP(?:ORARY)?\s+TABLE\b", re.IGNORECASE
    ),
    "LISTEN/NOTIFY": re.compile(r"(?:^|;)\s*(?:LISTEN|UNLISTEN)\s+\w", re.IGNORECASE),
    "DECLARE cursors": re.compile(
        r"(?:^|;)\s*DECLARE\s+\w+\s+(?:BINARY\s+|NO\s+SCROLL\s+|SCROLL\s+)*CURSOR\b", re.IGNORECASE
    ),
}


def request_path_sources() -> list[Path]:
    files = []
    for root in REQUEST_PATH_ROOTS:
        files += [p for p in root.rglob("*.py") if p not in NOT_REQUEST_PATH and "migrations" not in p.parts]
    return sorted(files)


def string_literals(path: Path) -> list[tuple[int, str]]:
    """Every string constant except docstrings (prose may name what the code must not do)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def violations_in(source: str) -> list[str]:
    return [label for label, pattern in FORBIDDEN.items() if pattern.search(source)]


def test_scanner_finds_every_forbidden_construct():
    samples = {
        "SET search_path = x": "session SET/RESET",
        "select 1; set statement_timeout = 5": "session SET/RESET",
        "SELECT set_config('app.tenant_id', %s, true)": "set_config",
        "PREPARE q AS SELECT 1": "PREPARE/DEALLOCATE",
        "DEALLOCATE ALL": "PREPARE/DEALLOCATE",
        "SELECT nextval('s')": "sequences",
        "SELECT pg_advisory_lock(1)": "session advisory locks",
        "CREATE TEMP TABLE t (x int)": "temporary tables",
        "LISTEN jobs": "LISTEN/NOTIFY",
        "DECLARE c CURSOR FOR SELECT 1": "DECLARE cursors",
    }
    for statement, label in samples.items():
        assert label in violations_in(statement), statement


def test_scanner_allows_what_the_request_path_needs():
    for statement in (
        "UPDATE projects SET name = %s WHERE id = %s",
        "SELECT app.set_tenant(%s, %s)",
        "SELECT pg_advisory_xact_lock(hashtext(%s))",
        "INSERT INTO t (x) VALUES (%s) ON CONFLICT (x) DO UPDATE SET x = EXCLUDED.x",
    ):
        assert violations_in(statement) == [], statement


def test_request_path_sql_never_pins_the_proxy():
    sources = request_path_sources()
    assert any(p.name == "tenancy.py" for p in sources)
    found = []
    for path in sources:
        for line, literal in string_literals(path):
            for label in violations_in(literal):
                found.append(f"{path.relative_to(ROOT)}:{line}: {label}: {literal.strip()[:80]!r}")
            if len(literal.encode()) > MAX_STATEMENT_BYTES:
                found.append(f"{path.relative_to(ROOT)}:{line}: statement over 16 KB")
    assert found == []


@pytest.mark.parametrize("path", list(NOT_REQUEST_PATH))
def test_exempt_files_exist(path):
    assert path.exists(), "update NOT_REQUEST_PATH when migration files move"
