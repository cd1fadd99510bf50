"""Real Lambda event shapes built from plain HTTP requests and SQS messages, and back.

The shapes follow the AWS documentation and the samples in `tests/events/`: CloudFront Lambda@Edge
events (`Records[0].cf`, lower-case header keys mapping to lists of `{key, value}`), Lambda Function URL
events (payload 2.0, cookies split out of the `Cookie` header, comma-joined repeated headers) and SQS
events as the Lambda event source mapping delivers them. Pure functions: no I/O, no AWS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

DISTRIBUTION_ID = "ELOCALSTACK0001"
DISTRIBUTION_DOMAIN = "local.cloudfront.net"
ACCOUNT_ID = "000000000000"
# CloudFront shows origin-request functions at most 1 MB of body (include-body option).
ORIGIN_BODY_LIMIT = 1024 * 1024
# Headers CloudFront owns or that do not survive the hop to the origin.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}
)

Headers = list[tuple[str, str]]
CfHeaders = dict[str, list[dict[str, str]]]


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str
    query: str
    headers: Headers
    body: bytes
    client_ip: str = "127.0.0.1"


@dataclass(slots=True)
class HttpResponse:
    status: int
    headers: Headers = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)


def cf_headers(headers: Iterable[tuple[str, str]]) -> CfHeaders:
    out: CfHeaders = {}
    for key, value in headers:
        if key.lower() in HOP_BY_HOP:
            continue
        out.setdefault(key.lower(), []).append({"key": key, "value": value})
    return out


def headers_from_cf(headers: Mapping[str, Sequence[Mapping[str, str]]]) -> Headers:
    return [(item.get("key") or name, item["value"]) for name, items in headers.items() for item in items]


def is_cf_response(result: Mapping[str, Any]) -> bool:
    """A request trigger returns the request to continue, or a response (it has `status`) to answer."""
    return "status" in result


def _cf_event(event_type: str, request_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    config = {
        "distributionDomainName": DISTRIBUTION_DOMAIN,
        "distributionId": DISTRIBUTION_ID,
        "eventType": event_type,
        "requestId": request_id,
    }
    return {"Records": [{"cf": {"config": config, **payload}}]}


def viewer_request_event(request: HttpRequest, *, request_id: str) -> dict[str, Any]:
    cf_request = {
        "clientIp": request.client_ip,
        "headers": cf_headers(request.headers),
        "method": request.method,
        "querystring": request.query,
        "uri": request.path,
    }
    return _cf_event("viewer-request", request_id, {"request": cf_request})


def device_headers(user_agent: str) -> Headers:
    """What CloudFront derives from User-Agent (CloudFront-Is-*-Viewer) when the policy forwards it."""
    agent = user_agent.lower()
    tablet = "ipad" in agent or "tablet" in agent
    mobile = not tablet and ("mobile" in agent or "iphone" in agent or "android" in agent)
    smarttv = "smart-tv" in agent or "smarttv" in agent
    desktop = not (tablet or mobile or smarttv)
    flags = {"Desktop": desktop, "Mobile": mobile, "Tablet": tablet, "SmartTV": smarttv}
    return [(f"CloudFront-Is-{name}-Viewer", "true" if on else "false") for name, on in flags.items()]


def origin_request_event(
    cf_request: Mapping[str, Any],
    body: bytes,
    *,
    request_id: str,
    viewer_country: str,
    origin_domain: str,
) -> dict[str, Any]:
    """The request as viewer-request left it, plus what CloudFront adds before the origin: viewer
    country and device headers, X-Forwarded-For, Via, the origin block and the body (include-body)."""
    headers = {name: list(items) for name, items in cf_request.get("headers", {}).items()}
    user_agent = next((item["value"] for item in headers.get("user-agent", [])), "")
    extra: Headers = [
        ("CloudFront-Viewer-Country", viewer_country),
        *device_headers(user_agent),
        ("X-Forwarded-For", str(cf_request.get("clientIp", "127.0.0.1"))),
        ("Via", f"2.0 {uuid.uuid4().hex}.cloudfront.net (CloudFront)"),
    ]
    for name, items in cf_headers(extra).items():
        headers[name] = items
    truncated = len(body) > ORIGIN_BODY_LIMIT
    cf_origin_request = {
        **cf_request,
        "headers": headers,
        "origin": {
            "custom": {
                "customHeaders": {},
                "domainName": origin_domain,
                "keepaliveTimeout": 5,
                "path": "",
                "port": 443,
                "protocol": "https",
                "readTimeout": 30,
                "sslProtocols": ["TLSv1.2"],
            }
        },
    }
    if body or cf_request.get("method") in {"POST", "PUT", "PATCH"}:
        cf_origin_request["body"] = {
            "action": "read-only",
            "data": base64.b64encode(body[:ORIGIN_BODY_LIMIT]).decode(),
            "encoding": "base64",
            "inputTruncated": truncated,
        }
    return _cf_event("origin-request", request_id, {"request": cf_origin_request})


def body_after_origin_request(cf_request: Mapping[str, Any], original: bytes) -> bytes:
    """The body the origin receives: the viewer's, unless the function replaced it."""
    body = cf_request.get("body")
    if not isinstance(body, Mapping) or body.get("action") != "replace":
        return original
    data = str(body.get("data", ""))
    return base64.b64decode(data) if body.get("encoding") == "base64" else data.encode()


def viewer_response_event(
    cf_request: Mapping[str, Any], response: HttpResponse, *, request_id: str
) -> dict[str, Any]:
    cf_response = {
        "headers": cf_headers(response.headers),
        "status": str(response.status),
        "statusDescription": "",
    }
    viewer_request = {key: value for key, value in cf_request.items() if key not in {"body", "origin"}}
    return _cf_event("viewer-response", request_id, {"request": viewer_request, "response": cf_response})


def response_from_cf(result: Mapping[str, Any], *, body: bytes | None = None) -> HttpResponse:
    """A generated response (request trigger) or the modified response (viewer-response trigger).

    Viewer-response triggers never see the body, so the origin's body is passed through."""
    if body is None:
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("bodyEncoding") == "base64" else str(raw).encode()
    return HttpResponse(int(result["status"]), headers_from_cf(result.get("headers", {})), body)


def function_url_event(
    cf_request: Mapping[str, Any],
    body: bytes,
    *,
    function_domain: str,
    request_id: str,
    now: float | None = None,
) -> dict[str, Any]:
    """A Lambda Function URL (payload 2.0) event for the request CloudFront forwards to the origin.

    OAC signs the forwarded request with SigV4, which overwrites the viewer's Authorization header, so
    it is not passed on; the caller identity is CloudFront's (IAM authorizer block)."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, items in cf_request.get("headers", {}).items():
        values = [item["value"] for item in items]
        if name == "cookie":
            cookies.extend(part.strip() for value in values for part in value.split(";") if part.strip())
        elif name != "authorization":
            headers[name] = ",".join(values)
    headers["host"] = function_domain
    headers["x-forwarded-proto"] = "https"
    headers["x-forwarded-port"] = "443"
    headers.setdefault("x-forwarded-for", str(cf_request.get("clientIp", "127.0.0.1")))
    stamp = time.time() if now is None else now
    path = str(cf_request["uri"])
    query = str(cf_request.get("querystring", ""))
    source_ip = str(cf_request.get("clientIp", "127.0.0.1"))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": function_domain.split(".", 1)[0],
            "authentication": None,
            "authorizer": {
                "iam": {
                    "accessKey": "ASIALOCALCLOUDFRONT",
                    "accountId": ACCOUNT_ID,
                    "callerId": "cloudfront.amazonaws.com",
                    "cognitoIdentity": None,
                    "principalOrgId": None,
                    "userArn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/cloudfront/oac",
                    "userId": "cloudfront",
                }
            },
            "domainName": function_domain,
            "domainPrefix": function_domain.split(".", 1)[0],
            "http": {
                "method": str(cf_request["method"]),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": formatdate(stamp, usegmt=True),
            "timeEpoch": int(stamp * 1000),
        },
        "isBase64Encoded": bool(body),
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        params: dict[str, list[str]] = {}
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            params.setdefault(key, []).append(value)
        event["queryStringParameters"] = {key: ",".join(values) for key, values in params.items()}
    if body:
        event["body"] = base64.b64encode(body).decode()
    return event


def response_from_function_url(result: Any) -> HttpResponse:
    """Function URL response rules: a dict with statusCode is the response; anything else is a JSON
    200 body (how Lambda treats a bare return value)."""
    if not isinstance(result, Mapping) or "statusCode" not in result:
        return HttpResponse(200, [("content-type", "application/json")], json.dumps(result).encode())
    headers: Headers = []
    for key, value in (result.get("headers") or {}).items():
        headers.append((key, str(value)))
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((key, str(value)) for value in values)
    headers.extend(("set-cookie", cookie) for cookie in result.get("cookies") or [])
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return HttpResponse(int(result["statusCode"]), headers, body)


def _lambda_message_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """SQS API attribute names (StringValue) → Lambda event names (stringValue)."""
    out: dict[str, Any] = {}
    for name, attr in attributes.items():
        out[name] = {
            "stringValue": attr.get("StringValue"),
            "binaryValue": (
                base64.b64encode(attr["BinaryValue"]).decode() if attr.get("BinaryValue") else None
            ),
            "stringListValues": list(attr.get("StringListValues", [])),
            "binaryListValues": [base64.b64encode(v).decode() for v in attr.get("BinaryListValues", [])],
            "dataType": attr.get("DataType", "String"),
        }
    return out


def sqs_event(messages: Sequence[Mapping[str, Any]], *, queue_arn: str, region: str) -> dict[str, Any]:
    """The event the SQS event source mapping builds from one ReceiveMessage batch."""
    records = []
    for message in messages:
        body = str(message["Body"])
        attributes = dict(message.get("Attributes", {}))
        attributes.setdefault("SenderId", ACCOUNT_ID)
        attributes.setdefault("ApproximateFirstReceiveTimestamp", attributes.get("SentTimestamp", "0"))
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": body,
                "attributes": attributes,
                "messageAttributes": _lambda_message_attributes(message.get("MessageAttributes", {})),
                "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),  # noqa: S324
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def failed_message_ids(result: Any, batch: Sequence[Mapping[str, Any]]) -> set[str]:
    """Message ids to leave on the queue, per ReportBatchItemFailures: a raised error or an invalid
    response fails the whole batch; otherwise only the listed items fail."""
    every = {str(message["MessageId"]) for message in batch}
    if not isinstance(result, Mapping):
        return set() if result is None else every
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return every
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, Mapping) else None
        if not identifier or identifier not in every:
            return every  # Lambda treats a bad identifier as a failure of the whole batch
        failed.add(str(identifier))
    return failed


def scheduler_event(
    *, schedule_name: str, payload: Mapping[str, Any] | None, now: float | None = None
) -> dict[str, Any]:
    """EventBridge Scheduler invokes a Lambda target with the schedule's Input as the event; when the
    schedule has no Input it sends an event in the EventBridge 'Scheduled Event' shape."""
    if payload is not None:
        return dict(payload)
    stamp = time.time() if now is None else now
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": ACCOUNT_ID,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp)),
        "region": "us-east-1",
        "resources": [f"arn:aws:scheduler:us-east-1:{ACCOUNT_ID}:schedule/default/{schedule_name}"],
        "detail": {},
    }
