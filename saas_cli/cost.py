"""`saas cost`: what the synthesized stacks cost per month, idle and under load, from committed price tables.

Reads the CloudFormation templates in a cloud assembly (`cdk.out`, no AWS calls), turns every resource into
metered quantities (hours, requests, GB-seconds, GB, MAU) for a given load, sums each meter across the
environment so the always-free allowances apply once, and prices them with `saas_cli/prices/*.json`
(region, date and source of every price recorded there). Time and size figures per unit of load come from
`saas_cli/prices/workload.json`: measured by `make bench` where it measures them, labelled defaults where
not. A resource type the model cannot price is listed and the command exits 1 rather than print a low total.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from saascore.metrics import CATALOG, series_count

PRICES_DIR = Path(__file__).parent / "prices"
HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
DAYS_PER_MONTH = 30
GIB = 1024**3
LOG_COMPRESSION = 0.15  # CloudWatch bills stored logs compressed; JSON logs compress to about this share
XRAY_RESERVOIR_PER_SECOND = 1.0  # Lambda's fixed sampling rule: the first request each second ...
XRAY_FIXED_RATE = 0.05  # ... and 5 % of the rest (Lambda ignores custom sampling rules)
EXIT_UNPRICEABLE = 1
EXIT_USAGE = 2

# Always-free allowances (per account and month); meters in one group share one allowance.
FREE_TIER_GROUPS: dict[str, tuple[str, ...]] = {
    "cloudfront_requests": ("cloudfront_request",),
    "cloudfront_gb_out": ("cloudfront_gb_out",),
    "cloudfront_function_invocations": ("cloudfront_function_invocation",),
    "lambda_requests": ("lambda_request",),
    "lambda_gb_seconds": ("lambda_gb_second_arm64", "lambda_gb_second_x86_64"),
    "sqs_requests": ("sqs_standard_request", "sqs_fifo_request"),
    "cloudwatch_alarms": ("cloudwatch_alarm_metric_month",),
    "cloudwatch_dashboards": ("cloudwatch_dashboard_month",),
    "cloudwatch_metrics": ("cloudwatch_metric_month",),
    "cloudwatch_log_gb": ("cloudwatch_log_gb",),
    "xray_traces": ("xray_trace",),
    "scheduler_invocations": ("scheduler_invocation",),
    "kms_symmetric_requests": ("kms_symmetric_request",),
    "cognito_essentials_mau": ("cognito_mau:ESSENTIALS",),
    "cognito_lite_mau": ("cognito_mau:LITE",),
}

# Types that cost nothing by themselves (their usage is priced where it happens, e.g. SQS at the consumer).
FREE_TYPES = frozenset(
    {
        "AWS::CDK::Metadata",
        "AWS::CloudFront::CachePolicy",
        "AWS::CloudFront::OriginAccessControl",
        "AWS::CloudFront::OriginRequestPolicy",
        "AWS::CloudFront::ResponseHeadersPolicy",
        "AWS::CloudFormation::CustomResource",
        "AWS::Cognito::UserPoolClient",
        "AWS::Cognito::UserPoolDomain",
        "AWS::EC2::InternetGateway",
        "AWS::EC2::LaunchTemplate",
        "AWS::EC2::Route",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::Subnet",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::VPC",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::IAM::InstanceProfile",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::KMS::Alias",
        "AWS::Lambda::Alias",
        "AWS::Lambda::LayerVersion",
        "AWS::Lambda::Permission",
        "AWS::Lambda::Url",
        "AWS::Lambda::Version",
        "AWS::Logs::LogGroup",
        "AWS::Logs::QueryDefinition",
        "AWS::RDS::DBParameterGroup",
        "AWS::RDS::DBProxyTargetGroup",
        "AWS::RDS::DBSubnetGroup",
        "AWS::S3::BucketPolicy",
        "AWS::SES::ConfigurationSet",
        "AWS::SES::ConfigurationSetEventDestination",
        "AWS::SES::Template",
        "AWS::SNS::Subscription",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::Queue",
        "AWS::SQS::QueuePolicy",
        "AWS::Scheduler::ScheduleGroup",
        "AWS::SecretsManager::SecretTargetAttachment",
        "AWS::SecretsManager::ResourcePolicy",
        # Rotation runs once per 30 days: four Lambda calls a month, inside any free tier.
        "AWS::SecretsManager::RotationSchedule",
        "AWS::Serverless::Application",
        "AWS::SSM::Parameter",  # standard-tier parameters (the cross-region handover) are free
        "AWS::XRay::SamplingRule",
    }
)
# Functions that run only while CloudFormation deploys (migrations, the handover readers, log retention).
DEPLOY_TIME_HANDLERS = frozenset(
    {"saascore.db.migrate_handler.handler", "edge_log_retention.handler.handler", "index.handler"}
)


class CostError(Exception):
    """The assembly or the price tables cannot be read."""


class Unpriceable(CostError):
    """Resources the model has no price for; listed rather than silently left out."""

    def __init__(self, items: Sequence[str]) -> None:
        super().__init__("cannot price: " + ", ".join(items))
        self.items = tuple(items)


@dataclass(frozen=True)
class Figure:
    value: float
    kind: str
    source: str


@dataclass(frozen=True)
class Load:
    """Monthly load: monthly active users, authenticated API requests and the request mix."""

    mau: int = 0
    requests: float = 0.0
    webhooks: float = 0.0
    jobs: float = 0.0
    emails: float = 0.0

    @classmethod
    def for_users(cls, mau: int, requests_per_user_day: float, mix: Mapping[str, float]) -> Load:
        return cls(
            mau=mau,
            requests=mau * requests_per_user_day * DAYS_PER_MONTH,
            webhooks=mau * mix["webhooks"],
            jobs=mau * mix["jobs"],
            emails=mau * mix["emails"],
        )


@dataclass(frozen=True)
class Line:
    """One priced item: a resource (or a usage it drives) and the meters it consumes this month."""

    stack: str
    resource: str
    item: str
    meters: Mapping[str, float]


@dataclass(frozen=True)
class PricedLine:
    line: Line
    usd: float


@dataclass(frozen=True)
class Stack:
    name: str
    region: str
    resources: Mapping[str, Mapping[str, Any]]


@dataclass
class Model:
    """The templates of one environment, the prices for their regions and the workload figures."""

    stacks: list[Stack]
    prices: dict[str, dict[str, Any]]
    figures: dict[str, Figure]
    mix: dict[str, float]
    free_tier: dict[str, float] = field(default_factory=dict)

    def figure(self, name: str) -> float:
        return self.figures[name].value

    def resource(self, logical_id: str) -> tuple[Stack, Mapping[str, Any]] | None:
        for stack in self.stacks:
            if logical_id in stack.resources:
                return stack, stack.resources[logical_id]
        return None

    def of_type(self, resource_type: str) -> Iterable[tuple[Stack, str, Mapping[str, Any]]]:
        for stack in self.stacks:
            for logical_id, resource in stack.resources.items():
                if resource["Type"] == resource_type:
                    yield stack, logical_id, resource.get("Properties", {})


# --- loading -------------------------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CostError(f"{path}: {exc}") from exc


def load_stacks(cdk_out: Path) -> list[Stack]:
    manifest = _read_json(cdk_out / "manifest.json")
    stacks: list[Stack] = []
    for name, artifact in sorted(manifest.get("artifacts", {}).items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        region = str(artifact.get("environment", "")).rsplit("/", 1)[-1]
        template_file = artifact.get("properties", {}).get("templateFile", f"{name}.template.json")
        template = _read_json(cdk_out / template_file)
        stacks.append(Stack(name=name, region=region, resources=template.get("Resources", {})))
    if not stacks:
        raise CostError(f"{cdk_out}: no CloudFormation stacks in manifest.json (run cdk synth first)")
    return stacks


def load_model(cdk_out: Path, *, prices_dir: Path = PRICES_DIR, free_tier: bool = True) -> Model:
    stacks = load_stacks(cdk_out)
    global_table = _read_json(prices_dir / "global.json")
    prices: dict[str, dict[str, Any]] = {"global": global_table["prices"]}
    for region in sorted({stack.region for stack in stacks}):
        path = prices_dir / f"{region}.json"
        if path.exists():
            prices[region] = _read_json(path)["prices"]
    workload = _read_json(prices_dir / "workload.json")
    figures = {
        name: Figure(float(entry["value"]), str(entry["kind"]), str(entry["source"]))
        for name, entry in workload["figures"].items()
    }
    mix = {name: float(entry["value"]) for name, entry in workload["mix"].items()}
    allowances = {key: float(value) for key, value in global_table["free_tier"].items() if key != "source"}
    return Model(
        stacks=stacks, prices=prices, figures=figures, mix=mix, free_tier=allowances if free_tier else {}
    )


# --- helpers over template values --------------------------------------------------------------------------


def _ref(value: Any) -> str | None:
    """The logical id a `Ref` or `Fn::GetAtt` points at."""
    if isinstance(value, Mapping):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else str(target).split(".")[0])
    return None


def _lambda_meters(
    *, invocations: float, memory_mb: float, billed_ms: float, architecture: str, log_bytes: float
) -> dict[str, float]:
    return {
        "lambda_request": invocations,
        f"lambda_gb_second_{architecture}": invocations * memory_mb / 1024 * billed_ms / 1000,
        "cloudwatch_log_gb": invocations * log_bytes / GIB,
    }


def xray_traces(invocations: float) -> float:
    """Traces Lambda's fixed rule records for invocations spread evenly over the month."""
    rate = invocations / SECONDS_PER_MONTH
    per_second = min(rate, XRAY_RESERVOIR_PER_SECOND) + XRAY_FIXED_RATE * max(
        rate - XRAY_RESERVOIR_PER_SECOND, 0.0
    )
    return per_second * SECONDS_PER_MONTH


_RATE = re.compile(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)")
_PER_MONTH = {"minute": 60 * 24 * DAYS_PER_MONTH, "hour": 24 * DAYS_PER_MONTH, "day": DAYS_PER_MONTH}


def _cron_field_count(text: str, span: int) -> float:
    if text in ("*", "?"):
        return span
    if text.startswith("*/"):
        return span / int(text[2:])
    if re.fullmatch(r"\d+(,\d+)*", text):
        return len(text.split(","))
    raise CostError(f"cron field {text!r} is not modelled")


def schedule_runs_per_month(expression: str) -> float:
    """How often an EventBridge Scheduler expression fires in a 30-day month."""
    rate = _RATE.fullmatch(expression.strip())
    if rate:
        unit = rate.group(2).rstrip("s")
        return _PER_MONTH[unit] / int(rate.group(1))
    cron = re.fullmatch(r"cron\((.+)\)", expression.strip())
    if cron:
        minutes, hours, day_of_month, _month, day_of_week, *_ = cron.group(1).split()
        if day_of_month not in ("*", "?") or day_of_week not in ("*", "?"):
            raise CostError(f"schedule {expression!r}: only daily cron expressions are modelled")
        return _cron_field_count(minutes, 60) * _cron_field_count(hours, 24) * DAYS_PER_MONTH
    raise CostError(f"schedule expression {expression!r} is not modelled")


# --- pricers: one per resource type, each returning the lines of one resource -----------------------------

Pricer = Callable[[Model, Stack, str, Mapping[str, Any], Load], list[Line]]


def _scheduled_invocations(model: Model) -> float:
    return sum(
        schedule_runs_per_month(str(props.get("ScheduleExpression", "")))
        for _, _, props in model.of_type("AWS::Scheduler::Schedule")
    )


def _function_workload(model: Model, handler: str, load: Load) -> tuple[float, float, str] | None:
    """Invocations, billed ms and log bytes of one origin function under `load`; None when not modelled."""
    f = model.figure
    api_ms = f("api_ms") + f("api_db_round_trips") * f("db_round_trip_ms")
    table: dict[str, tuple[float, float, str]] = {
        "api.main.handler": (
            load.requests,
            api_ms + f("api_cold_start_share") * f("api_init_ms"),
            "API requests",
        ),
        "webhooks.receiver.handler": (load.webhooks, f("webhook_receiver_ms"), "Stripe events received"),
        "webhooks.processor.handler": (load.webhooks, f("webhook_processor_ms"), "Stripe events processed"),
        "jobs.worker.handler": (load.jobs, f("job_ms"), "jobs run"),
        "jobs.scheduler.handler": (_scheduled_invocations(model), f("scheduler_ms"), "scheduled sweeps"),
        "jobs.ses_events.handler": (load.emails * f("emails_per_message"), f("ses_event_ms"), "SES events"),
        "jobs.webhook_worker.handler": (
            load.jobs * f("webhook_deliveries_per_job"),
            f("webhook_delivery_ms"),
            "webhook deliveries",
        ),
    }
    return table.get(handler)


def _log_storage(model: Model, props: Mapping[str, Any], ingest_gb: float) -> float:
    """Steady-state GB-months stored for a log group receiving `ingest_gb` a month."""
    retention_days = 30.0
    group_id = _ref(props.get("LoggingConfig", {}).get("LogGroup"))
    found = model.resource(group_id) if group_id else None
    if found:
        retention_days = float(found[1].get("Properties", {}).get("RetentionInDays", 3653))
    return ingest_gb * retention_days / DAYS_PER_MONTH * LOG_COMPRESSION


def price_function(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    handler = str(props.get("Handler", ""))
    if handler.startswith("edge.handler."):
        return []  # Lambda@Edge: priced per CloudFront association at the distribution
    if (
        handler in DEPLOY_TIME_HANDLERS
        or "CustomResourceProvider" in logical_id
        or "AutoDeleteObjects" in logical_id
    ):
        return [Line(stack.name, logical_id, f"Lambda {handler} (runs at deploy time only)", {})]
    workload = _function_workload(model, handler, load)
    if workload is None:
        raise Unpriceable([f"{stack.name}/{logical_id} (AWS::Lambda::Function handler {handler!r})"])
    invocations, billed_ms, what = workload
    architecture = (props.get("Architectures") or ["x86_64"])[0]
    meters = _lambda_meters(
        invocations=invocations,
        memory_mb=float(props.get("MemorySize", 128)),
        billed_ms=math.ceil(billed_ms),
        architecture=architecture,
        log_bytes=model.figure("api_log_bytes"),
    )
    meters["cloudwatch_log_gb_month"] = _log_storage(model, props, meters["cloudwatch_log_gb"])
    if props.get("TracingConfig", {}).get("Mode") == "Active":
        meters["xray_trace"] = xray_traces(invocations)
    name = handler.rsplit(".", 1)[0]
    return [Line(stack.name, logical_id, f"Lambda {name}: {what}", meters)]


def _edge_function(model: Model, event_type: str) -> Mapping[str, Any]:
    handler = "edge.handler." + event_type.replace("-", "_")
    for _, _, props in model.of_type("AWS::Lambda::Function"):
        if props.get("Handler") == handler:
            return props
    raise Unpriceable([f"Lambda@Edge {event_type} (no function with handler {handler!r})"])


def _behavior_lines(
    model: Model, stack: Stack, logical_id: str, behavior: Mapping[str, Any], *, requests: float, label: str
) -> list[Line]:
    lines: list[Line] = []
    for association in behavior.get("LambdaFunctionAssociations", []):
        event_type = str(association["EventType"])
        function = _edge_function(model, event_type)
        billed_ms = math.ceil(model.figure(f"edge_{event_type.replace('-', '_')}_ms"))
        meters = {
            "lambda_edge_request": requests,
            "lambda_edge_gb_second": requests
            * float(function.get("MemorySize", 128))
            / 1024
            * billed_ms
            / 1000,
            "cloudwatch_log_gb": requests * model.figure("edge_log_bytes") / GIB,
        }
        lines.append(Line(stack.name, logical_id, f"Lambda@Edge {event_type} ({label})", meters))
    functions = behavior.get("FunctionAssociations", [])
    if functions:
        lines.append(
            Line(
                stack.name,
                logical_id,
                f"CloudFront Functions ({label})",
                {"cloudfront_function_invocation": requests * len(functions)},
            )
        )
    return lines


def price_distribution(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    config = props["DistributionConfig"]
    behaviors = {str(b.get("PathPattern")): b for b in config.get("CacheBehaviors", [])}
    api_behavior = behaviors.get("/api/*", config["DefaultCacheBehavior"])
    webhook_behavior = next((b for path, b in behaviors.items() if path.startswith("/webhooks")), None)
    total = load.requests + load.webhooks
    lines = [
        Line(
            stack.name,
            logical_id,
            "CloudFront requests and transfer",
            {
                "cloudfront_request": total,
                "cloudfront_gb_out": total * model.figure("response_bytes") / GIB,
                "s3_gb_month": total * model.figure("access_log_bytes") / GIB * 12,  # a year of access logs
            },
        )
    ]
    lines += _behavior_lines(
        model, stack, logical_id, api_behavior, requests=load.requests, label="API requests"
    )
    if webhook_behavior is not None:
        lines += _behavior_lines(
            model, stack, logical_id, webhook_behavior, requests=load.webhooks, label="Stripe events"
        )
    return lines


def price_web_acl(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    if props.get("Scope") != "CLOUDFRONT":
        raise Unpriceable([f"{stack.name}/{logical_id} (regional WAF web ACL)"])
    meters = {
        "waf_web_acl_month": 1.0,
        "waf_rule_month": float(len(props.get("Rules", []))),
        "waf_request": load.requests + load.webhooks,
    }
    return [Line(stack.name, logical_id, "WAF web ACL, rules and requests", meters)]


def price_waf_logging(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    gb = (load.requests + load.webhooks) * model.figure("waf_log_bytes") / GIB
    return [Line(stack.name, logical_id, "WAF logs to CloudWatch Logs", {"waf_log_gb": gb})]


def _source_storage(stack: Stack, props: Mapping[str, Any]) -> Any:
    """A read replica's storage is its source's (the template names the source by a `Ref`)."""
    source_arn = props.get("SourceDBInstanceIdentifier")
    parts = source_arn.get("Fn::Join", ["", []])[1] if isinstance(source_arn, dict) else []
    refs = [part["Ref"] for part in parts if isinstance(part, dict) and "Ref" in part]
    source = stack.resources.get(refs[0], {}) if refs else {}
    return source.get("Properties", {}).get("AllocatedStorage")


def price_db_instance(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    copies = 2.0 if props.get("MultiAZ") else 1.0
    storage_type = props.get("StorageType", "gp2")
    if storage_type not in ("gp2", "gp3"):
        raise Unpriceable([f"{stack.name}/{logical_id} (RDS storage type {storage_type})"])
    label = f"RDS {props['DBInstanceClass']}{' Multi-AZ' if copies == 2 else ''}"
    storage = props.get("AllocatedStorage") or _source_storage(stack, props) or 20
    return [
        Line(
            stack.name,
            logical_id,
            label,
            {f"rds_instance_hour:{props['DBInstanceClass']}": HOURS_PER_MONTH * copies},
        ),
        Line(
            stack.name,
            logical_id,
            f"RDS storage {storage} GiB {storage_type}",
            {"rds_gp3_gb_month": float(storage) * copies},
        ),
    ]


def price_db_proxy(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    # The proxy's target group names its instance (one stack may hold several cells' instances).
    targets = [
        instance_id
        for s, _, group in model.of_type("AWS::RDS::DBProxyTargetGroup")
        if s.name == stack.name and _ref(group.get("DBProxyName")) == logical_id
        for instance_id in map(_ref, group.get("DBInstanceIdentifiers", []))
    ]
    # Without a target group (hand-written templates) the stack's only instance is the target.
    instances = [
        p
        for s, iid, p in model.of_type("AWS::RDS::DBInstance")
        if s.name == stack.name and (iid in targets or not targets)
    ]
    if len(instances) != 1:
        raise Unpriceable([f"{stack.name}/{logical_id} (RDS Proxy targeting {len(instances)} instances)"])
    instance_class = str(instances[0]["DBInstanceClass"])
    vcpus = (
        model.prices.get(stack.region, {}).get("rds_instance_hour", {}).get("vcpus", {}).get(instance_class)
    )
    if vcpus is None:
        raise Unpriceable(
            [f"{stack.name}/{logical_id} (vCPUs of {instance_class}: not in the {stack.region} price table)"]
        )
    return [
        Line(
            stack.name,
            logical_id,
            f"RDS Proxy ({max(2, int(vcpus))} vCPU billed)",
            {"rds_proxy_vcpu_hour": max(2, int(vcpus)) * HOURS_PER_MONTH},
        )
    ]


def _nat_share(model: Model, load: Load) -> float:
    gateways = sum(1 for _ in model.of_type("AWS::EC2::NatGateway")) or 1
    return load.requests * model.figure("nat_bytes_per_request") / GIB / gateways


def price_nat_gateway(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    meters = {"nat_gateway_hour": float(HOURS_PER_MONTH), "nat_gateway_gb": _nat_share(model, load)}
    return [Line(stack.name, logical_id, "NAT gateway (hours + GB processed)", meters)]


def price_eip(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    return [Line(stack.name, logical_id, "public IPv4 address", {"public_ipv4_hour": float(HOURS_PER_MONTH)})]


def price_instance(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    instance_type = str(props.get("InstanceType", ""))
    volume_gb = 8.0  # the Amazon Linux 2023 root volume unless the template says otherwise
    for mapping in props.get("BlockDeviceMappings", []):
        volume_gb = float(mapping.get("Ebs", {}).get("VolumeSize", volume_gb))
    meters = {f"ec2_instance_hour:{instance_type}": float(HOURS_PER_MONTH), "ebs_gp3_gb_month": volume_gb}
    if props.get("SourceDestCheck") is False:  # a NAT instance: in a public subnet, with a public IPv4
        meters["public_ipv4_hour"] = float(HOURS_PER_MONTH)
        return [
            Line(
                stack.name, logical_id, f"EC2 {instance_type} NAT instance, root volume, public IPv4", meters
            )
        ]
    return [Line(stack.name, logical_id, f"EC2 {instance_type}, root volume", meters)]


def price_vpc_endpoint(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    if props.get("VpcEndpointType") == "Gateway":
        return []
    service = props.get("ServiceName")
    name = service.rsplit(".", 1)[-1] if isinstance(service, str) else logical_id
    zones = float(len(props.get("SubnetIds", [])) or 1)
    return [
        Line(
            stack.name,
            logical_id,
            f"interface endpoint {name} x {int(zones)} AZ",
            {"interface_endpoint_az_hour": zones * HOURS_PER_MONTH},
        )
    ]


def price_flow_log(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    if props.get("LogDestinationType", "cloud-watch-logs") != "cloud-watch-logs":
        raise Unpriceable([f"{stack.name}/{logical_id} (flow log to {props.get('LogDestinationType')})"])
    gb = model.figure("flow_log_gb_month") + load.requests * model.figure("flow_log_bytes_per_request") / GIB
    return [Line(stack.name, logical_id, "VPC flow logs", {"cloudwatch_log_gb": gb})]


def price_event_source_mapping(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    queue_id, function_id = _ref(props.get("EventSourceArn")), _ref(props.get("FunctionName"))
    queue = model.resource(queue_id) if queue_id else None
    function = model.resource(function_id) if function_id else None
    if queue is None or queue[1]["Type"] != "AWS::SQS::Queue" or function is None:
        raise Unpriceable(
            [f"{stack.name}/{logical_id} (event source mapping not from an SQS queue in the app)"]
        )
    workload = _function_workload(model, str(function[1].get("Properties", {}).get("Handler", "")), load)
    messages = workload[0] if workload else 0.0
    fifo = bool(queue[1].get("Properties", {}).get("FifoQueue"))
    meter = "sqs_fifo_request" if fifo else "sqs_standard_request"
    requests = model.figure("sqs_idle_requests_per_mapping") + 3 * messages  # send, receive, delete
    return [
        Line(
            stack.name,
            logical_id,
            f"SQS {'FIFO ' if fifo else ''}polling and messages ({queue_id})",
            {meter: requests},
        )
    ]


def price_topic(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    fed_by_ses = any(
        _ref(p.get("EventDestination", {}).get("SnsDestination", {}).get("TopicARN")) == logical_id
        for _, _, p in model.of_type("AWS::SES::ConfigurationSetEventDestination")
    )
    publishes = load.emails * model.figure("emails_per_message") if fed_by_ses else 0.0
    return [Line(stack.name, logical_id, "SNS publishes", {"sns_publish": publishes})]


def price_bucket(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    return [Line(stack.name, logical_id, "S3 storage", {"s3_gb_month": model.figure("s3_gb")})]


def price_kms_key(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    meters = {"kms_key_month": 1.0}
    label = "KMS key"
    if (
        str(props.get("KeySpec", "SYMMETRIC_DEFAULT")).startswith("RSA")
        and props.get("KeyUsage") == "SIGN_VERIFY"
    ):
        meters["kms_rsa_request"] = load.mau * model.figure("kms_signs_per_user_day") * DAYS_PER_MONTH
        label = "KMS signing key + session signatures"
    return [Line(stack.name, logical_id, label, meters)]


def price_secret(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    return [Line(stack.name, logical_id, "Secrets Manager secret", {"secret_month": 1.0})]


def price_alarm(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    metrics = props.get("Metrics")
    count = float(sum(1 for m in metrics if "MetricStat" in m)) if metrics else 1.0
    return [Line(stack.name, logical_id, "CloudWatch alarm", {"cloudwatch_alarm_metric_month": count})]


def price_dashboard(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    return [Line(stack.name, logical_id, "CloudWatch dashboard", {"cloudwatch_dashboard_month": 1.0})]


def cognito_tier(props: Mapping[str, Any]) -> str:
    return str(props.get("UserPoolTier", "ESSENTIALS")).upper()


def price_user_pool(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    tier = cognito_tier(props)
    return [
        Line(stack.name, logical_id, f"Cognito {tier.title()} MAU", {f"cognito_mau:{tier}": float(load.mau)})
    ]


def price_dynamodb(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    if props.get("BillingMode") != "PAY_PER_REQUEST":
        raise Unpriceable([f"{stack.name}/{logical_id} (provisioned DynamoDB capacity)"])
    replicas = float(len(props.get("Replicas", [])) or 1)
    writes = load.requests * model.figure("api_dynamodb_writes") * replicas
    return [Line(stack.name, logical_id, "DynamoDB rate-limit writes", {"dynamodb_write": writes})]


def price_email_identity(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    return [
        Line(
            stack.name,
            logical_id,
            "SES e-mails",
            {"ses_email": load.emails * model.figure("emails_per_message")},
        )
    ]


def price_schedule(
    model: Model, stack: Stack, logical_id: str, props: Mapping[str, Any], load: Load
) -> list[Line]:
    runs = schedule_runs_per_month(str(props.get("ScheduleExpression", "")))
    return [
        Line(
            stack.name,
            logical_id,
            f"Scheduler {props.get('ScheduleExpression')}",
            {"scheduler_invocation": runs},
        )
    ]


PRICERS: dict[str, Pricer] = {
    "AWS::Lambda::Function": price_function,
    "AWS::CloudFront::Distribution": price_distribution,
    "AWS::WAFv2::WebACL": price_web_acl,
    "AWS::WAFv2::LoggingConfiguration": price_waf_logging,
    "AWS::RDS::DBInstance": price_db_instance,
    "AWS::RDS::DBProxy": price_db_proxy,
    "AWS::EC2::NatGateway": price_nat_gateway,
    "AWS::EC2::EIP": price_eip,
    "AWS::EC2::Instance": price_instance,
    "AWS::EC2::VPCEndpoint": price_vpc_endpoint,
    "AWS::EC2::FlowLog": price_flow_log,
    "AWS::Lambda::EventSourceMapping": price_event_source_mapping,
    "AWS::SNS::Topic": price_topic,
    "AWS::S3::Bucket": price_bucket,
    "AWS::KMS::Key": price_kms_key,
    "AWS::SecretsManager::Secret": price_secret,
    "AWS::CloudWatch::Alarm": price_alarm,
    "AWS::CloudWatch::Dashboard": price_dashboard,
    "AWS::Cognito::UserPool": price_user_pool,
    "AWS::DynamoDB::GlobalTable": price_dynamodb,
    "AWS::DynamoDB::Table": price_dynamodb,
    "AWS::SES::EmailIdentity": price_email_identity,
    "AWS::Scheduler::Schedule": price_schedule,
}


def _code_lines(model: Model, load: Load) -> list[Line]:
    """Costs the code creates rather than a resource: custom metrics published as EMF by Powertools.

    A custom metric is billed by the hour, only in hours it is published: idle, only the scheduled sweeps'
    job outcomes are; under load every series is counted for every hour (an upper bound)."""
    environments = {
        str(props.get("Handler", "")): props.get("Environment", {}).get("Variables", {})
        for _, _, props in model.of_type("AWS::Lambda::Function")
    }
    if not any("POWERTOOLS_METRICS_NAMESPACE" in variables for variables in environments.values()):
        return []
    api = environments.get("api.main.handler", {})
    per_route = str(api.get("METRICS_PER_ROUTE", "true")).lower() == "true"
    routes = int(model.figure("api_route_templates"))
    if load.requests + load.webhooks + load.jobs > 0:
        catalog = series_count(route_templates=routes, per_route=per_route)
        other = model.figure("custom_metrics_other")
    else:
        catalog = sum(spec.series(route_values=1) for spec in CATALOG if spec.service == "jobs")
        other = 0.0
    shape = f"per route, {routes} route templates" if per_route else "per service"
    return [
        Line(
            "code",
            "saascore.metrics",
            f"CloudWatch custom metrics (EMF): requests, latency, errors {shape}; plans, outcomes",
            {"cloudwatch_metric_month": float(catalog)},
        ),
        Line(
            "code",
            "Powertools metrics",
            "CloudWatch custom metrics (EMF): other Powertools metrics",
            {"cloudwatch_metric_month": other},
        ),
    ]


def lines_for(model: Model, load: Load) -> list[Line]:
    lines: list[Line] = []
    unpriceable: list[str] = []
    for stack in model.stacks:
        for logical_id, resource in stack.resources.items():
            resource_type = str(resource["Type"])
            if resource_type in FREE_TYPES or resource_type.startswith("Custom::"):
                continue
            pricer = PRICERS.get(resource_type)
            if pricer is None:
                unpriceable.append(f"{stack.name}/{logical_id} ({resource_type})")
                continue
            try:
                lines += pricer(model, stack, logical_id, resource.get("Properties", {}), load)
            except Unpriceable as exc:
                unpriceable += exc.items
    if unpriceable:
        raise Unpriceable(unpriceable)
    return lines + _code_lines(model, load)


# --- pricing ---------------------------------------------------------------------------------------------


def unit_price(model: Model, meter: str, region: str) -> float:
    key, _, variant = meter.partition(":")
    for table_name in (region, "global"):
        entry = model.prices.get(table_name, {}).get(key)
        if entry is None:
            continue
        if variant:
            value = entry.get("by_class", {}).get(variant)
            if value is None:
                raise Unpriceable([f"{meter} (no price for {variant} in {table_name})"])
            return float(value)
        return float(entry["usd"])
    raise Unpriceable([f"{meter} (no price in {region} or global tables)"])


def price(model: Model, load: Load) -> list[PricedLine]:
    """Every line with its USD for the month, free allowances shared pro rata by the lines using them."""
    lines = lines_for(model, load)
    totals: dict[str, float] = defaultdict(float)
    for line in lines:
        for meter, quantity in line.meters.items():
            totals[meter] += quantity
    billable_share: dict[str, float] = {}
    for group, meters in FREE_TIER_GROUPS.items():
        allowance = model.free_tier.get(group, 0.0)
        used = sum(totals.get(meter, 0.0) for meter in meters)
        share = 1.0 if used <= 0 else max(used - allowance, 0.0) / used
        billable_share.update(dict.fromkeys(meters, share))
    region_of = {stack.name: stack.region for stack in model.stacks}
    priced: list[PricedLine] = []
    missing: list[str] = []
    for line in lines:
        usd = 0.0
        for meter, quantity in line.meters.items():
            if quantity == 0:
                continue
            try:
                rate = unit_price(model, meter, region_of.get(line.stack, _home_region(model)))
            except Unpriceable as exc:
                missing += exc.items
                continue
            usd += quantity * rate * billable_share.get(meter, 1.0)
        priced.append(PricedLine(line, usd))
    if missing:
        raise Unpriceable(sorted(set(missing)))
    return priced


def _home_region(model: Model) -> str:
    regions = [stack.region for stack in model.stacks if not stack.name.endswith("-edge")]
    return regions[0] if regions else model.stacks[0].region


def total(priced: Iterable[PricedLine]) -> float:
    return sum(p.usd for p in priced)


def per_million_requests(model: Model, base: Load) -> float:
    """What the next million authenticated API requests cost on top of `base` (free allowances used up).
    Marginal rather than average, because X-Ray's per-second reservoir makes the first requests dearer."""
    paid = replace(model, free_tier={})
    more = replace(base, requests=base.requests + 1_000_000)
    return total(price(paid, more)) - total(price(paid, base))


# --- output ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    environment: str
    loads: tuple[Load, ...]
    rows: tuple[tuple[str, tuple[float, ...]], ...]
    totals: tuple[float, ...]
    per_million: float


def build_table(model: Model, loads: Sequence[Load], environment: str) -> Table:
    """One row per kind of item (twelve alarms are one row, "x 12"), one column per load."""
    columns = [price(model, load) for load in loads]
    resources: dict[str, set[str]] = defaultdict(set)
    for priced in columns:
        for p in priced:
            resources[p.line.item].add(f"{p.line.stack}/{p.line.resource}")
    rows: list[tuple[str, tuple[float, ...]]] = []
    for item, members in resources.items():
        values = tuple(sum(p.usd for p in priced if p.line.item == item) for priced in columns)
        rows.append((f"{item} x {len(members)}" if len(members) > 1 else item, values))
    rows.sort(key=lambda row: -max(row[1]))
    busiest = max(loads, key=lambda load: load.requests)
    return Table(
        environment,
        tuple(loads),
        tuple(rows),
        tuple(total(c) for c in columns),
        per_million_requests(model, busiest),
    )


def environment_name(model: Model) -> str:
    names = {stack.name.rsplit("-", 1)[0] for stack in model.stacks}
    return ", ".join(sorted(names))


def format_text(table: Table) -> str:
    headers = [f"{load.mau:,} MAU" for load in table.loads]
    width = max([len(name) for name, _ in table.rows] + [20])
    out = [
        f"{table.environment}  (USD per month)",
        f"{'item':<{width}}  " + "  ".join(f"{h:>12}" for h in headers),
    ]
    for name, values in table.rows:
        if max(values) < 0.005:
            continue
        out.append(f"{name:<{width}}  " + "  ".join(f"{v:>12,.2f}" for v in values))
    out.append(f"{'total':<{width}}  " + "  ".join(f"{v:>12,.2f}" for v in table.totals))
    busiest = max(table.loads, key=lambda load: load.requests)
    out.append(f"next million authenticated API requests at {busiest.mau:,} MAU: ${table.per_million:,.2f}")
    return "\n".join(out)


def format_markdown(table: Table) -> str:
    headers = [f"{load.mau:,} MAU" for load in table.loads]
    out = [
        f"#### {table.environment}",
        "",
        "| item | " + " | ".join(headers) + " |",
        "|---|" + "---:|" * len(headers),
    ]
    for name, values in table.rows:
        if max(values) < 0.005:
            continue
        out.append(f"| {name} | " + " | ".join(f"{v:,.2f}" for v in values) + " |")
    out.append("| **total** | " + " | ".join(f"**{v:,.2f}**" for v in table.totals) + " |")
    busiest = max(table.loads, key=lambda load: load.requests)
    out += [
        "",
        f"Cost per million authenticated API requests (the next million at {busiest.mau:,} MAU, "
        f"no free tier): **${table.per_million:,.2f}**",
        "",
    ]
    return "\n".join(out)


def format_figures(model: Model) -> str:
    out = ["| figure | value | kind | source |", "|---|---:|---|---|"]
    for name, fig in sorted(model.figures.items()):
        out.append(f"| `{name}` | {fig.value:g} | {fig.kind} | {fig.source} |")
    return "\n".join(out)


# --- command line ----------------------------------------------------------------------------------------


def parse_pairs(text: str) -> dict[str, float]:
    pairs: dict[str, float] = {}
    for part in filter(None, text.split(",")):
        name, sep, value = part.partition("=")
        try:
            pairs[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise argparse.ArgumentTypeError(f"{part!r} is not name=number")
    return pairs


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be zero or more")
    return value


def run_cost(args: argparse.Namespace) -> int:
    try:
        outputs: list[str] = []
        for cdk_out in args.cdk_out or [Path("cdk.out")]:
            model = load_model(Path(cdk_out), prices_dir=Path(args.prices), free_tier=not args.no_free_tier)
            for name, value in (args.figure or {}).items():
                if name not in model.figures:
                    raise CostError(f"unknown figure {name!r}; known: {', '.join(sorted(model.figures))}")
                model.figures[name] = Figure(value, "given", "--figure on the command line")
            unknown_mix = set(args.mix or {}) - set(model.mix)
            if unknown_mix:
                raise CostError(f"unknown mix entries {sorted(unknown_mix)}; known: {sorted(model.mix)}")
            if args.by_tenant or args.month:
                return _run_by_tenant(args, model)
            mix = {**model.mix, **(args.mix or {})}
            loads = [
                Load.for_users(mau, args.requests_per_user_day, mix) for mau in (args.mau or [0, 5000, 50000])
            ]
            table = build_table(model, loads, environment_name(model))
            outputs.append(format_markdown(table) if args.markdown else format_text(table))
        if args.markdown and args.figures:
            outputs.append(format_figures(model) + "\n")
    except Unpriceable as exc:
        print(
            "saas cost: these resources have no price in the model (a total would be too low):",
            file=sys.stderr,
        )
        for item in exc.items:
            print(f"  {item}", file=sys.stderr)
        return EXIT_UNPRICEABLE
    except CostError as exc:
        print(f"saas cost: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print("\n\n".join(outputs))
    return 0


def _run_by_tenant(args: argparse.Namespace, model: Model) -> int:
    import psycopg

    from saas_cli.cost_by_tenant import attribute, format_costs, read_requests, read_tenant_loads
    from saascore.business_metrics import Month
    from saascore.exceptions import InvalidPeriodError

    if not (args.by_tenant and args.month and args.requests):
        raise CostError("--by-tenant needs --month YYYY-MM and --requests FILE (tenant_id,requests)")
    try:
        month = Month.parse(args.month)
    except InvalidPeriodError as exc:
        raise CostError(str(exc)) from exc
    url = args.database_url or os.environ.get("OPS_DATABASE_URL")
    if not url:
        raise CostError(
            "--by-tenant reads usage and sessions as the owner: pass --database-url or set OPS_DATABASE_URL"
        )
    requests = read_requests(Path(args.requests))
    try:
        with psycopg.connect(url) as conn:
            tenants = read_tenant_loads(conn, month, requests)
    except psycopg.Error as exc:
        raise CostError(f"database: {exc}") from exc
    print(format_costs(month, attribute(model, tenants)))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "cost",
        help="monthly cost of the synthesized stacks, idle and under load",
        description="Price the templates in a cloud assembly from the committed price tables (no AWS calls).",
    )
    parser.add_argument(
        "--cdk-out", action="append", type=Path, help="cloud assembly directory (repeatable; default cdk.out)"
    )
    parser.add_argument(
        "--mau",
        action="append",
        type=_non_negative_int,
        help="monthly active users (repeatable; default 0, 5000, 50000)",
    )
    parser.add_argument(
        "--requests-per-user-day",
        type=float,
        default=50.0,
        help="authenticated API requests per MAU per day (default 50)",
    )
    parser.add_argument(
        "--mix", type=parse_pairs, help="per-MAU monthly counts, e.g. webhooks=0.1,jobs=1,emails=1"
    )
    parser.add_argument(
        "--figure",
        type=parse_pairs,
        help="override workload figures, e.g. api_ms=8,api_cold_start_share=0.02",
    )
    parser.add_argument(
        "--prices", default=str(PRICES_DIR), help="directory of price tables (default: the committed ones)"
    )
    parser.add_argument(
        "--no-free-tier",
        action="store_true",
        help="ignore the always-free allowances (an account shared with other workloads)",
    )
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables (docs/cost.md)")
    parser.add_argument(
        "--figures", action="store_true", help="with --markdown: also print the workload figures used"
    )
    parser.add_argument(
        "--by-tenant", action="store_true", help="estimate each tenant's cost for --month (docs/cost.md)"
    )
    parser.add_argument("--month", help="with --by-tenant: the UTC month, YYYY-MM")
    parser.add_argument(
        "--requests",
        help="with --by-tenant: CSV tenant_id,requests (the requests-by-tenant Logs Insights query)",
    )
    parser.add_argument("--database-url", help="with --by-tenant: owner-role URL; default $OPS_DATABASE_URL")
    parser.set_defaults(handler=run_cost)
