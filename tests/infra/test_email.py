"""SES for send_email: the worker sends through the configuration set with the templates it names, and the
configuration set's bounce/complaint/delivery events reach `jobs.ses_events` through an encrypted SNS topic
and an SQS queue with a DLQ."""

from __future__ import annotations

from typing import Any

from jobs.tasks.email_templates import TEMPLATES
from tests.infra.conftest import Assembly, config_for

CONSUMER = "jobs.ses_events.handler"


def _one(assembly: Assembly, resource_type: str, contains: str = "") -> tuple[str, dict[str, Any]]:
    (found,) = [
        (lid, r["Properties"])
        for lid, r in assembly.resources("service", resource_type).items()
        if contains in lid
    ]
    return found


def _function(assembly: Assembly, handler: str) -> tuple[str, dict[str, Any]]:
    return _one_where(assembly, "AWS::Lambda::Function", lambda p: p.get("Handler") == handler)


def _one_where(assembly: Assembly, resource_type: str, match: Any) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (lid, r["Properties"])
        for lid, r in assembly.resources("service", resource_type).items()
        if match(r["Properties"])
    ]
    return found


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_configuration_set_events_reach_an_encrypted_topic_only_ses_may_publish_to(
    assembly: Assembly,
) -> None:
    config_set_id, _ = _one(assembly, "AWS::SES::ConfigurationSet")
    _, destination = _one(assembly, "AWS::SES::ConfigurationSetEventDestination")
    topic_id, topic = _one(assembly, "AWS::SNS::Topic", contains="Email")

    assert destination["ConfigurationSetName"] == {"Ref": config_set_id}
    event_destination = destination["EventDestination"]
    assert event_destination["Enabled"] is True
    assert sorted(event_destination["MatchingEventTypes"]) == ["bounce", "complaint", "delivery"]
    assert event_destination["SnsDestination"]["TopicARN"] == {"Ref": topic_id}

    key_id = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key_policy = assembly.template("service")["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    ses_key_actions = {
        action
        for statement in key_policy
        if statement.get("Principal") == {"Service": "ses.amazonaws.com"}
        for action in _listify(statement["Action"])
    }
    assert ses_key_actions == {"kms:GenerateDataKey*", "kms:Decrypt"}

    _, topic_policy = _one_where(
        assembly, "AWS::SNS::TopicPolicy", lambda p: p["Topics"] == [{"Ref": topic_id}]
    )
    allows = [s for s in topic_policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert [(s["Principal"], s["Action"]) for s in allows] == [
        ({"Service": "ses.amazonaws.com"}, "sns:Publish")
    ]
    source_arn = allows[0]["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Join"][1]
    assert source_arn[-2:] == [":ses:eu-west-1:123456789012:configuration-set/", {"Ref": config_set_id}]


def test_the_consumer_reads_the_sns_envelope_from_a_queue_with_a_dlq(assembly: Assembly) -> None:
    topic_id, _ = _one(assembly, "AWS::SNS::Topic", contains="Email")
    _, subscription = _one_where(
        assembly, "AWS::SNS::Subscription", lambda p: p["TopicArn"] == {"Ref": topic_id}
    )
    assert subscription["Protocol"] == "sqs"
    assert not subscription.get("RawMessageDelivery")  # jobs.ses_notifications parses the envelope
    queue_id = subscription["Endpoint"]["Fn::GetAtt"][0]
    queue = assembly.template("service")["Resources"][queue_id]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5

    consumer_id, consumer = _function(assembly, CONSUMER)
    _, mapping = _one_where(
        assembly, "AWS::Lambda::EventSourceMapping", lambda p: p["FunctionName"] == {"Ref": consumer_id}
    )
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == config_for("dev").concurrency.ses_consumer
    assert "VpcConfig" in consumer
    assert consumer["Environment"]["Variables"]["DB_AUTH"] == "iam"


def test_the_worker_sends_templated_email_through_the_configuration_set_and_nothing_else(
    assembly: Assembly,
) -> None:
    config_set_id, _ = _one(assembly, "AWS::SES::ConfigurationSet")
    identity_id, _ = _one(assembly, "AWS::SES::EmailIdentity")
    _, worker = _function(assembly, "jobs.worker.handler")
    variables = worker["Environment"]["Variables"]
    assert variables["EMAIL_CONFIGURATION_SET"] == {"Ref": config_set_id}
    prefix = variables["EMAIL_TEMPLATE_PREFIX"]
    templates = {p["Template"]["TemplateName"] for _, p in _templates(assembly)}
    assert templates == {f"{prefix}-{name}" for name in TEMPLATES}

    ses_statements = [
        statement
        for policy in assembly.resources("service", "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(str(action).startswith("ses:") for action in _listify(statement["Action"]))
    ]
    assert [s["Action"] for s in ses_statements] == ["ses:SendTemplatedEmail"]
    resources = ses_statements[0]["Resource"]
    joined = [r["Fn::Join"][1] for r in resources if isinstance(r, dict)]
    assert sorted(str(parts[-1]) for parts in joined) == sorted(
        str({"Ref": ref}) for ref in (config_set_id, identity_id)
    )
    assert sorted(r for r in resources if isinstance(r, str)) == sorted(
        f"arn:aws:ses:eu-west-1:123456789012:template/{name}" for name in templates
    )


def _templates(assembly: Assembly) -> list[tuple[str, dict[str, Any]]]:
    return [(lid, r["Properties"]) for lid, r in assembly.resources("service", "AWS::SES::Template").items()]
