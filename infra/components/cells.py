"""Dedicated cells (docs/cells.md): each is a `Database` of its own (instance, RDS Proxy with end-to-end IAM
auth, the owner's generated and rotated secret, security groups) built in the data stack, plus the alarms
below in the service stack, where the alarm topic is. The pooled cell is the stack's `Database`, alarmed by
`Monitoring`. The application role needs no secret in any cell: it logs in with IAM tokens."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from infra.components.database import Database
from infra.components.monitoring import (
    PERIOD,
    PROXY_CONNECTION_USAGE_PERCENT,
    RDS_CPU_PERCENT,
    RDS_FREE_STORAGE_BYTES,
    AlarmTopic,
    rate_percent,
)
from infra.config import CellConfig


def cells_setting(cells: Mapping[str, Database], configs: Mapping[str, CellConfig]) -> str:
    """The functions' `CELLS` value (`saascore.db.cells.CellSettings`): each dedicated cell's proxy."""
    return json.dumps(
        {
            name: {
                "host": database.proxy_endpoint,
                "name": configs[name].name,
                "user": configs[name].app_user,
                "reserved_for": list(configs[name].reserved_for),
                **({"read_host": database.read_endpoint} if database.read_endpoint else {}),
            }
            for name, database in cells.items()
        },
        sort_keys=True,
    )


REPLICA_LAG_SECONDS = 30  # the job worker's lag bound falls back to the primary long before this


class ReplicaAlarms(Construct):
    """A cell's read replica: lag and CPU (reads fall back to the primary when it lags; this says why)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, cell: str, database: Database, topic: AlarmTopic
    ) -> None:
        super().__init__(scope, construct_id)
        replica = database.replica
        if replica is None:
            raise ValueError(f"cell {cell} has no read replica")
        self.alarms = [
            topic.alarm(
                self,
                "ReplicaLag",
                replica.metric("ReplicaLag", period=PERIOD, statistic="Maximum"),
                threshold=REPLICA_LAG_SECONDS,
                description=f"Cell {cell}: read replica more than {REPLICA_LAG_SECONDS} s behind the primary",
            ),
            topic.alarm(
                self,
                "ReplicaCpu",
                replica.metric_cpu_utilization(period=PERIOD, statistic="Average"),
                threshold=RDS_CPU_PERCENT,
                description=f"Cell {cell}: read replica CPU above {RDS_CPU_PERCENT}%",
            ),
        ]


class CellAlarms(Construct):
    """A dedicated cell's CPU, free storage, connection count and RDS Proxy connection usage alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cell: str,
        database: Database,
        topic: AlarmTopic,
    ) -> None:
        super().__init__(scope, construct_id)
        instance, proxy = database.instance, database.proxy
        budget = database.config.connection_budget

        def proxy_metric(metric_name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/RDS",
                metric_name=metric_name,
                dimensions_map={"ProxyName": proxy.db_proxy_name},
                statistic="Maximum",
                period=PERIOD,
            )

        self.alarms = [
            topic.alarm(
                self,
                "RdsCpu",
                instance.metric_cpu_utilization(period=PERIOD, statistic="Average"),
                threshold=RDS_CPU_PERCENT,
                description=f"Cell {cell}: PostgreSQL CPU above {RDS_CPU_PERCENT}%",
            ),
            topic.alarm(
                self,
                "RdsFreeStorage",
                instance.metric_free_storage_space(period=PERIOD, statistic="Minimum"),
                threshold=RDS_FREE_STORAGE_BYTES,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                description=f"Cell {cell}: under 2 GiB free, storage autoscaling reached its maximum",
            ),
            topic.alarm(
                self,
                "RdsConnections",
                instance.metric_database_connections(period=PERIOD, statistic="Maximum"),
                threshold=budget,
                description=f"Cell {cell}: more than {budget} (connection_budget) PostgreSQL connections",
            ),
            topic.alarm(
                self,
                "ProxyConnectionUsage",
                rate_percent(
                    proxy_metric("DatabaseConnectionsCurrentlyBorrowed"),
                    proxy_metric("MaxDatabaseConnectionsAllowed"),
                    label=f"Cell {cell}: RDS Proxy connections in use %",
                ),
                threshold=PROXY_CONNECTION_USAGE_PERCENT,
                description=f"Cell {cell}: RDS Proxy uses more than 80% of the connections it may open",
            ),
        ]
