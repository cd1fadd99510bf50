"""Background jobs: the standard queue + DLQ the API and webhooks enqueue to, the worker, the scheduler
function EventBridge Scheduler invokes, the private reports bucket, the SES sending identity and (in
`email.Email`) everything else `send_email` needs from SES."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from constructs import Construct

from infra.components.api import function_code
from infra.components.email import Email
from infra.components.nag import acknowledge_wildcard_resource
from infra.components.queues import MAX_RECEIVES, QueueWithDlq
from infra.components.schedules import JobSchedules
from infra.components.service_function import ServiceFunction
from infra.components.stripe_secret import StripeSecret
from infra.config import EnvironmentConfig

WORKER_BATCH_SIZE = 5


class Jobs(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        layers: Sequence[lambda_.ILayerVersion],
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        access_logs: s3.IBucket,
        stripe: StripeSecret,
        environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        worker_timeout = Duration.seconds(config.worker_timeout_seconds)
        self.queues = QueueWithDlq(self, "Jobs", consumer_timeout=worker_timeout)
        self.reports_bucket = s3.Bucket(
            self,
            "Reports",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="reports/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(config.report_retention_days),
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
            auto_delete_objects=not config.retain_data,
        )
        self.audit_log_bucket = _audit_log_bucket(self, config=config, access_logs=access_logs)
        self.email_identity = ses.EmailIdentity(self, "Sender", identity=_ses_identity(config.ses_identity))
        self.email = Email(
            self,
            "Email",
            config=config,
            identity=self.email_identity,
            layers=layers,
            vpc=vpc,
            subnets=subnets,
            security_group=security_group,
            environment=environment,
        )
        shared_env = {
            "JOBS_QUEUE_URL": self.queues.queue.queue_url,
            "JOB_TIMEOUT_SECONDS": str(config.worker_timeout_seconds),
            # The worker marks a job dead on its last receive; SQS dead-letters it on the next one.
            "JOB_MAX_ATTEMPTS": str(MAX_RECEIVES),
            "REPORTS_BUCKET": self.reports_bucket.bucket_name,
            "AUDIT_LOG_BUCKET": self.audit_log_bucket.bucket_name,
            "EMAIL_SENDER": config.sender_address,
            **self.email.worker_environment,
            "STRIPE_API_KEY": stripe.reference("api_key"),
            **environment,
        }
        common: dict[str, object] = {
            "config": config,
            "layers": layers,
            "vpc": vpc,
            "vpc_subnets": subnets,
            "security_groups": [security_group],
            "environment": shared_env,
        }
        self.worker = ServiceFunction(
            self,
            "Worker",
            code=function_code("jobs"),
            handler="jobs.worker.handler",
            service="jobs-worker",
            description="Runs queued jobs (reports, email, usage to Stripe, purges, reconciliation)",
            memory_mb=1024,
            timeout=worker_timeout,
            **common,  # type: ignore[arg-type]
        ).function
        self.scheduler = ServiceFunction(
            self,
            "Scheduler",
            code=function_code("jobs"),
            handler="jobs.scheduler.handler",
            service="jobs-scheduler",
            description="Turns EventBridge Scheduler ticks into jobs for every tenant",
            memory_mb=512,
            timeout=Duration.minutes(2),
            reserved_concurrency=config.concurrency.scheduler,
            **common,  # type: ignore[arg-type]
        ).function
        self.worker.add_event_source(
            sources.SqsEventSource(
                self.queues.queue,
                batch_size=WORKER_BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=config.concurrency.jobs_worker,
            )
        )
        for function in (self.worker, self.scheduler):
            self.queues.queue.grant_send_messages(function)
        # Multipart writes (PutObject covers create/upload part/complete) and presigned GET links only.
        self.worker.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
                resources=[self.reports_bucket.arn_for_objects("*")],
            )
        )
        from saascore.archive.audit_format import AUDIT_LOGS_PREFIX

        # The daily audit-log files: written once and read back (HeadObject) by key, never deleted; the
        # abort only ends the worker's own unfinished multipart upload.
        self.worker.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
                resources=[self.audit_log_bucket.arn_for_objects(f"{AUDIT_LOGS_PREFIX}*")],
            )
        )
        acknowledge_wildcard_resource(
            self.worker,
            resource=self.audit_log_bucket,
            suffix=f"/{AUDIT_LOGS_PREFIX}*",
            reason="Daily audit-log files under audit-logs/: one key per tenant and UTC day.",
        )
        stripe.grant_read(self.worker)
        self.email.grant_send(self.worker)
        acknowledge_wildcard_resource(
            self.worker,
            resource=self.reports_bucket,
            suffix="/*",
            reason="Objects under the reports bucket: tenants' report files are written and read by key.",
        )
        JobSchedules(self, "Schedules", target=self.scheduler)

    def grant_export_downloads(self, grantee: lambda_.IFunction) -> None:
        """GetObject on the tenant exports (the API presigns their download links), nothing else."""
        from saascore.archive.format import EXPORTS_PREFIX

        grantee.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[self.reports_bucket.arn_for_objects(f"{EXPORTS_PREFIX}*")],
            )
        )
        acknowledge_wildcard_resource(
            grantee,
            resource=self.reports_bucket,
            suffix=f"/{EXPORTS_PREFIX}*",
            reason="Tenant export archives under exports/: each download is presigned for one tenant's key.",
        )


def _audit_log_bucket(scope: Construct, *, config: EnvironmentConfig, access_logs: s3.IBucket) -> s3.Bucket:
    """Append-only daily audit-log files: Object Lock (versioning comes with it) with a default retention,
    so no one (in `compliance` mode not even the root user) overwrites or deletes a written day before it
    ends; always retained, since locked objects cannot be emptied out with the stack."""
    retention = Duration.days(config.audit_log_retention_days)
    lock = (
        s3.ObjectLockRetention.compliance(retention)
        if config.audit_log_lock_mode == "compliance"
        else s3.ObjectLockRetention.governance(retention)
    )
    return s3.Bucket(
        scope,
        "AuditLogs",
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned=True,
        object_lock_enabled=True,
        object_lock_default_retention=lock,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix="audit-logs/",
        lifecycle_rules=[
            s3.LifecycleRule(
                expiration=Duration.days(config.audit_log_retention_days + 1),
                noncurrent_version_expiration=Duration.days(1),
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )
        ],
        removal_policy=RemovalPolicy.RETAIN,
    )


def _ses_identity(value: str) -> ses.Identity:
    return ses.Identity.email(value) if "@" in value else ses.Identity.domain(value)
