"""Outbound webhooks (Standard Webhooks): the KMS key that encrypts endpoint secrets, the delivery queue +
DLQ, and the delivery worker in the VPC (it reaches the tenants' endpoints through the VPC's NAT)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from infra.components.api import function_code
from infra.components.queues import QueueWithDlq
from infra.components.service_function import ServiceFunction
from infra.config import EnvironmentConfig

DELIVERY_BATCH_SIZE = 10
# One attempt is at most connect (3 s) + answer (10 s) of WEBHOOK_* timeouts; a batch of ten fits.
DELIVERY_TIMEOUT = Duration.seconds(150)


class OutboundWebhooks(Construct):
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
        environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.secrets_key = kms.Key(
            self,
            "SecretsKey",
            alias=f"alias/{config.stack_prefix}/webhook-secrets",
            description="Encrypts tenants' webhook signing secrets (encryption context: tenant and endpoint)",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        self.queues = QueueWithDlq(self, "Deliveries", consumer_timeout=DELIVERY_TIMEOUT)
        self.environment = {
            "WEBHOOK_DELIVERY_QUEUE_URL": self.queues.queue.queue_url,
            "WEBHOOK_SECRETS_KMS_KEY_ID": self.secrets_key.key_arn,
        }
        self.worker = ServiceFunction(
            self,
            "Worker",
            code=function_code("jobs"),
            handler="jobs.webhook_worker.handler",
            service="webhook-delivery",
            description="Signs and sends tenants' webhook deliveries, with backoff for up to 3 days",
            config=config,
            layers=layers,
            memory_mb=512,
            timeout=DELIVERY_TIMEOUT,
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[security_group],
            environment={**environment, **self.environment},
        ).function
        self.worker.add_event_source(
            sources.SqsEventSource(
                self.queues.queue,
                batch_size=DELIVERY_BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=config.concurrency.webhook_delivery,
            )
        )
        self.queues.queue.grant_send_messages(self.worker)  # the next attempt is a new, delayed message
        self.secrets_key.grant_decrypt(self.worker)

    def grant_encrypt(self, grantee: iam.IGrantable) -> None:
        """The API creates and rotates secrets: it encrypts, it never decrypts."""
        self.secrets_key.grant(grantee, "kms:Encrypt")

    def grant_dispatch(self, grantee: iam.IGrantable) -> None:
        """The jobs worker fans events out onto the delivery queue."""
        self.queues.queue.grant_send_messages(grantee)
