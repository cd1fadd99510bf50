"""The local CloudFront: HTTP in, Lambda@Edge triggers and origin Lambdas with real event shapes, HTTP out.

Per request, as CloudFront does it (DESIGN §1): viewer-request (may answer on its own, e.g. 401), then
origin-request (flags, body hash; may answer too), then the origin chosen by path — `/api/*` and
`/.well-known/*` to the API Function URL, `/webhooks/stripe` to the receiver — invoked with a Function
URL event as OAC would send it, then viewer-response on the way back. `/_local/*` is the stack's own
page (status, dev IdP keys) and is not behind the edge. Every event names the gateway's own address as
`distributionDomainName`, so the edge fetches its runtime config through the gateway as it does through
CloudFront.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from local.events import (
    DISTRIBUTION_DOMAIN,
    HttpRequest,
    HttpResponse,
    body_after_origin_request,
    function_url_event,
    is_cf_response,
    origin_request_event,
    response_from_cf,
    response_from_function_url,
    viewer_request_event,
    viewer_response_event,
)
from local.runtime import HandlerUnavailableError, LocalFunction, close_thread_event_loop

# A Function URL accepts at most 6 MB of request payload; CloudFront would refuse far less at the edge.
MAX_BODY_BYTES = 6 * 1024 * 1024
# CloudFront's quotas: a URL of at most 8,192 bytes, and request line + headers of at most 20,480 bytes.
MAX_URL_BYTES = 8192
MAX_HEADER_BYTES = 20480
ALLOWED_METHODS = "GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE"
API_DOMAIN = "localapi0000.lambda-url.us-east-1.on.aws"
WEBHOOKS_DOMAIN = "localhooks000.lambda-url.us-east-1.on.aws"
PROBLEM = "application/problem+json"

log = logging.getLogger("gateway")


def problem(status: int, title: str, detail: str, request_id: str) -> HttpResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    headers = [("content-type", PROBLEM), ("x-request-id", request_id)]
    return HttpResponse(status, headers, json.dumps(body).encode())


@dataclass(frozen=True, slots=True)
class EdgeFunctions:
    viewer_request: LocalFunction
    origin_request: LocalFunction
    viewer_response: LocalFunction


@dataclass(frozen=True, slots=True)
class Origin:
    function: LocalFunction
    domain: str


LocalPage = Callable[[HttpRequest], HttpResponse]


class Gateway:
    """Request pipeline, independent of the HTTP server so benchmarks and tests can drive it."""

    def __init__(
        self,
        *,
        edge: EdgeFunctions,
        api: LocalFunction,
        receiver: LocalFunction,
        local_page: LocalPage,
        viewer_country: str = "US",
        distribution_domain: str = DISTRIBUTION_DOMAIN,
    ) -> None:
        self.edge = edge
        self.distribution_domain = distribution_domain
        self.api = Origin(api, API_DOMAIN)
        self.receiver = Origin(receiver, WEBHOOKS_DOMAIN)
        self.local_page = local_page
        self.viewer_country = viewer_country

    def origin_for(self, path: str) -> Origin | None:
        if path.startswith(("/api/", "/.well-known/", "/scim/v2/")) or path == "/api":
            return self.api
        if path == "/webhooks/stripe":
            return self.receiver
        return None

    def handle(self, request: HttpRequest) -> HttpResponse:
        cf_request_id = uuid.uuid4().hex
        if request.path.startswith("/_local/"):
            return self.local_page(request)
        try:
            return self._through_cloudfront(request, cf_request_id)
        except HandlerUnavailableError as exc:
            return problem(502, "Function not available", str(exc), cf_request_id)
        except Exception as exc:
            # A Lambda error surfaces as CloudFront's 502/503; the stack trace is in the component log.
            log.exception("function error")
            return problem(502, "Function error", f"{type(exc).__name__}: {exc}", cf_request_id)

    def _at_distribution(self, event: dict[str, Any]) -> dict[str, Any]:
        event["Records"][0]["cf"]["config"]["distributionDomainName"] = self.distribution_domain
        return event

    def _through_cloudfront(self, request: HttpRequest, cf_request_id: str) -> HttpResponse:
        viewer = self.edge.viewer_request.invoke(
            self._at_distribution(viewer_request_event(request, request_id=cf_request_id))
        )
        if is_cf_response(viewer):
            return response_from_cf(viewer)
        origin = self.origin_for(str(viewer.get("uri", request.path)))
        if origin is None:
            return problem(404, "Not Found", "no CloudFront behavior matches this path", cf_request_id)
        forwarded = self.edge.origin_request.invoke(
            self._at_distribution(
                origin_request_event(
                    viewer,
                    request.body,
                    request_id=cf_request_id,
                    viewer_country=self.viewer_country,
                    origin_domain=origin.domain,
                )
            )
        )
        if is_cf_response(forwarded):
            response = response_from_cf(forwarded)
        else:
            body = body_after_origin_request(forwarded, request.body)
            result = origin.function.invoke(
                function_url_event(forwarded, body, function_domain=origin.domain, request_id=cf_request_id)
            )
            response = response_from_function_url(result)
        after = self.edge.viewer_response.invoke(
            self._at_distribution(viewer_response_event(viewer, response, request_id=cf_request_id))
        )
        return response_from_cf(after.get("response", after), body=response.body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GatewayServer
    # Keep-alive clients otherwise wait for the delayed ACK of the previous segment (Nagle): +40 ms each.
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        started = time.perf_counter()
        request_id = uuid.uuid4().hex
        refused = self._refusal(request_id)
        if refused is not None:
            self.close_connection = True  # an unread body would be taken for the next request
            self._send(refused)
            return
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        request = HttpRequest(
            method=self.command,
            path=path,
            query=query,
            headers=list(self.headers.items()),
            body=body,
            client_ip=self.client_address[0],
        )
        response = self.server.gateway.handle(request)
        self._send(response)
        log.info(
            "%s %s -> %s (%.1f ms)",
            self.command,
            path,
            response.status,
            (time.perf_counter() - started) * 1000,
        )

    def _refusal(self, request_id: str) -> HttpResponse | None:
        """CloudFront's own limits, checked before any function runs, as CloudFront does."""
        if len(self.path) > MAX_URL_BYTES:
            return problem(414, "URI Too Long", f"the URL is over {MAX_URL_BYTES} bytes", request_id)
        header_bytes = len(self.requestline) + sum(len(k) + len(v) + 4 for k, v in self.headers.items())
        if header_bytes > MAX_HEADER_BYTES:
            detail = f"the request line and headers are over {MAX_HEADER_BYTES} bytes"
            return problem(431, "Request Header Fields Too Large", detail, request_id)
        if self.headers.get("transfer-encoding"):
            return problem(411, "Length Required", "send a Content-Length", request_id)
        declared = self.headers.get_all("content-length") or []
        if len(declared) > 1 or not all(value.isdigit() for value in declared):
            return problem(400, "Bad Request", "Content-Length must be one decimal number", request_id)
        if declared and int(declared[0]) > MAX_BODY_BYTES:
            return problem(413, "Content Too Large", f"body over {MAX_BODY_BYTES} bytes", request_id)
        return None

    def _method_not_allowed(self) -> None:
        self.close_connection = True
        response = problem(405, "Method Not Allowed", f"{self.command} is not served here", uuid.uuid4().hex)
        response.headers.append(("allow", ALLOWED_METHODS))
        self._send(response)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, header line too long, too many headers,
        unknown method) as problem+json instead of its HTML page."""
        self.close_connection = True
        title = self.responses.get(code, (f"HTTP {code}", ""))[0]
        self._send(problem(int(code), title, message or title, uuid.uuid4().hex))

    def _send(self, response: HttpResponse) -> None:
        """Status line, headers and body in one write: split writes on a keep-alive connection meet
        Nagle's algorithm and the client's delayed ACK."""
        reason = self.responses.get(response.status, ("",))[0]
        lines = [
            f"HTTP/1.1 {response.status} {reason}",
            f"server: {self.version_string()}",
            f"date: {self.date_time_string()}",
        ]
        skip = {"content-length", "connection", "transfer-encoding", "date", "server"}
        lines += [f"{key}: {value}" for key, value in response.headers if key.lower() not in skip]
        lines.append(f"content-length: {len(response.body)}")
        if self.close_connection:
            lines.append("connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if self.command == "HEAD" else head + response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve
    do_TRACE = do_CONNECT = _method_not_allowed

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are logged once by `_serve` with their timing."""


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size: ClassVar[int] = 128  # type: ignore[misc]

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        self.gateway = gateway
        super().__init__(address, _Handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            close_thread_event_loop()  # the loop an API invocation may have given this thread
