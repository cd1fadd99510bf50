"""The local stack's AWS resources: what the functions call must exist in moto."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from jobs.settings import JobsSettings
from jobs.tasks.email_templates import TEMPLATES, ses_template_name
from local.aws import SES_SENDER, QueueTimings, client, provision
from local.moto_process import moto_server_process


def test_every_email_template_exists_and_sends_and_provisioning_twice_is_harmless() -> None:
    timings = QueueTimings(webhooks_visibility=5, job_timeout=5)
    with moto_server_process() as endpoint:
        for _ in range(2):
            provision(endpoint, webhook_secret="whsec_test", stripe_api_key="sk_test_local", timings=timings)
        ses = client("ses", endpoint)
        prefix = JobsSettings.model_fields["email_template_prefix"].default
        names = {entry["Name"] for entry in ses.list_templates()["TemplatesMetadata"]}
        assert names == {ses_template_name(prefix, name) for name in TEMPLATES}
        for name in TEMPLATES:
            sent = ses.send_templated_email(
                Source=SES_SENDER,
                Destination={"ToAddresses": ["someone@example.com"]},
                Template=ses_template_name(prefix, name),
                TemplateData=json.dumps({"tenant_name": "Acme"}),
            )
            assert sent["MessageId"]


def test_the_sso_user_pool_and_app_client_exist_once() -> None:
    timings = QueueTimings(webhooks_visibility=5, job_timeout=5)
    with moto_server_process() as endpoint:
        first = provision(
            endpoint, webhook_secret="whsec_test", stripe_api_key="sk_test_local", timings=timings
        )
        again = provision(
            endpoint, webhook_secret="whsec_test", stripe_api_key="sk_test_local", timings=timings
        )
        assert (again.sso_user_pool_id, again.sso_app_client_id) == (
            first.sso_user_pool_id,
            first.sso_app_client_id,
        )
        described = client("cognito-idp", endpoint).describe_user_pool_client(
            UserPoolId=first.sso_user_pool_id, ClientId=first.sso_app_client_id
        )["UserPoolClient"]
        assert described["SupportedIdentityProviders"] == ["COGNITO"]


def test_the_audit_log_bucket_is_object_locked_and_refuses_an_early_delete() -> None:
    timings = QueueTimings(webhooks_visibility=5, job_timeout=5)
    with moto_server_process() as endpoint:
        for _ in range(2):
            provisioned = provision(
                endpoint, webhook_secret="whsec_test", stripe_api_key="sk_test_local", timings=timings
            )
        s3 = client("s3", endpoint)
        bucket = provisioned.audit_log_bucket
        lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
        assert lock["Rule"]["DefaultRetention"]["Mode"] == "GOVERNANCE"
        version = s3.put_object(Bucket=bucket, Key="audit-logs/t/2026/11/02.jsonl", Body=b"{}\n")["VersionId"]
        with pytest.raises(ClientError):
            s3.delete_object(Bucket=bucket, Key="audit-logs/t/2026/11/02.jsonl", VersionId=version)
