"""Schema migrations on every deploy: a migrate function (owner role, straight to each cell's instance) run
by a CDK Trigger after the databases exist and before the API's live alias moves to the new version."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from aws_cdk import Duration, triggers
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.components.service_function import ServiceFunction
from infra.config import EnvironmentConfig
from infra.packaging import stage_tree

MIGRATE_HANDLER = "saascore.db.migrate_handler.handler"
MIGRATE_TIMEOUT = Duration.minutes(10)


class Migrations(Construct):
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
        owner_secret: secretsmanager.ISecret,
        cell_owner_secrets: Mapping[str, secretsmanager.ISecret],
        run_after: Sequence[Construct],
        run_before: Sequence[Construct],
    ) -> None:
        super().__init__(scope, construct_id)
        # The handler lives in the shared layer; the function's own code is an empty marker package.
        code = stage_tree(
            "migrate-function", sources={}, files={"README.txt": b"handler: saascore (shared layer)\n"}
        )
        self.service = ServiceFunction(
            self,
            "Handler",
            code=lambda_.Code.from_asset(str(code)),
            handler=MIGRATE_HANDLER,
            service="migrate",
            description="Applies SQL migrations as the owner role during deployment",
            config=config,
            layers=layers,
            memory_mb=512,
            timeout=MIGRATE_TIMEOUT,
            reserved_concurrency=config.concurrency.migrate,
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[security_group],
            environment={
                "MIGRATE_SECRET_ARN": owner_secret.secret_arn,
                # The dedicated cells' owner secrets, by cell name (saascore.db.migrate_handler).
                **(
                    {
                        "MIGRATE_CELL_SECRET_ARNS": json.dumps(
                            {name: secret.secret_arn for name, secret in cell_owner_secrets.items()},
                            sort_keys=True,
                        )
                    }
                    if cell_owner_secrets
                    else {}
                ),
            },
        )
        self.function = self.service.function
        for secret in (owner_secret, *cell_owner_secrets.values()):
            secret.grant_read(self.function)
        self.trigger = triggers.Trigger(
            self,
            "OnDeploy",
            handler=self.function,
            timeout=MIGRATE_TIMEOUT,
            invocation_type=triggers.InvocationType.REQUEST_RESPONSE,
            execute_on_handler_change=True,
            execute_after=list(run_after),
            execute_before=list(run_before),
        )
