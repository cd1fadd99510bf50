"""Stateless regional services: layers, identity, API, migrations, webhooks, jobs, CloudFront and
monitoring. Composes the components and grants; every resource detail lives in a component."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnElement, CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.components.access_logs import AccessLogs
from infra.components.api import Api
from infra.components.business_alarms import BusinessAlarms
from infra.components.cells import CellAlarms, ReplicaAlarms, cells_setting
from infra.components.database import Database
from infra.components.delivery import Delivery
from infra.components.erasure_receipt_key import ErasureReceiptKey
from infra.components.identity import Identity
from infra.components.jobs import Jobs
from infra.components.layers import Layers
from infra.components.migrations import Migrations
from infra.components.monitoring import AlarmTopic, Monitoring
from infra.components.outbound_webhooks import OutboundWebhooks
from infra.components.regional_parameters import RegionalParameterReader, reader_log_group, write_parameter
from infra.components.service_function import log_retention
from infra.components.sso import SsoFederation, redirect_uri_for
from infra.components.stripe_secret import StripeSecret
from infra.components.tenant_metrics import TenantMetrics
from infra.components.webhooks import Webhooks
from infra.config import EDGE_REGION, EnvironmentConfig
from infra.stacks.data_stack import DataStack
from infra.stacks.edge_stack import EDGE_WEB_ACL_KEY, EdgeStack


class ServiceStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        data: DataStack,
        edge: EdgeStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        network, database = data.network, data.database
        placement: dict[str, Any] = {
            "vpc": network.vpc,
            "subnets": network.function_subnets,
            "security_group": network.app_functions_sg,
        }
        db_env = {
            "DB_HOST": database.proxy_endpoint,
            "DB_PORT": "5432",
            "DB_NAME": config.database.name,
            "DB_USER": config.database.app_user,
            "DB_AUTH": "iam",
            "DB_SSLMODE": "require",
        }
        if data.cells:
            db_env["CELLS"] = cells_setting(data.cells, config.cells)
        logs = AccessLogs(self, "AccessLogs", retain=config.retain_data, retention_days=365)
        layers = Layers(self, "Layers", bundle=config.bundle, retain=config.retain_data).all
        identity = Identity(
            self,
            "Identity",
            retain=config.retain_data,
            prefix=config.stack_prefix,
            threat_protection=config.cognito_threat_protection,
            callback_urls=[redirect] if (redirect := redirect_uri_for(config.app_url)) else None,
        )
        sso = SsoFederation(self, "Sso", identity=identity, prefix=config.stack_prefix, redirect_uri=redirect)

        stripe = StripeSecret(self, "Stripe", name=f"{config.stack_prefix}/stripe", retain=config.retain_data)
        receipt_key = ErasureReceiptKey(
            self, "ErasureReceiptKey", name=f"{config.stack_prefix}/erasure-receipt-key"
        )
        jobs = Jobs(
            self,
            "Jobs",
            config=config,
            layers=layers,
            access_logs=logs.bucket,
            stripe=stripe,
            environment=db_env,
            **placement,
        )
        jobs_env = {**db_env, "JOBS_QUEUE_URL": jobs.queues.queue.queue_url}
        outbound = OutboundWebhooks(
            self, "OutboundWebhooks", config=config, layers=layers, environment=jobs_env, **placement
        )
        for name, value in outbound.environment.items():
            jobs.worker.add_environment(name, value)
        api = Api(
            self,
            "Api",
            config=config,
            layers=layers,
            environment={
                **jobs_env,
                **outbound.environment,
                "SESSION_ISSUER": config.session_issuer,
                "SESSION_AUDIENCE": config.session_audience,
                "SESSION_KEY_SOURCE": "kms",
                "SESSION_KMS_KEY_ID": identity.session_key.key_arn,
                "IDP_ISSUER": identity.issuer,
                "IDP_JWKS_URL": f"{identity.issuer}/.well-known/jwks.json",
                # Cognito ID tokens carry the app client id in `aud` (only access tokens have `client_id`).
                "IDP_AUDIENCES": identity.client.user_pool_client_id,
                "IDP_TOKEN_USE": "id",
                "STRIPE_API_KEY": stripe.reference("api_key"),
                # Without a domain these are paths, resolved against the host the viewer asked for.
                "BILLING_CHECKOUT_SUCCESS_URL": f"{config.app_url}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
                "BILLING_CHECKOUT_CANCEL_URL": f"{config.app_url}/billing/canceled",
                "BILLING_PORTAL_RETURN_URL": f"{config.app_url}/billing",
                **sso.environment,
                "REPORTS_BUCKET": jobs.reports_bucket.bucket_name,
            },
            **placement,
        )
        webhooks = Webhooks(
            self,
            "Webhooks",
            config=config,
            layers=layers,
            stripe=stripe,
            processor_environment=jobs_env,
            **placement,
        )
        Migrations(
            self,
            "Migrations",
            config=config,
            layers=layers,
            vpc=network.vpc,
            subnets=network.function_subnets,
            security_group=network.migrate_sg,
            owner_secret=database.owner_secret,
            cell_owner_secrets={name: cell.owner_secret for name, cell in data.cells.items()},
            run_after=[database.instance, *(cell.instance for cell in data.cells.values())],
            run_before=[
                api.alias,
                webhooks.processor,
                jobs.worker,
                jobs.scheduler,
                jobs.email.consumer,
                outbound.worker,
            ],
        )

        for function in (
            api.function,
            webhooks.processor,
            jobs.worker,
            jobs.scheduler,
            jobs.email.consumer,
            outbound.worker,
        ):
            for cell in (database, *data.cells.values()):
                cell.grant_app_connect(function)
        for function in (api.function, webhooks.processor, outbound.worker):
            jobs.queues.queue.grant_send_messages(function)
        outbound.grant_encrypt(api.function)
        outbound.grant_dispatch(jobs.worker)
        identity.grant_session_signing(api.function)
        sso.grant_management(api.function)
        jobs.grant_export_downloads(api.function)
        receipt_key.grant_read(jobs.worker)
        jobs.worker.add_environment("ERASURE_RECEIPT_KEY", receipt_key.reference)
        stripe.grant_read(api.function)

        from_edge = self._read_edge_handover(config, edge)
        versions = {
            key: lambda_.Version.from_version_arn(self, f"Edge-{key}", from_edge[f"edge/{key}"])
            for key in edge.functions.by_event
        }
        delivery = Delivery(
            self,
            "Delivery",
            api_url=api.url,
            webhook_url=webhooks.receiver_url,
            viewer_request=versions["viewer-request"],
            origin_request=versions["origin-request"],
            viewer_response=versions["viewer-response"] if config.anonymous_cookie_at_edge else None,
            web_acl_arn=from_edge[EDGE_WEB_ACL_KEY] if edge.waf else None,
            access_logs=logs.bucket,
            domain_names=config.domain_names,
            certificate_arn=config.certificate_arn,
        )
        monitoring = Monitoring(
            self,
            "Monitoring",
            name=config.stack_prefix,
            api=api.function,
            functions={
                "Api": api.function,
                "WebhookReceiver": webhooks.receiver,
                "WebhookProcessor": webhooks.processor,
                "JobsWorker": jobs.worker,
                "JobsScheduler": jobs.scheduler,
                "SesEvents": jobs.email.consumer,
                "WebhookDelivery": outbound.worker,
            },
            dead_letter_queues={
                "Webhooks": webhooks.queues.dead_letter_queue,
                "Jobs": jobs.queues.dead_letter_queue,
                "SesEvents": jobs.email.queues.dead_letter_queue,
                "WebhookDelivery": outbound.queues.dead_letter_queue,
            },
            queues={
                "Webhooks": webhooks.queues.queue,
                "Jobs": jobs.queues.queue,
                "SesEvents": jobs.email.queues.queue,
                "WebhookDelivery": outbound.queues.queue,
            },
            consumers={
                "WebhookProcessor": webhooks.processor,
                "JobsWorker": jobs.worker,
                "SesEvents": jobs.email.consumer,
                "WebhookDelivery": outbound.worker,
            },
            proxy=database.proxy,
            instance=database.instance,
            p99_latency_ms=config.p99_latency_ms,
            connection_budget=config.database.connection_budget,
            alarm_email=config.alarm_email,
            alarm_topic_arn=config.alarm_topic_arn,
        )
        BusinessAlarms(
            self,
            "BusinessAlarms",
            topic=monitoring.alarm_topic,
            signups_floor=config.signups_daily_floor,
            trial_conversions_floor=config.trial_conversions_daily_floor,
        )
        TenantMetrics(
            self,
            "TenantMetrics",
            name=config.stack_prefix,
            api_log_group=api.service.log_group,
            log_groups=[api.service.log_group, webhooks.processor.log_group, jobs.worker.log_group],
            per_route=config.per_route_metrics,
        )
        for name, cell in data.cells.items():
            CellAlarms(self, f"CellAlarms-{name}", cell=name, database=cell, topic=monitoring.alarm_topic)
        self._connect_replicas(
            {"pooled": database, **data.cells},
            readers=[api.function, jobs.worker],
            topic=monitoring.alarm_topic,
        )
        outputs = {
            "DistributionDomain": delivery.distribution.distribution_domain_name,
            "StripeWebhookEndpoint": f"https://{delivery.distribution.distribution_domain_name}/webhooks/stripe",
            "StripeSecretArn": stripe.secret.secret_arn,
            "UserPoolId": identity.user_pool.user_pool_id,
            "UserPoolClientId": identity.client.user_pool_client_id,
            "IdpIssuer": identity.issuer,
            "ReportsBucket": jobs.reports_bucket.bucket_name,
            "WebhookDlqUrl": webhooks.queues.dead_letter_queue.queue_url,
            "JobsDlqUrl": jobs.queues.dead_letter_queue.queue_url,
            "SesEventsDlqUrl": jobs.email.queues.dead_letter_queue.queue_url,
            "WebhookDeliveryDlqUrl": outbound.queues.dead_letter_queue.queue_url,
            "EmailConfigurationSet": jobs.email.configuration_set.configuration_set_name,
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
        # The us-east-1 alarms stack reads the distribution id from here (same mechanism, other way).
        write_parameter(
            self,
            "Handover-distribution-id",
            prefix=config.stack_prefix,
            key=DISTRIBUTION_ID_KEY,
            value=delivery.distribution.distribution_id,
        )
        cfn_distribution = delivery.distribution.node.default_child
        if not isinstance(cfn_distribution, CfnElement):
            raise TypeError("the distribution has no CloudFormation resource")
        self.distribution_revision = cfn_distribution.logical_id

    def _connect_replicas(
        self, cells: dict[str, Database], *, readers: list[lambda_.Function], topic: AlarmTopic
    ) -> None:
        """Only the API (reports, exports, metrics, audit-log listing) and the job worker read from the
        cells' replicas (decision 0152): the pooled one's address as `DB_READ_HOST` (a dedicated cell's is
        in `CELLS`), `rds-db:connect` on each, and the replicas' alarms."""
        for name, cell in cells.items():
            if cell.replica is None:
                continue
            for reader in readers:
                cell.grant_replica_connect(reader)
                if name == "pooled" and cell.read_endpoint is not None:
                    reader.add_environment("DB_READ_HOST", cell.read_endpoint)
            ReplicaAlarms(self, f"ReplicaAlarms-{name}", cell=name, database=cell, topic=topic)

    def _read_edge_handover(self, config: EnvironmentConfig, edge: EdgeStack) -> dict[str, str]:
        """What the edge stack wrote in us-east-1; the service stack deploys after it (`add_dependency`)."""
        log_group = reader_log_group(
            self, retention=log_retention(config.log_retention_days), retain=config.retain_data
        )
        return {
            key: RegionalParameterReader(
                self,
                f"FromEdge-{key.replace('/', '-')}",
                prefix=config.stack_prefix,
                key=key,
                region=EDGE_REGION,
                revision=revision,
                log_group=log_group,
            ).value
            for key, (_, revision) in edge.handover.items()
        }


DISTRIBUTION_ID_KEY = "delivery/distribution-id"
