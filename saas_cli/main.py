"""`saas` — operator and developer commands.

Subcommands are registered by small modules so each area owns its own: database (`migrate`), local
stack (`dev`, `token`), webhooks (`webhooks replay|redrive|send`), flags (`flags eval`), a deployed
environment (`stripe connect`, `ses dkim`, `doctor`), one tenant (`tenants …`), operations (`ops`); see `registry`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from saas_cli.registry import register_modules

COMMAND_MODULES = (
    "saas_cli.db",
    "saas_cli.dev",
    "saas_cli.webhooks",
    "saas_cli.flags",
    "saas_cli.cost",
    "saas_cli.stripe_connect",
    "saas_cli.ses",
    "saas_cli.doctor",
    "saas_cli.tenants",
    "saas_cli.ops",
    "saas_cli.sso",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="saas", description="SaaS platform operator commands")
    register_modules(parser.add_subparsers(dest="command", required=True), COMMAND_MODULES)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
