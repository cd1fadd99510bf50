"""Local AWS: a moto server on loopback and the resources the functions use, created as in the CDK app.

Every boto3 client of the stack's processes reaches moto through `AWS_ENDPOINT_URL` (botocore's
standard variable), so function code runs unchanged. Queue settings mirror production where it matters
for behaviour (FIFO + content-based dedup off, redrive to a DLQ after N receives, visibility timeouts),
and are shorter where waiting would only slow a developer down.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

from local.state import REGION, QueuePair

WEBHOOKS_QUEUE = "saas-webhooks.fifo"
WEBHOOKS_DLQ = "saas-webhooks-dlq.fifo"
JOBS_QUEUE = "saas-jobs"
JOBS_DLQ = "saas-jobs-dlq"
WEBHOOK_DELIVERIES_QUEUE = "saas-webhook-deliveries"
WEBHOOK_DELIVERIES_DLQ = "saas-webhook-deliveries-dlq"
WEBHOOK_SECRETS_KEY_ALIAS = "alias/saas-local/webhook-secrets"
REPORTS_BUCKET = "saas-reports-local"
AUDIT_LOG_BUCKET = "saas-audit-logs-local"  # Object Lock, as in AWS: a daily file is written once
RATE_LIMIT_TABLE = "saas-rate-limits"
SES_SENDER = "no-reply@saas.local"
STRIPE_SECRET_NAME = "saas/local/stripe"  # noqa: S105 - a secret's name, not its value
SSO_USER_POOL = "saas-local"  # holds the tenants' SSO identity providers, as the Cognito pool does in AWS
SSO_APP_CLIENT = "web"
WEBHOOKS_MAX_RECEIVES = 5  # DESIGN §5: DLQ after 5 receives
JOBS_MAX_RECEIVES = 5
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass(frozen=True, slots=True)
class QueueTimings:
    """Local timeouts (seconds). Production sets visibility to 6x the function timeout; locally the jobs
    queue's visibility only has to outlast the worker's job lock (timeout + 0 margin), so a message from
    a killed worker comes back within seconds instead of minutes."""

    webhooks_visibility: int = 10
    job_timeout: int = 10

    @property
    def jobs_visibility(self) -> int:
        return self.job_timeout + 2


@dataclass(frozen=True, slots=True)
class Provisioned:
    webhooks: QueuePair
    jobs: QueuePair
    webhook_deliveries: QueuePair
    webhook_secrets_key_id: str
    reports_bucket: str
    rate_limit_table: str
    ses_sender: str
    stripe_secret_name: str
    sso_user_pool_id: str
    sso_app_client_id: str
    audit_log_bucket: str = AUDIT_LOG_BUCKET


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=CREDENTIALS["AWS_SESSION_TOKEN"],
    )


def _queue_pair(sqs: Any, *, name: str, dlq: str, fifo: bool, visibility: int, receives: int) -> QueuePair:
    fifo_attrs = {"FifoQueue": "true", "ContentBasedDeduplication": "false"} if fifo else {}
    dlq_url = sqs.create_queue(QueueName=dlq, Attributes={**fifo_attrs, "MessageRetentionPeriod": "1209600"})[
        "QueueUrl"
    ]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(receives)})
    url = sqs.create_queue(
        QueueName=name,
        Attributes={**fifo_attrs, "VisibilityTimeout": str(visibility), "RedrivePolicy": redrive},
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return QueuePair(name=name, url=url, arn=arn, dlq_name=dlq, dlq_url=dlq_url, dlq_arn=dlq_arn)


def _email_templates(ses: Any) -> None:
    """The templates `send_email` sends, named as the jobs function's default prefix names them (in AWS
    the infrastructure creates them)."""
    from jobs.settings import JobsSettings
    from jobs.tasks.email_templates import TEMPLATES, ses_template_name

    prefix = JobsSettings.model_fields["email_template_prefix"].default
    existing = {entry["Name"] for entry in ses.list_templates()["TemplatesMetadata"]}
    for name, template in TEMPLATES.items():
        content = {
            "TemplateName": ses_template_name(prefix, name),
            "SubjectPart": template.subject,
            "HtmlPart": template.html,
            "TextPart": template.text,
        }
        if content["TemplateName"] in existing:
            ses.update_template(Template=content)
        else:
            ses.create_template(Template=content)


def _sso_user_pool(endpoint: str) -> tuple[str, str]:
    """The user pool and app client whose identity providers the API manages (found again on a reused moto)."""
    cognito = client("cognito-idp", endpoint)
    pools = [
        pool["Id"]
        for pool in cognito.list_user_pools(MaxResults=60)["UserPools"]
        if pool["Name"] == SSO_USER_POOL
    ]
    pool_id = pools[0] if pools else cognito.create_user_pool(PoolName=SSO_USER_POOL)["UserPool"]["Id"]
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    found = [entry["ClientId"] for entry in clients if entry["ClientName"] == SSO_APP_CLIENT]
    if found:
        return pool_id, found[0]
    created = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=SSO_APP_CLIENT,
        SupportedIdentityProviders=["COGNITO"],
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "profile"],
        AllowedOAuthFlowsUserPoolClient=True,
        CallbackURLs=["http://127.0.0.1:8000/auth/callback"],
    )
    return pool_id, created["UserPoolClient"]["ClientId"]


def _webhook_secrets_key(kms: Any) -> str:
    """The key that encrypts endpoint secrets (decision 0100); reused on a moto server that has it."""
    aliases = {alias["AliasName"]: alias.get("TargetKeyId") for alias in kms.list_aliases()["Aliases"]}
    if aliases.get(WEBHOOK_SECRETS_KEY_ALIAS):
        return str(aliases[WEBHOOK_SECRETS_KEY_ALIAS])
    key_id = str(kms.create_key(Description="local webhook secrets")["KeyMetadata"]["KeyId"])
    kms.create_alias(AliasName=WEBHOOK_SECRETS_KEY_ALIAS, TargetKeyId=key_id)
    return key_id


def provision(
    endpoint: str, *, webhook_secret: str, stripe_api_key: str, timings: QueueTimings
) -> Provisioned:
    """Create every resource (idempotent against a fresh or reused moto server)."""
    sqs = client("sqs", endpoint)
    webhooks = _queue_pair(
        sqs,
        name=WEBHOOKS_QUEUE,
        dlq=WEBHOOKS_DLQ,
        fifo=True,
        visibility=timings.webhooks_visibility,
        receives=WEBHOOKS_MAX_RECEIVES,
    )
    jobs = _queue_pair(
        sqs,
        name=JOBS_QUEUE,
        dlq=JOBS_DLQ,
        fifo=False,
        visibility=timings.jobs_visibility,
        receives=JOBS_MAX_RECEIVES,
    )
    webhook_deliveries = _queue_pair(
        sqs,
        name=WEBHOOK_DELIVERIES_QUEUE,
        dlq=WEBHOOK_DELIVERIES_DLQ,
        fifo=False,
        visibility=timings.jobs_visibility,
        receives=JOBS_MAX_RECEIVES,
    )
    s3 = client("s3", endpoint)
    s3.create_bucket(Bucket=REPORTS_BUCKET)
    s3.create_bucket(Bucket=AUDIT_LOG_BUCKET, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=AUDIT_LOG_BUCKET,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    dynamodb = client("dynamodb", endpoint)
    if RATE_LIMIT_TABLE not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(
            TableName=RATE_LIMIT_TABLE,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    ses = client("ses", endpoint)
    ses.verify_email_identity(EmailAddress=SES_SENDER)
    _email_templates(ses)
    secrets = client("secretsmanager", endpoint)
    secret_value = json.dumps({"webhook_secret": webhook_secret, "api_key": stripe_api_key})
    names = {entry["Name"] for entry in secrets.list_secrets()["SecretList"]}
    if STRIPE_SECRET_NAME in names:
        secrets.put_secret_value(SecretId=STRIPE_SECRET_NAME, SecretString=secret_value)
    else:
        secrets.create_secret(Name=STRIPE_SECRET_NAME, SecretString=secret_value)
    sso_user_pool_id, sso_app_client_id = _sso_user_pool(endpoint)
    return Provisioned(
        webhooks=webhooks,
        jobs=jobs,
        webhook_deliveries=webhook_deliveries,
        webhook_secrets_key_id=_webhook_secrets_key(client("kms", endpoint)),
        reports_bucket=REPORTS_BUCKET,
        audit_log_bucket=AUDIT_LOG_BUCKET,
        rate_limit_table=RATE_LIMIT_TABLE,
        ses_sender=SES_SENDER,
        stripe_secret_name=STRIPE_SECRET_NAME,
        sso_user_pool_id=sso_user_pool_id,
        sso_app_client_id=sso_app_client_id,
    )


def queue_depths(endpoint: str, pair: QueuePair) -> dict[str, int]:
    sqs = client("sqs", endpoint)
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    main = sqs.get_queue_attributes(QueueUrl=pair.url, AttributeNames=names)["Attributes"]
    dlq = sqs.get_queue_attributes(QueueUrl=pair.dlq_url, AttributeNames=names)["Attributes"]
    return {
        "visible": int(main.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(main.get("ApproximateNumberOfMessagesNotVisible", 0)),
        "dlq": int(dlq.get("ApproximateNumberOfMessages", 0))
        + int(dlq.get("ApproximateNumberOfMessagesNotVisible", 0)),
    }
