"""EventBridge Scheduler entries for the periodic jobs: one per `jobs.registry.SCHEDULES` row (the jobs
package owns the list), each invoking the scheduler function with `{"job_type", "scheduled_time"}`."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from constructs import Construct

from infra.components.nag import acknowledge_wildcard_resource


class JobSchedules(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, target: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        from jobs.registry import SCHEDULES

        group = scheduler.ScheduleGroup(self, "Group")
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
        acknowledge_wildcard_resource(
            role,
            resource=target,
            suffix=":*",
            reason="Scheduler may invoke any published version of the scheduler function (CDK's LambdaInvoke grant).",
        )
        for schedule in SCHEDULES:
            scheduler.Schedule(
                self,
                schedule.job_type,
                schedule=scheduler.ScheduleExpression.expression(schedule.expression),
                schedule_group=group,
                description=f"{schedule.job_type} ({schedule.expression})",
                target=targets.LambdaInvoke(
                    target,
                    input=scheduler.ScheduleTargetInput.from_object(
                        {
                            "job_type": schedule.job_type,
                            "scheduled_time": scheduler.ContextAttribute.scheduled_time,
                        }
                    ),
                    retry_attempts=3,
                    role=role,
                    max_event_age=Duration.hours(1),
                ),
            )
