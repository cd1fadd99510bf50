"""What `send_email` needs from SES besides the identity: a configuration set, the templates, and the feedback
feed (event destination → encrypted SNS topic → SQS queue + DLQ → `jobs.ses_events.handler` in the VPC)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.components.api import function_code
from infra.components.queues import QueueWithDlq
from infra.components.service_function import ServiceFunction
from infra.config import EnvironmentConfig

# Bounces and complaints feed the suppression list; deliveries complete the ledger rows.
FEEDBACK_EVENTS = (
    ses.EmailSendingEvent.BOUNCE,
    ses.EmailSendingEvent.COMPLAINT,
    ses.EmailSendingEvent.DELIVERY,
)
CONSUMER_TIMEOUT = Duration.seconds(30)
CONSUMER_BATCH_SIZE = 10


class Email(Construct):
    """Exposes `configuration_set`, `topic`, `queues` and `consumer`; the worker gets
    `worker_environment` and `grant_send`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        identity: ses.EmailIdentity,
        layers: Sequence[lambda_.ILayerVersion],
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        from jobs.tasks.email_templates import TEMPLATES, ses_template_name

        self._identity = identity
        self.configuration_set = ses.ConfigurationSet(self, "ConfigurationSet", reputation_metrics=True)
        # Prefixed per environment: SES template names are unique per account and region.
        self.template_prefix = config.stack_prefix
        self.template_names = [ses_template_name(self.template_prefix, name) for name in TEMPLATES]
        for name, template in TEMPLATES.items():
            ses.CfnTemplate(
                self,
                f"Template{name}",
                template=ses.CfnTemplate.TemplateProperty(
                    template_name=ses_template_name(self.template_prefix, name),
                    subject_part=template.subject,
                    html_part=template.html,
                    text_part=template.text,
                ),
            )

        key = kms.Key(self, "TopicKey", enable_key_rotation=True, description="Encrypts the SES event topic")
        # SES publishes to an encrypted topic only with these rights on its key (SES developer guide).
        key.grant(iam.ServicePrincipal("ses.amazonaws.com"), "kms:GenerateDataKey*", "kms:Decrypt")
        self.topic = sns.Topic(self, "Topic", master_key=key, enforce_ssl=True)
        # CDK adds the topic policy: sns:Publish for ses.amazonaws.com from this configuration set only.
        self.configuration_set.add_event_destination(
            "ToTopic", destination=ses.EventDestination.sns_topic(self.topic), events=list(FEEDBACK_EVENTS)
        )
        self.queues = QueueWithDlq(self, "Feedback", consumer_timeout=CONSUMER_TIMEOUT)
        # Not raw: the consumer reads the SNS envelope, which is also what identity notifications produce.
        self.topic.add_subscription(subscriptions.SqsSubscription(self.queues.queue))
        self.consumer = ServiceFunction(
            self,
            "Consumer",
            code=function_code("jobs"),
            handler="jobs.ses_events.handler",
            service="ses-events",
            description="SES bounces and complaints → email_suppressions; feedback → the delivery ledger",
            config=config,
            layers=layers,
            memory_mb=256,
            timeout=CONSUMER_TIMEOUT,
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[security_group],
            environment=environment,
        ).function
        self.consumer.add_event_source(
            sources.SqsEventSource(
                self.queues.queue,
                batch_size=CONSUMER_BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=config.concurrency.ses_consumer,
            )
        )

    @property
    def worker_environment(self) -> dict[str, str]:
        return {
            "EMAIL_CONFIGURATION_SET": self.configuration_set.configuration_set_name,
            "EMAIL_TEMPLATE_PREFIX": self.template_prefix,
        }

    def grant_send(self, grantee: lambda_.IFunction) -> None:
        """SendTemplatedEmail from the identity, through the configuration set, with these templates only."""
        stack = Stack.of(self)

        def arn(resource: str, name: str) -> str:
            return stack.format_arn(service="ses", resource=resource, resource_name=name)

        grantee.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ses:SendTemplatedEmail"],
                resources=[
                    arn("identity", self._identity.email_identity_name),
                    arn("configuration-set", self.configuration_set.configuration_set_name),
                    *(arn("template", name) for name in self.template_names),
                ],
            )
        )
