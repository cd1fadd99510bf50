"""Origin functions, Function URLs and the migrate trigger."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match

from tests.infra.conftest import Assembly, cdk_context

CONTRACT_HANDLERS = {
    "api.main.handler",
    "webhooks.receiver.handler",
    "webhooks.processor.handler",
    "jobs.worker.handler",
    "jobs.scheduler.handler",
    "jobs.ses_events.handler",
    "jobs.webhook_worker.handler",
    "saascore.db.migrate_handler.handler",
}


def python_functions(assembly: Assembly, suffix: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in assembly.resources(suffix, "AWS::Lambda::Function").items()
        if str(resource["Properties"].get("Runtime", "")).startswith("python")
    }


def test_every_contract_handler_is_deployed_on_the_bytecode_runtime_with_tracing(assembly: Assembly) -> None:
    from infra.config import load_config

    tracing = load_config(cdk_context(), default_account=None, default_region=None).tracing
    functions = python_functions(assembly, "service").values()
    assert {function["Properties"]["Handler"] for function in functions} == CONTRACT_HANDLERS
    for function in functions:
        properties = function["Properties"]
        assert properties["Architectures"] == ["x86_64"]
        assert properties["Runtime"] == "python3.11"  # the build interpreter's: its bytecode loads
        assert properties["TracingConfig"] == {"Mode": "Active" if tracing == "active" else "PassThrough"}
        assert len(properties["Layers"]) == 2  # deps + shared


def test_database_functions_use_iam_auth_through_the_proxy(assembly: Assembly) -> None:
    for function in python_functions(assembly, "service").values():
        properties = function["Properties"]
        variables = properties.get("Environment", {}).get("Variables", {})
        if properties["Handler"] in {
            "api.main.handler",
            "webhooks.processor.handler",
            "jobs.worker.handler",
            "jobs.ses_events.handler",
            "jobs.webhook_worker.handler",
        }:
            assert variables["DB_AUTH"] == "iam"
            assert variables["DB_USER"] == "saas_app"
            assert "VpcConfig" in properties
        assert "DB_PASSWORD" not in variables


def test_function_urls_are_iam_authenticated_and_only_cloudfront_may_invoke(
    service: Any, assembly: Assembly
) -> None:
    urls = assembly.resources("service", "AWS::Lambda::Url")
    assert len(urls) == 2
    assert {url["Properties"]["AuthType"] for url in urls.values()} == {"AWS_IAM"}
    service.has_resource_properties(
        "AWS::CloudFront::OriginAccessControl",
        {
            "OriginAccessControlConfig": Match.object_like(
                {"OriginAccessControlOriginType": "lambda", "SigningBehavior": "always"}
            )
        },
    )
    url_permissions = [
        permission["Properties"]
        for permission in assembly.resources("service", "AWS::Lambda::Permission").values()
        if permission["Properties"]["Action"] == "lambda:InvokeFunctionUrl"
    ]
    assert len(url_permissions) == 2
    invoke_permissions = [
        permission["Properties"]
        for permission in assembly.resources("service", "AWS::Lambda::Permission").values()
        if permission["Properties"]["Action"] == "lambda:InvokeFunction"
    ]
    assert [p.get("InvokedViaFunctionUrl") for p in invoke_permissions] == [True, True]
    for permission in url_permissions + invoke_permissions:
        assert permission["Principal"] == "cloudfront.amazonaws.com"
        assert "distribution/" in str(permission["SourceArn"])


def test_migrations_run_before_the_api_alias_moves(assembly: Assembly) -> None:
    resources = assembly.template("service")["Resources"]
    (trigger_id,) = [logical_id for logical_id, r in resources.items() if r["Type"] == "Custom::Trigger"]
    migrate = next(
        r
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"].get("Handler") == "saascore.db.migrate_handler.handler"
    )
    assert set(migrate["Properties"]["Environment"]["Variables"]) >= {"MIGRATE_SECRET_ARN"}
    aliases = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Alias"]
    api_alias = next(a for a in aliases if "Api" in str(a["Properties"]["FunctionName"]))
    assert trigger_id in api_alias.get("DependsOn", [])


def test_rate_limit_table_is_encrypted_with_ttl_and_only_updated(service: Any, assembly: Assembly) -> None:
    service.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "SSESpecification": {"SSEEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        },
    )
    actions = {
        action
        for policy in assembly.resources("service", "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        if action.startswith("dynamodb:")
    }
    assert actions == {"dynamodb:UpdateItem"}


def test_session_key_is_asymmetric_and_the_api_may_only_sign(service: Any, assembly: Assembly) -> None:
    service.has_resource_properties("AWS::KMS::Key", {"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"})
    kms_actions = {
        action
        for policy in assembly.resources("service", "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        if action.startswith("kms:Sign") or action.startswith("kms:GetPublicKey")
    }
    assert kms_actions == {"kms:Sign", "kms:GetPublicKey"}
