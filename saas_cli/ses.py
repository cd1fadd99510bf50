"""`saas ses dkim --env dev [--route53 [--hosted-zone-id Z]]`: the Easy DKIM records of the stack's SES identity.

The deploy creates the identity (`ses_identity` in `cdk.json`); SES verifies a domain once its three DKIM
CNAMEs resolve. Without `--route53` the records are printed for any DNS provider; with it they are
upserted into the public hosted zone for the domain (the one given, or the account's zone whose name is
the domain or its closest parent). Records already in place are left alone, so a second run changes
nothing. An address identity (`ses_identity` with `@`) has no DKIM records: SES mails it a link instead.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from saas_cli.deployment import Deployment, DeploymentError, deployment

DKIM_TTL_SECONDS = 1800
SANDBOX_NOTE = (
    "New SES accounts are in the sandbox (200 messages a day, verified recipients only). Ask for production "
    "access once per account and region: aws sesv2 put-account-details --production-access-enabled "
    "--mail-type TRANSACTIONAL --website-url https://<your domain> --use-case-description '<what you send>' "
    "(docs/deploy.md, step 6)"
)


@dataclass(frozen=True)
class DkimRecord:
    name: str
    value: str

    def line(self) -> str:
        return f"{self.name}. {DKIM_TTL_SECONDS} IN CNAME {self.value}."


@dataclass(frozen=True)
class DkimStatus:
    identity: str
    verified: bool
    dkim_status: str
    records: tuple[DkimRecord, ...]


def dkim_status(target: Deployment) -> DkimStatus:
    identity = target.config.ses_identity
    ses = target.client("ses")
    verification = ses.get_identity_verification_attributes(Identities=[identity])["VerificationAttributes"]
    if identity not in verification:
        raise DeploymentError(
            f"SES has no identity {identity} in {target.config.region}; deploy the stacks first "
            f"(`npx cdk deploy --all -c env={target.config.name}`)"
        )
    verified = verification[identity].get("VerificationStatus") == "Success"
    if "@" in identity:
        return DkimStatus(identity, verified, "address identity", ())
    attributes = ses.get_identity_dkim_attributes(Identities=[identity])["DkimAttributes"].get(identity, {})
    records = tuple(
        DkimRecord(f"{token}._domainkey.{identity}", f"{token}.dkim.amazonses.com")
        for token in attributes.get("DkimTokens", [])
    )
    return DkimStatus(
        identity, verified, str(attributes.get("DkimVerificationStatus", "NotStarted")), records
    )


def hosted_zone_for(route53: Any, domain: str) -> str | None:
    """The public zone whose name is the domain or its closest parent."""
    zones = [
        zone
        for page in route53.get_paginator("list_hosted_zones").paginate()
        for zone in page["HostedZones"]
        if not zone.get("Config", {}).get("PrivateZone")
    ]
    matches = [
        zone for zone in zones if f"{domain}.".endswith("." + zone["Name"]) or f"{domain}." == zone["Name"]
    ]
    if not matches:
        return None
    best = max(matches, key=lambda zone: len(zone["Name"]))
    zone_id: str = best["Id"].rsplit("/", 1)[-1]
    return zone_id


def missing_records(route53: Any, zone_id: str, records: tuple[DkimRecord, ...]) -> list[DkimRecord]:
    missing = []
    for record in records:
        found = route53.list_resource_record_sets(
            HostedZoneId=zone_id, StartRecordName=record.name, StartRecordType="CNAME", MaxItems="1"
        )["ResourceRecordSets"]
        values = [
            item["Value"].rstrip(".")
            for entry in found
            if entry["Name"].rstrip(".") == record.name and entry["Type"] == "CNAME"
            for item in entry.get("ResourceRecords", [])
        ]
        if values != [record.value]:
            missing.append(record)
    return missing


def publish(target: Deployment, status: DkimStatus, *, zone_id: str | None) -> tuple[str, list[DkimRecord]]:
    """Upsert the records that are not in place yet; returns the zone and what was written."""
    route53 = target.client("route53")
    zone = zone_id or hosted_zone_for(route53, status.identity)
    if zone is None:
        raise DeploymentError(
            f"no public Route 53 hosted zone for {status.identity} in this account; add the records printed "
            "without --route53 at your DNS provider"
        )
    missing = missing_records(route53, zone, status.records)
    if missing:
        route53.change_resource_record_sets(
            HostedZoneId=zone,
            ChangeBatch={
                "Comment": f"SES Easy DKIM for {status.identity} (saas ses dkim)",
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": record.name,
                            "Type": "CNAME",
                            "TTL": DKIM_TTL_SECONDS,
                            "ResourceRecords": [{"Value": record.value}],
                        },
                    }
                    for record in missing
                ],
            },
        )
    return zone, missing


def run_dkim(args: argparse.Namespace) -> int:
    try:
        target = deployment(args.env, region=args.region)
        status = dkim_status(target)
        print(f"SES identity {status.identity}: {'verified' if status.verified else 'NOT verified yet'}")
        if not status.records:
            print("an address identity: SES mailed it a verification link; there are no DKIM records")
        elif args.route53:
            zone, written = publish(target, status, zone_id=args.hosted_zone_id)
            for record in written:
                print(f"upserted in {zone}: {record.line()}")
            if not written:
                print(f"nothing to change: the {len(status.records)} DKIM records are in hosted zone {zone}")
        else:
            print(f"DKIM ({status.dkim_status}): publish these records at your DNS provider:")
            for record in status.records:
                print(record.line())
    except DeploymentError as exc:
        print(f"saas ses dkim: {exc}", file=sys.stderr)
        return 1
    print(SANDBOX_NOTE)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ses_parser = subparsers.add_parser("ses", help="SES identity of a deployed environment")
    commands = ses_parser.add_subparsers(dest="ses_command", required=True)
    parser = commands.add_parser("dkim", help="print the DKIM records, or upsert them into Route 53")
    parser.add_argument("--env", required=True, choices=("dev", "prod"))
    parser.add_argument("--region", help="override the environment's home region")
    parser.add_argument(
        "--route53", action="store_true", help="upsert the records into the domain's hosted zone"
    )
    parser.add_argument("--hosted-zone-id", help="the zone to write to (default: found by the domain's name)")
    parser.set_defaults(handler=run_dkim)
