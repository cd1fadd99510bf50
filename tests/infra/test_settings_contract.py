"""The environment the infrastructure gives each function matches the settings classes that read it:
every variable set is one a settings class knows (no typos), and each function gets what it needs."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic_settings import BaseSettings

from api.settings import ApiSettings
from jobs.registry import SCHEDULES
from jobs.settings import JobsSettings
from saascore.billing.settings import BillingSettings
from saascore.events.settings import WebhookSettings
from saascore.jobs.settings import JobsQueueSettings
from saascore.settings import DatabaseSettings
from tests.infra.conftest import Assembly
from webhooks.settings import WebhooksSettings

RUNTIME_VARIABLES = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL", "APP_ENV"}
MIGRATE_VARIABLES = {"MIGRATE_SECRET_ARN"}  # read by saascore.db.migrate_handler


def _aliases(*classes: type[BaseSettings]) -> set[str]:
    names = set()
    for settings_class in classes:
        prefix = str(settings_class.model_config.get("env_prefix", ""))
        for name, field in settings_class.model_fields.items():
            names.add(str(field.validation_alias) if field.validation_alias else f"{prefix}{name}".upper())
    return names


READERS: dict[str, tuple[type[BaseSettings], ...]] = {
    "api.main.handler": (ApiSettings, DatabaseSettings, BillingSettings, JobsQueueSettings, WebhookSettings),
    "webhooks.receiver.handler": (WebhooksSettings,),
    "webhooks.processor.handler": (WebhooksSettings, DatabaseSettings, BillingSettings, JobsQueueSettings),
    "jobs.worker.handler": (
        JobsSettings,
        DatabaseSettings,
        BillingSettings,
        JobsQueueSettings,
        WebhookSettings,
    ),
    "jobs.webhook_worker.handler": (WebhookSettings, DatabaseSettings, JobsQueueSettings),
    "jobs.scheduler.handler": (JobsSettings, DatabaseSettings, BillingSettings, JobsQueueSettings),
    "jobs.ses_events.handler": (DatabaseSettings,),
}
REQUIRED = {
    "api.main.handler": {
        "IDP_AUDIENCES",
        "SESSION_KMS_KEY_ID",
        "SESSION_ISSUER",
        "IDP_ISSUER",
        "RATE_LIMIT_TABLE",
        "DB_HOST",
        "JOBS_QUEUE_URL",
        "WEBHOOK_SECRETS_KMS_KEY_ID",
    },
    "webhooks.receiver.handler": {"STRIPE_WEBHOOK_SECRET", "WEBHOOK_QUEUE_URL"},
    "webhooks.processor.handler": {"DB_HOST", "STRIPE_API_KEY", "JOBS_QUEUE_URL"},
    "jobs.worker.handler": {
        "DB_HOST",
        "JOBS_QUEUE_URL",
        "REPORTS_BUCKET",
        "EMAIL_SENDER",
        "EMAIL_CONFIGURATION_SET",
        "EMAIL_TEMPLATE_PREFIX",
        "STRIPE_API_KEY",
        "WEBHOOK_DELIVERY_QUEUE_URL",
    },
    "jobs.scheduler.handler": {"DB_HOST", "JOBS_QUEUE_URL"},
    "jobs.webhook_worker.handler": {
        "DB_HOST",
        "JOBS_QUEUE_URL",
        "WEBHOOK_DELIVERY_QUEUE_URL",
        "WEBHOOK_SECRETS_KMS_KEY_ID",
    },
    "jobs.ses_events.handler": {"DB_HOST", "DB_AUTH", "DB_USER"},
}


def _environments(assembly: Assembly) -> dict[str, dict[str, Any]]:
    return {
        resource["Properties"]["Handler"]: resource["Properties"].get("Environment", {}).get("Variables", {})
        for resource in assembly.resources("service", "AWS::Lambda::Function").values()
        if str(resource["Properties"].get("Runtime", "")).startswith("python")
    }


@pytest.mark.parametrize("handler", sorted(READERS))
def test_every_variable_is_read_by_a_settings_class_and_required_ones_are_set(
    assembly: Assembly, handler: str
) -> None:
    variables = set(_environments(assembly)[handler])
    unknown = variables - _aliases(*READERS[handler]) - RUNTIME_VARIABLES
    assert unknown == set()
    assert REQUIRED[handler] <= variables


def test_secrets_reach_functions_as_references_never_values(assembly: Assembly) -> None:
    for variables in _environments(assembly).values():
        for name in ("STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET"):
            if name in variables:
                assert variables[name]["Fn::Join"][1][0] == "secretsmanager:"
    assert (
        set(_environments(assembly)["saascore.db.migrate_handler.handler"]) - RUNTIME_VARIABLES
        == MIGRATE_VARIABLES
    )


def test_worker_timing_follows_the_jobs_contract(assembly: Assembly) -> None:
    resources = assembly.template("service")["Resources"]
    worker = next(
        r for r in resources.values() if r.get("Properties", {}).get("Handler") == "jobs.worker.handler"
    )
    variables = worker["Properties"]["Environment"]["Variables"]
    assert int(variables["JOB_TIMEOUT_SECONDS"]) == worker["Properties"]["Timeout"]
    jobs_queue = resources[variables["JOBS_QUEUE_URL"]["Ref"]]["Properties"]
    assert jobs_queue["RedrivePolicy"]["maxReceiveCount"] == int(variables["JOB_MAX_ATTEMPTS"])


def test_every_registry_schedule_invokes_the_scheduler(assembly: Assembly) -> None:
    schedules = assembly.resources("service", "AWS::Scheduler::Schedule").values()
    by_type = {}
    for schedule in schedules:
        target = schedule["Properties"]["Target"]
        by_type[target["Input"]] = schedule["Properties"]["ScheduleExpression"]
    expected = {
        f'{{"job_type":"{s.job_type}","scheduled_time":"<aws.scheduler.scheduled-time>"}}': s.expression
        for s in SCHEDULES
    }
    assert by_type == expected


def test_cognito_id_tokens_are_bound_by_audience_not_client_id(assembly: Assembly) -> None:
    variables = _environments(assembly)["api.main.handler"]
    assert variables["IDP_TOKEN_USE"] == "id"
    assert "IDP_CLIENT_IDS" not in variables  # ID tokens have no client_id claim: it would refuse them all
