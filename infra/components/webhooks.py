"""Stripe webhooks: a receiver outside the VPC (verify, enqueue, 200) behind its own Function URL, the
FIFO queue grouped by Stripe customer, and a processor in the VPC with partial batch responses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from infra.components.api import function_code
from infra.components.queues import QueueWithDlq
from infra.components.service_function import ServiceFunction
from infra.components.stripe_secret import StripeSecret
from infra.config import EnvironmentConfig

PROCESSOR_BATCH_SIZE = 10


class Webhooks(Construct):
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
        stripe: StripeSecret,
        processor_environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        processor_timeout = Duration.seconds(config.processor_timeout_seconds)
        self.queues = QueueWithDlq(self, "Events", consumer_timeout=processor_timeout, fifo=True)
        common = {
            "STRIPE_WEBHOOK_SECRET": stripe.reference("webhook_secret"),
            "STRIPE_LIVEMODE": "true" if config.name == "prod" else "false",
        }
        self.receiver = ServiceFunction(
            self,
            "Receiver",
            code=function_code("webhooks"),
            handler="webhooks.receiver.handler",
            service="webhooks-receiver",
            description="Verifies Stripe signatures and enqueues events (FIFO by customer)",
            config=config,
            layers=layers,
            memory_mb=512,
            timeout=Duration.seconds(10),
            environment={**common, "WEBHOOK_QUEUE_URL": self.queues.queue.queue_url},
        ).function
        self.receiver_alias = lambda_.Alias(
            self, "ReceiverLive", alias_name="live", version=self.receiver.current_version
        )
        self.receiver_url = self.receiver_alias.add_function_url(
            auth_type=lambda_.FunctionUrlAuthType.AWS_IAM
        )
        self.processor = ServiceFunction(
            self,
            "Processor",
            code=function_code("webhooks"),
            handler="webhooks.processor.handler",
            service="webhooks-processor",
            description="Applies Stripe events exactly once (stripe_events) with partial batch failures",
            config=config,
            layers=layers,
            memory_mb=512,
            timeout=processor_timeout,
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[security_group],
            environment={
                **common,
                "STRIPE_API_KEY": stripe.reference("api_key"),
                **processor_environment,
            },
        ).function
        self.queues.queue.grant_send_messages(self.receiver)
        stripe.grant_read(self.receiver)
        stripe.grant_read(self.processor)
        self.processor.add_event_source(
            sources.SqsEventSource(
                self.queues.queue,
                batch_size=PROCESSOR_BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=config.concurrency.webhook_processor,
            )
        )
