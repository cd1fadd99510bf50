"""The environment variables the functions' settings classes read, filled from the local stack's state.

One mapping for every function (they run in the stack's child processes, which inherit it), named
after the `validation_alias` of each settings field: `saascore.settings`, `api.settings`,
`webhooks.settings`, `jobs.settings`.
"""

from __future__ import annotations

import json
from pathlib import Path

from local.aws import CREDENTIALS, JOBS_MAX_RECEIVES
from local.cells import cells_setting
from local.idp import DevIdp
from local.state import StackState

# Known before anything is provisioned: children start with these, so module-level loggers see them.
STATIC_ENVIRONMENT = {
    **CREDENTIALS,
    "APP_ENV": "local",
    "LOG_LEVEL": "INFO",
    "POWERTOOLS_METRICS_NAMESPACE": "saas-local",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}


LOCAL_CELL_DIRECTORY_TTL = 5


def function_environment(state: StackState) -> dict[str, str]:
    idp = DevIdp(state.idp_issuer, Path(state.idp_key_path), state.idp_client_id)
    stripe_secret_ref = f"secretsmanager:{state.stripe_webhook_secret_name}#webhook_secret"
    return {
        **STATIC_ENVIRONMENT,
        "AWS_ENDPOINT_URL": state.moto_url,
        "DATABASE_URL": state.database_url,
        # the streaming replica: reports and audit-log listing read from it (saascore.db.replica)
        **({"DATABASE_READ_URL": state.read_database_url} if state.read_database_url else {}),
        "CELLS": cells_setting(state.cells),
        # short, so `saas tenants move --local --settle-seconds 5` (which must wait at least this) is quick
        "CELL_DIRECTORY_TTL": str(LOCAL_CELL_DIRECTORY_TTL),
        # api
        "SESSION_ISSUER": state.session_issuer,
        "SESSION_KEY_SOURCE": "pem",
        "SESSION_PRIVATE_KEY": Path(state.session_key_path).read_text(),
        "COOKIE_SECURE": "true",
        "IDP_ISSUER": idp.issuer,
        "IDP_JWKS": json.dumps(idp.jwks()),
        "IDP_AUDIENCES": idp.client_id,
        "IDP_CLIENT_IDS": "",
        "IDP_TOKEN_USE": "id",
        "RATE_LIMIT_TABLE": state.rate_limit_table,
        # SSO connections live in moto's Cognito; the dev IdP and test IdPs are on loopback. There is no
        # hosted UI locally, so discovery answers "password" (docs/identity.md).
        "SSO_USER_POOL_ID": state.sso_user_pool_id,
        "SSO_APP_CLIENT_ID": state.sso_app_client_id,
        "SSO_SECRET_PREFIX": "saas/local/sso",
        "SSO_ALLOW_LOOPBACK_FETCH": "true",
        # domain verification asks the stack's own DNS (local/dns.py; `saas dev txt NAME VALUE` publishes)
        **({"SSO_DNS_SERVER": f"127.0.0.1:{state.dns_port}"} if state.dns_port else {}),
        # webhooks and billing
        "WEBHOOK_QUEUE_URL": state.webhooks.url,
        "STRIPE_WEBHOOK_SECRET": stripe_secret_ref,
        "STRIPE_API_KEY": state.stripe_api_key,
        "STRIPE_API_BASE": state.stripe_api_base,
        "BILLING_CHECKOUT_SUCCESS_URL": f"{state.gateway_url}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
        "BILLING_CHECKOUT_CANCEL_URL": f"{state.gateway_url}/billing/canceled",
        "BILLING_PORTAL_RETURN_URL": f"{state.gateway_url}/billing",
        # jobs: short timeouts and backoff so retries are visible in seconds; the visibility timeout
        # of the local jobs queue is derived from the same numbers (see local.aws.QueueTimings).
        "JOBS_QUEUE_URL": state.jobs.url,
        "JOB_TIMEOUT_SECONDS": str(state.job_timeout_seconds),
        "JOB_LOCK_MARGIN_SECONDS": "0",
        "JOB_BACKOFF_BASE_SECONDS": "1",
        "JOB_BACKOFF_CAP_SECONDS": "5",
        "JOB_MAX_ATTEMPTS": str(JOBS_MAX_RECEIVES),
        "REPORTS_BUCKET": state.reports_bucket,
        "AUDIT_LOG_BUCKET": state.audit_log_bucket,
        "EMAIL_SENDER": state.ses_sender,
        # outbound webhooks: receivers on loopback are allowed here (local and test only, never in AWS)
        "WEBHOOK_DELIVERY_QUEUE_URL": state.webhook_deliveries.url,
        "WEBHOOK_SECRETS_KMS_KEY_ID": state.webhook_secrets_key_id,
        "WEBHOOK_ALLOW_LOOPBACK": "true",
    }
