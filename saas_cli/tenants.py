"""`saas tenants …`: operator commands on one tenant's data and state.

The group is assembled from small modules so each concern owns its own subcommands: lifecycle
(`suspend|reactivate|offboard`), archives (`export|restore`), placement (`move`).
"""

from __future__ import annotations

from typing import Any

from saas_cli.registry import register_modules

TENANT_COMMAND_MODULES = (
    "saas_cli.tenant_lifecycle",
    "saas_cli.tenant_archive",
    "saas_cli.tenant_move",
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("tenants", help="operate on one tenant: lifecycle, archives, placement")
    register_modules(parser.add_subparsers(dest="tenant_command", required=True), TENANT_COMMAND_MODULES)
