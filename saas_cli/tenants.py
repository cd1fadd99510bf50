"""`saas tenants …`: operator commands on one tenant's data and state.

The group is assembled from small modules so each concern owns its own subcommands: lifecycle
(`suspend|reactivate|offboard`), archives (`export|restore`), placement (`move`). Each module exposes
`register(subparsers)`; a module that is missing is simply not offered.
"""

from __future__ import annotations

import importlib
from typing import Any

TENANT_COMMAND_MODULES = (
    "saas_cli.tenant_lifecycle",
    "saas_cli.tenant_archive",
    "saas_cli.tenant_move",
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("tenants", help="operate on one tenant: lifecycle, archives, placement")
    commands = parser.add_subparsers(dest="tenant_command", required=True)
    for name in TENANT_COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(commands)
