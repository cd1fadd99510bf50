"""`saas cost` on a small hand-written assembly with round prices, so every figure can be checked by hand."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from saas_cli import cost
from saas_cli.main import main

REGION = "eu-west-1"
GLOBAL_PRICES = {
    "prices": {
        "cloudfront_request": {"usd": 1e-06},
        "cloudfront_gb_out": {"usd": 0.1},
        "lambda_edge_request": {"usd": 6e-07},
        "lambda_edge_gb_second": {"usd": 5e-05},
    },
    "free_tier": {"source": "test", "lambda_requests": 1_000_000, "cognito_essentials_mau": 10_000},
}
REGIONAL_PRICES = {
    "prices": {
        "lambda_request": {"usd": 2e-07},
        "lambda_gb_second_arm64": {"usd": 1e-05},
        "rds_instance_hour": {"by_class": {"db.t4g.micro": 0.02}, "vcpus": {"db.t4g.micro": 2}},
        "rds_gp3_gb_month": {"usd": 0.1},
        "rds_proxy_vcpu_hour": {"usd": 0.01},
        "nat_gateway_hour": {"usd": 0.05},
        "nat_gateway_gb": {"usd": 0.05},
        "interface_endpoint_az_hour": {"usd": 0.01},
        "kms_key_month": {"usd": 1.0},
        "cognito_mau": {"by_class": {"ESSENTIALS": 0.01, "PLUS": 0.02}},
        "cloudwatch_log_gb": {"usd": 0.5},
        "cloudwatch_log_gb_month": {"usd": 0.03},
        "s3_gb_month": {"usd": 0.02},
        "ec2_instance_hour": {"by_class": {"t4g.nano": 0.005}},
        "ebs_gp3_gb_month": {"usd": 0.1},
        "public_ipv4_hour": {"usd": 0.005},
    }
}


def _template(**extra: dict[str, Any]) -> dict[str, Any]:
    resources: dict[str, dict[str, Any]] = {
        "Db": {
            "Type": "AWS::RDS::DBInstance",
            "Properties": {"DBInstanceClass": "db.t4g.micro", "AllocatedStorage": "20", "StorageType": "gp3"},
        },
        "Proxy": {"Type": "AWS::RDS::DBProxy", "Properties": {}},
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
        "Sqs": {
            "Type": "AWS::EC2::VPCEndpoint",
            "Properties": {
                "VpcEndpointType": "Interface",
                "ServiceName": "com.amazonaws.eu-west-1.sqs",
                "SubnetIds": ["a", "b"],
            },
        },
        "S3": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Gateway"}},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {"UserPoolTier": "ESSENTIALS"}},
        "Api": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Handler": "api.main.handler", "MemorySize": 1024, "Architectures": ["arm64"]},
        },
        "ViewerRequest": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Handler": "edge.handler.viewer_request", "MemorySize": 128},
        },
        "Cdn": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "DefaultCacheBehavior": {"LambdaFunctionAssociations": [{"EventType": "viewer-request"}]}
                }
            },
        },
    }
    resources.update(extra)
    return {"Resources": resources}


@pytest.fixture
def prices_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "prices"
    directory.mkdir()
    (directory / "global.json").write_text(json.dumps(GLOBAL_PRICES))
    (directory / f"{REGION}.json").write_text(json.dumps(REGIONAL_PRICES))
    shutil.copy(cost.PRICES_DIR / "workload.json", directory / "workload.json")
    return directory


def _assembly(root: Path, template: dict[str, Any]) -> Path:
    out = root / "cdk.out"
    out.mkdir(exist_ok=True)
    (out / "t-dev-data.template.json").write_text(json.dumps(template))
    manifest = {
        "artifacts": {
            "t-dev-data": {
                "type": "aws:cloudformation:stack",
                "environment": f"aws://123456789012/{REGION}",
                "properties": {"templateFile": "t-dev-data.template.json"},
            }
        }
    }
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def _model(
    tmp_path: Path, prices_dir: Path, *, free_tier: bool = True, **extra: dict[str, Any]
) -> cost.Model:
    model = cost.load_model(
        _assembly(tmp_path, _template(**extra)), prices_dir=prices_dir, free_tier=free_tier
    )
    simple = {
        "api_ms": 9,
        "api_db_round_trips": 0,
        "api_cold_start_share": 0,
        "api_log_bytes": 0,
        "edge_log_bytes": 0,
    }
    for name, value in {
        **simple,
        "response_bytes": 0,
        "access_log_bytes": 0,
        "nat_bytes_per_request": 0,
    }.items():
        model.figures[name] = cost.Figure(float(value), "given", "test")
    return model


def _by_item(priced: list[cost.PricedLine]) -> dict[str, float]:
    return {p.line.item: round(p.usd, 6) for p in priced}


def test_idle_cost_is_the_fixed_hours_and_storage(tmp_path: Path, prices_dir: Path) -> None:
    items = _by_item(cost.price(_model(tmp_path, prices_dir), cost.Load()))

    assert items["RDS db.t4g.micro"] == pytest.approx(0.02 * 730)
    assert items["RDS storage 20 GiB gp3"] == pytest.approx(20 * 0.1)
    assert items["RDS Proxy (2 vCPU billed)"] == pytest.approx(2 * 0.01 * 730)
    assert items["NAT gateway (hours + GB processed)"] == pytest.approx(0.05 * 730)
    assert items["interface endpoint sqs x 2 AZ"] == pytest.approx(2 * 0.01 * 730)
    assert items["KMS key"] == 1.0
    assert "AWS::EC2::VPCEndpoint" not in json.dumps(list(items))  # the gateway endpoint is free
    assert cost.total(cost.price(_model(tmp_path, prices_dir), cost.Load())) == pytest.approx(
        14.6 + 2 + 14.6 + 36.5 + 14.6 + 1
    )


def test_requests_price_lambda_edge_and_cloudfront_per_invocation(tmp_path: Path, prices_dir: Path) -> None:
    model = _model(tmp_path, prices_dir, free_tier=False)
    items = _by_item(cost.price(model, cost.Load(requests=2_000_000)))

    # API: 2M x $0.20/M + 2M x 1 GB x 9 ms x $0.00001/GB-s
    assert items["Lambda api.main: API requests"] == pytest.approx(0.4 + 2e6 * 1.0 * 0.009 * 1e-5)
    # viewer-request: 2M x $0.60/M + 2M x 0.125 GB x 1 ms (billed minimum) x $0.00005/GB-s
    assert items["Lambda@Edge viewer-request (API requests)"] == pytest.approx(
        1.2 + 2e6 * 0.125 * 0.001 * 5e-5
    )
    assert items["CloudFront requests and transfer"] == pytest.approx(2.0)


def test_free_allowance_applies_once_across_the_lines_sharing_it(tmp_path: Path, prices_dir: Path) -> None:
    worker = {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Handler": "jobs.worker.handler", "MemorySize": 128, "Architectures": ["arm64"]},
    }
    model = _model(tmp_path, prices_dir, Worker=worker)
    model.figures["job_ms"] = cost.Figure(1.0, "given", "test")
    free = {p.line.resource: p.usd for p in cost.price(model, cost.Load(requests=1_500_000, jobs=500_000))}
    paid = {
        p.line.resource: p.usd
        for p in cost.price(
            dataclasses.replace(model, free_tier={}), cost.Load(requests=1_500_000, jobs=500_000)
        )
    }

    # 2M requests against 1M free: each line pays for half of its requests; GB-seconds have no allowance here.
    assert paid["Api"] - free["Api"] == pytest.approx(1_500_000 * 2e-7 / 2)
    assert paid["Worker"] - free["Worker"] == pytest.approx(500_000 * 2e-7 / 2)


def test_cognito_plus_has_no_free_tier_and_essentials_is_free_below_ten_thousand(
    tmp_path: Path, prices_dir: Path
) -> None:
    essentials = _by_item(cost.price(_model(tmp_path, prices_dir), cost.Load(mau=12_000)))
    plus_pool = {"Type": "AWS::Cognito::UserPool", "Properties": {"UserPoolTier": "PLUS"}}
    plus = _by_item(cost.price(_model(tmp_path, prices_dir, Pool=plus_pool), cost.Load(mau=12_000)))

    assert essentials["Cognito Essentials MAU"] == pytest.approx(2_000 * 0.01)
    assert plus["Cognito Plus MAU"] == pytest.approx(12_000 * 0.02)


def test_xray_samples_the_first_request_each_second_and_five_percent_of_the_rest() -> None:
    month = cost.SECONDS_PER_MONTH
    assert cost.xray_traces(month * 0.5) == pytest.approx(month * 0.5)
    assert cost.xray_traces(month * 3) == pytest.approx(month * (1 + 0.05 * 2))


def test_schedule_expressions_count_runs_in_a_thirty_day_month() -> None:
    assert cost.schedule_runs_per_month("rate(1 minute)") == 43_200
    assert cost.schedule_runs_per_month("rate(15 minutes)") == 2_880
    assert cost.schedule_runs_per_month("cron(15 3 * * ? *)") == 30
    with pytest.raises(cost.CostError):
        cost.schedule_runs_per_month("cron(0 12 1 * ? *)")


def test_an_unpriceable_type_is_listed_and_the_command_fails(
    tmp_path: Path, prices_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unknown = {"Type": "AWS::AppRunner::Service", "Properties": {}}
    out = _assembly(tmp_path, _template(Runner=unknown))

    code = main(["cost", "--cdk-out", str(out), "--prices", str(prices_dir)])

    assert code == cost.EXIT_UNPRICEABLE
    captured = capsys.readouterr()
    assert "t-dev-data/Runner (AWS::AppRunner::Service)" in captured.err
    assert "total" not in captured.out


def test_a_function_the_model_does_not_know_is_unpriceable(tmp_path: Path, prices_dir: Path) -> None:
    stray = {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "reports.export.handler"}}
    with pytest.raises(cost.Unpriceable, match=r"reports\.export\.handler"):
        cost.price(_model(tmp_path, prices_dir, Stray=stray), cost.Load())


def test_markdown_prints_one_column_per_load_and_the_per_million_figure(
    tmp_path: Path, prices_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _assembly(tmp_path, _template())

    code = main(
        [
            "cost",
            "--cdk-out",
            str(out),
            "--prices",
            str(prices_dir),
            "--markdown",
            "--mau",
            "0",
            "--mau",
            "1000",
        ]
    )

    text = capsys.readouterr().out
    assert code == 0
    assert "| item | 0 MAU | 1,000 MAU |" in text
    assert "| **total** | **83.30** |" in text
    assert "Cost per million authenticated API requests" in text
    assert "| figure | value |" not in text  # the workload figures only with --figures


def test_bad_mix_and_figure_names_are_refused(
    tmp_path: Path, prices_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _assembly(tmp_path, _template())

    assert (
        main(["cost", "--cdk-out", str(out), "--prices", str(prices_dir), "--mix", "tweets=3"])
        == cost.EXIT_USAGE
    )
    assert (
        main(["cost", "--cdk-out", str(out), "--prices", str(prices_dir), "--figure", "warp=9"])
        == cost.EXIT_USAGE
    )
    assert "unknown" in capsys.readouterr().err


def test_a_missing_assembly_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--cdk-out", str(tmp_path / "nowhere")]) == cost.EXIT_USAGE
    assert "manifest.json" in capsys.readouterr().err


def test_figures_are_listed_once_with_their_kind(
    tmp_path: Path, prices_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _assembly(tmp_path, _template())
    args = ["cost", "--cdk-out", str(out), "--cdk-out", str(out), "--prices", str(prices_dir), "--markdown"]

    assert main([*args, "--figures", "--figure", "api_ms=7"]) == 0

    text = capsys.readouterr().out
    assert text.count("| `api_ms` | 7 | given | --figure on the command line |") == 1
    assert "| `api_init_ms` | 835 | measured |" in text


def test_a_nat_instance_pays_its_hours_root_volume_and_public_address(
    tmp_path: Path, prices_dir: Path
) -> None:
    nat = {"Type": "AWS::EC2::Instance", "Properties": {"InstanceType": "t4g.nano", "SourceDestCheck": False}}
    other = {"Type": "AWS::EC2::Instance", "Properties": {"InstanceType": "t4g.nano"}}
    items = _by_item(cost.price(_model(tmp_path, prices_dir, NatBox=nat, Other=other), cost.Load()))

    assert items["EC2 t4g.nano NAT instance, root volume, public IPv4"] == pytest.approx(
        730 * 0.005 + 8 * 0.1 + 730 * 0.005
    )
    assert items["EC2 t4g.nano, root volume"] == pytest.approx(730 * 0.005 + 8 * 0.1)


def test_a_stack_in_a_region_without_a_price_table_names_the_missing_meter(
    tmp_path: Path, prices_dir: Path
) -> None:
    (prices_dir / f"{REGION}.json").unlink()
    with pytest.raises(cost.Unpriceable, match=r"not in the eu-west-1 price table"):
        cost.price(_model(tmp_path, prices_dir), cost.Load())


def _metrics_api(per_route: str) -> dict[str, Any]:
    variables = {"POWERTOOLS_METRICS_NAMESPACE": "SaasPlatform", "METRICS_PER_ROUTE": per_route}
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Handler": "api.main.handler",
            "MemorySize": 1024,
            "Architectures": ["arm64"],
            "Environment": {"Variables": variables},
        },
    }


@pytest.mark.parametrize(("per_route", "catalog"), [("false", 38), ("true", 2 * 101 + 36)])
def test_custom_metrics_are_the_catalog_series_plus_the_other_powertools_names(
    tmp_path: Path, prices_dir: Path, per_route: str, catalog: int
) -> None:
    """38 = latency + errors per service (2) + requests by 5 plans x 3 outcomes (15) + usage share and
    refusals for the 2 hard-limited plans (4) + 9 webhook and 6 job outcomes + the 2 business gauges; per
    route: 101 route values (the 100-template bound + unmatched) for each of the two."""
    model = _model(tmp_path, prices_dir, Api=_metrics_api(per_route))
    busy = {line.item: line.meters for line in cost.lines_for(model, cost.Load(mau=1, requests=1))}
    idle = {line.item: line.meters for line in cost.lines_for(model, cost.Load())}
    (catalog_item,) = [item for item in busy if item.startswith("CloudWatch custom metrics (EMF): requests")]
    assert busy[catalog_item]["cloudwatch_metric_month"] == catalog
    assert busy["CloudWatch custom metrics (EMF): other Powertools metrics"]["cloudwatch_metric_month"] == 16
    assert idle[catalog_item]["cloudwatch_metric_month"] == 8  # the scheduled sweeps: job outcomes, gauges
    assert idle["CloudWatch custom metrics (EMF): other Powertools metrics"]["cloudwatch_metric_month"] == 0
