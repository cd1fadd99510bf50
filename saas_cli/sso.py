"""`saas sso check-domain`: what the DNS says about a domain's SSO verification record, as the API reads it.

A tenant admin (or an operator helping one) runs it before `POST /api/v1/sso/domains/{id}/verify`:
it looks up the TXT record at `_saas-verification.<domain>` with the same resolver and parsing the API
uses, prints every value there, and with `--token` exits 0 only if the claim's value is among them.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from api.exceptions import DnsLookupError
from api.schemas.sso import VERIFICATION_VALUE_PREFIX
from api.services.dns_txt import DnsPythonResolver, TxtResolver, txt_values
from api.services.sso_domains import challenge_for, normalize_domain


def resolver() -> TxtResolver:
    return DnsPythonResolver()


def run_check(args: argparse.Namespace) -> int:
    domain = normalize_domain(args.domain)
    if domain is None:
        print(
            f"saas sso check-domain: {args.domain!r} is not a domain name with two labels or more",
            file=sys.stderr,
        )
        return 2
    token = (args.token or "").removeprefix(VERIFICATION_VALUE_PREFIX)
    challenge = challenge_for(domain, token or "<token>")
    try:
        values = txt_values(resolver().txt(challenge.record_name))
    except DnsLookupError as exc:
        print(f"saas sso check-domain: {exc.detail}", file=sys.stderr)
        return 3
    verified = bool(token) and challenge.record_value in values
    report: dict[str, Any] = {
        "domain": domain,
        "record_name": challenge.record_name,
        "values": values,
        "verification_values": [value for value in values if value.startswith(VERIFICATION_VALUE_PREFIX)],
    }
    if token:
        report["expected"] = challenge.record_value
        report["verified"] = verified
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{challenge.record_name} TXT: {len(values)} value(s)")
        for value in values:
            print(f"  {value}")
        if token:
            print("verification record found" if verified else f"missing: {challenge.record_value}")
    return 0 if verified or not token else 1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sso", help="per-tenant SSO: verified domains")
    commands = parser.add_subparsers(dest="sso_command", required=True)
    check = commands.add_parser(
        "check-domain",
        help="show the _saas-verification TXT record of a domain (exit 1 if --token is missing)",
    )
    check.add_argument("domain", help="the e-mail domain, e.g. acme.example")
    check.add_argument(
        "--token", help="the claim's token (or its whole saas-verification= value) to look for"
    )
    check.add_argument("--json", action="store_true", help="print a JSON report")
    check.set_defaults(handler=run_check)
