"""Queues: encryption, TLS, redrive, FIFO, visibility vs consumer timeout, partial batch failures."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import Assembly


def _queue_id(reference: Any) -> str:
    """Event source mappings point at a queue through Fn::GetAtt [Queue, Arn]."""
    return str(reference["Fn::GetAtt"][0])


def test_every_queue_is_encrypted_and_tls_only(assembly: Assembly) -> None:
    queues = assembly.resources("service", "AWS::SQS::Queue")
    assert len(queues) == 8  # webhooks, jobs, SES events, webhook deliveries: each with its DLQ
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    tls_only = {
        _queue_id(queue_ref)
        for policy in assembly.resources("service", "AWS::SQS::QueuePolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for queue_ref in [statement["Resource"]]
    }
    assert tls_only == set(queues)


def test_work_queues_redrive_to_a_dlq_after_five_receives(assembly: Assembly) -> None:
    queues = assembly.resources("service", "AWS::SQS::Queue")
    work = {logical_id: q for logical_id, q in queues.items() if "RedrivePolicy" in q["Properties"]}
    assert len(work) == 4
    for queue in work.values():
        redrive = queue["Properties"]["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == 5
        assert _queue_id(redrive["deadLetterTargetArn"]) in queues


def test_webhook_queue_is_fifo_with_per_group_dedup_and_its_dlq_is_fifo(assembly: Assembly) -> None:
    fifo = {
        lid: q["Properties"]
        for lid, q in assembly.resources("service", "AWS::SQS::Queue").items()
        if q["Properties"].get("FifoQueue")
    }
    assert len(fifo) == 2
    (main,) = [p for p in fifo.values() if "RedrivePolicy" in p]
    assert main["ContentBasedDeduplication"] is False  # the Stripe event id is the dedup id
    assert main["DeduplicationScope"] == "messageGroup"
    assert main["FifoThroughputLimit"] == "perMessageGroupId"
    assert _queue_id(main["RedrivePolicy"]["deadLetterTargetArn"]) in fifo


def test_consumers_report_batch_item_failures_and_visibility_is_six_times_their_timeout(
    assembly: Assembly,
) -> None:
    resources = assembly.template("service")["Resources"]
    mappings = assembly.resources("service", "AWS::Lambda::EventSourceMapping").values()
    assert len(list(mappings)) == 4
    for mapping in mappings:
        properties = mapping["Properties"]
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        queue = resources[_queue_id(properties["EventSourceArn"])]["Properties"]
        function = resources[properties["FunctionName"]["Ref"]]["Properties"]
        assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]


def test_dead_letter_queues_have_alarms(assembly: Assembly) -> None:
    queues = assembly.resources("service", "AWS::SQS::Queue")
    dlqs = {lid for lid, q in queues.items() if "RedrivePolicy" not in q["Properties"]}
    alarmed = {
        dimension["Value"]["Fn::GetAtt"][0]
        for alarm in assembly.resources("service", "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        for dimension in alarm["Properties"]["Dimensions"]
    }
    assert alarmed == dlqs
