"""The local stack's event builders produce the shapes of the real AWS samples in tests/events/local."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from mangum import Mangum

from local.events import (
    ORIGIN_BODY_LIMIT,
    HttpRequest,
    HttpResponse,
    body_after_origin_request,
    failed_message_ids,
    function_url_event,
    origin_request_event,
    response_from_cf,
    response_from_function_url,
    sqs_event,
    viewer_request_event,
    viewer_response_event,
)

EVENTS = Path(__file__).resolve().parents[2] / "events" / "local"


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


def keys_of(value: Any, prefix: str = "") -> set[str]:
    """Every key path of nested dicts (lists: their first element), header maps collapsed."""
    if isinstance(value, list):
        return keys_of(value[0], prefix + "[]") if value else set()
    if not isinstance(value, dict):
        return set()
    out: set[str] = set()
    collapse = prefix.endswith(("headers", "messageAttributes", "queryStringParameters"))
    for key, item in value.items():
        name = "*" if collapse else key
        path = f"{prefix}.{name}" if prefix else name
        out.add(path)
        out |= keys_of(item, path)
    return out


REQUEST = HttpRequest(
    method="POST",
    path="/api/v1/projects",
    query="limit=5&tag=a&tag=b",
    headers=[
        ("Host", "127.0.0.1:8000"),
        ("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile"),
        ("Authorization", "Bearer abc"),
        ("Cookie", "__Host-session=tok; theme=dark"),
        ("X-Custom", "one"),
        ("X-Custom", "two"),
        ("Connection", "keep-alive"),
    ],
    body=b'{"name": "p"}',
    client_ip="198.51.100.7",
)


def test_viewer_request_event_has_every_field_of_the_aws_sample() -> None:
    event = viewer_request_event(REQUEST, request_id="r1")
    assert keys_of(sample("cloudfront-viewer-request.json")) <= keys_of(event)
    cf_request = event["Records"][0]["cf"]["request"]
    assert cf_request["headers"]["x-custom"] == [
        {"key": "X-Custom", "value": "one"},
        {"key": "X-Custom", "value": "two"},
    ]
    assert "connection" not in cf_request["headers"]
    assert "body" not in cf_request  # viewer-request does not include the body
    assert cf_request["querystring"] == "limit=5&tag=a&tag=b"


def test_origin_request_event_adds_what_cloudfront_adds_after_viewer_request() -> None:
    viewer = viewer_request_event(REQUEST, request_id="r1")["Records"][0]["cf"]["request"]
    event = origin_request_event(
        viewer, REQUEST.body, request_id="r1", viewer_country="DE", origin_domain="o.example"
    )
    assert keys_of(sample("cloudfront-origin-request.json")) <= keys_of(event)
    cf = event["Records"][0]["cf"]
    assert cf["config"]["eventType"] == "origin-request"
    headers = cf["request"]["headers"]
    assert headers["cloudfront-viewer-country"][0]["value"] == "DE"
    assert headers["cloudfront-is-mobile-viewer"][0]["value"] == "true"
    assert headers["cloudfront-is-desktop-viewer"][0]["value"] == "false"
    assert base64.b64decode(cf["request"]["body"]["data"]) == REQUEST.body
    assert cf["request"]["body"]["inputTruncated"] is False


def test_origin_request_body_is_cut_at_one_megabyte_and_flagged() -> None:
    viewer = viewer_request_event(REQUEST, request_id="r1")["Records"][0]["cf"]["request"]
    big = b"x" * (ORIGIN_BODY_LIMIT + 10)
    body = origin_request_event(viewer, big, request_id="r", viewer_country="US", origin_domain="o")[
        "Records"
    ][0]["cf"]["request"]["body"]
    assert body["inputTruncated"] is True
    assert len(base64.b64decode(body["data"])) == ORIGIN_BODY_LIMIT


def test_body_replaced_by_origin_request_reaches_the_origin() -> None:
    replaced = {"body": {"action": "replace", "encoding": "text", "data": "new"}}
    assert body_after_origin_request(replaced, b"old") == b"new"
    assert body_after_origin_request({"body": {"action": "read-only", "data": "eA=="}}, b"old") == b"old"


def test_function_url_event_matches_the_sample_and_drops_the_viewers_authorization() -> None:
    viewer = viewer_request_event(REQUEST, request_id="r1")["Records"][0]["cf"]["request"]
    event = function_url_event(
        viewer, REQUEST.body, function_domain="abc.lambda-url.us-east-1.on.aws", request_id="r1"
    )
    assert keys_of(sample("function-url-iam.json")) - {"body", "pathParameters", "stageVariables"} <= keys_of(
        event
    )
    assert "authorization" not in event["headers"]  # OAC's SigV4 replaces it
    assert event["cookies"] == ["__Host-session=tok", "theme=dark"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-custom"] == "one,two"
    assert event["queryStringParameters"] == {"limit": "5", "tag": "a,b"}
    assert base64.b64decode(event["body"]) == REQUEST.body
    assert event["isBase64Encoded"] is True


def test_mangum_reads_the_function_url_event_like_the_real_one() -> None:
    app = FastAPI()

    @app.post("/api/v1/projects")
    async def echo(request: Request) -> dict[str, Any]:
        return {
            "query": dict(request.query_params.multi_items()),
            "cookie": request.cookies.get("__Host-session"),
            "body": (await request.body()).decode(),
            "host": request.headers["host"],
            "client": request.client.host if request.client else None,
        }

    viewer = viewer_request_event(REQUEST, request_id="r1")["Records"][0]["cf"]["request"]
    event = function_url_event(
        viewer, REQUEST.body, function_domain="abc.lambda-url.us-east-1.on.aws", request_id="r1"
    )
    result = Mangum(app, lifespan="off")(event, object())  # type: ignore[arg-type]
    response = response_from_function_url(result)
    assert response.status == 200
    assert json.loads(response.body) == {
        "query": {"limit": "5", "tag": "b"},
        "cookie": "tok",
        "body": '{"name": "p"}',
        "host": "abc.lambda-url.us-east-1.on.aws",
        "client": "198.51.100.7",
    }


def test_function_url_response_cookies_and_base64_bodies() -> None:
    result = {
        "statusCode": 201,
        "headers": {"content-type": "image/png"},
        "cookies": ["a=1", "b=2"],
        "body": base64.b64encode(b"\x89PNG").decode(),
        "isBase64Encoded": True,
    }
    response = response_from_function_url(result)
    assert response.status == 201
    assert response.body == b"\x89PNG"
    assert [value for key, value in response.headers if key == "set-cookie"] == ["a=1", "b=2"]
    bare = response_from_function_url({"hello": "world"})
    assert bare.status == 200
    assert json.loads(bare.body) == {"hello": "world"}


def test_viewer_response_event_and_generated_responses() -> None:
    viewer = viewer_request_event(REQUEST, request_id="r1")["Records"][0]["cf"]["request"]
    event = viewer_response_event(
        viewer, HttpResponse(200, [("Content-Type", "text/plain")], b"hi"), request_id="r"
    )
    assert keys_of(sample("cloudfront-viewer-response.json")) - {
        "Records[].cf.response.headers.*.key"
    } <= keys_of(event) | {"Records[].cf.response.headers.*.key"}
    assert event["Records"][0]["cf"]["response"]["status"] == "200"
    generated = {"status": "401", "headers": {"x": [{"key": "X", "value": "1"}]}, "body": "no"}
    response = response_from_cf(generated)
    assert (response.status, response.headers, response.body) == (401, [("X", "1")], b"no")
    encoded = response_from_cf(
        {"status": "200", "body": base64.b64encode(b"z").decode(), "bodyEncoding": "base64"}
    )
    assert encoded.body == b"z"


def test_sqs_event_has_the_sample_shape() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "Body": "hello",
        "MD5OfBody": "5d41402abc4b2a76b9719d911017c592",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "MessageGroupId": "cus_1"},
        "MessageAttributes": {"kind": {"StringValue": "x", "DataType": "String"}},
    }
    event = sqs_event([message], queue_arn="arn:aws:sqs:us-east-1:0:q", region="us-east-1")
    assert keys_of(sample("sqs.json")) <= keys_of(event)
    record = event["Records"][0]
    assert record["attributes"]["MessageGroupId"] == "cus_1"
    assert record["messageAttributes"]["kind"]["stringValue"] == "x"
    assert record["eventSource"] == "aws:sqs"


def test_batch_item_failures_follow_lambda_rules() -> None:
    batch = [{"MessageId": "a"}, {"MessageId": "b"}]
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, batch) == {"b"}
    assert failed_message_ids({"batchItemFailures": []}, batch) == set()
    assert failed_message_ids(None, batch) == set()
    assert failed_message_ids({}, batch) == set()
    # An identifier that is not in the batch, or a malformed answer, fails the whole batch.
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, batch) == {"a", "b"}
    assert failed_message_ids({"batchItemFailures": "nope"}, batch) == {"a", "b"}
    assert failed_message_ids("text", batch) == {"a", "b"}
