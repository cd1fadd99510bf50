"""Stateful regional resources: the network and the cells' databases (kept apart so stateless stacks can be
replaced freely)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from infra.components import checkov
from infra.components.database import Database
from infra.components.network import Network
from infra.components.service_function import LOG_GROUP_KMS_REASON
from infra.config import EnvironmentConfig


class DataStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.network = Network(
            self,
            "Network",
            availability_zones=config.zones,
            nat_gateways=config.nat_gateways,
            nat=config.nat,
            nat_instance_type=config.nat_instance_type,
            interface_endpoints=config.interface_endpoints,
        )
        flow_logs = self.network.vpc.node.find_child("All").node.find_child("LogGroup")
        checkov.skip(flow_logs, "CKV_AWS_158", LOG_GROUP_KMS_REASON)
        placement: dict[str, Any] = {
            "retain": config.retain_data,
            "vpc": self.network.vpc,
            "data_subnets": self.network.data_subnets,
            "app_clients": self.network.app_functions_sg,
            "owner_clients": self.network.migrate_sg,
            "owner_client_subnets": self.network.function_subnets,
        }
        # The pooled cell (and control plane) keeps its construct id, so adding cells replaces nothing.
        self.database = Database(
            self, "Database", config=config.database, name_prefix=config.stack_prefix, **placement
        )
        # Dedicated cells: adding one to `cells` in cdk.json and deploying is all it takes.
        self.cells = {
            name: Database(
                self, f"Cell-{name}", config=cell, name_prefix=f"{config.stack_prefix}-{name}", **placement
            )
            for name, cell in sorted(config.cells.items())
        }
