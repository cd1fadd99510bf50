"""A local HTTP stub of the Stripe API for tests: the stripe library talks to it through ``api_base``.

Serves the endpoints the billing routes, the webhook processor and the jobs worker call, shaped like
Stripe's own fixtures (``tests/events/stripe/*.json``, copied from stripe/openapi ``fixtures3.json``):

- ``POST/GET /v1/customers[/{id}]``, ``DELETE /v1/customers/{id}``
- ``GET /v1/prices?lookup_keys[]=...`` (one seeded price per sold plan, see ``saascore.billing.plans``)
- ``POST/GET /v1/checkout/sessions[/{id}]``, ``POST /v1/billing_portal/sessions``
- ``GET /v1/subscriptions`` (``customer``, ``status`` filters), ``GET/POST/DELETE /v1/subscriptions/{id}``
- ``POST /v1/invoices/create_preview`` (and the pre-basil ``GET /v1/invoices/upcoming``): a proration preview
- ``POST /v1/billing/meter_events``: one event per ``identifier`` (a repeated identifier returns the
  first event and is not counted again, as Stripe de-duplicates identifiers for at least 24 hours)
- ``GET /v1/account``; ``GET/POST /v1/webhook_endpoints``, ``POST/DELETE /v1/webhook_endpoints/{id}`` (the
  signing ``secret`` only in the creation response, as Stripe does)

With ``stub.api_keys`` set, a request with any other key gets Stripe's 401 ``authentication_error``.

Every request is recorded (``stub.requests``); a POST repeated with the same ``Idempotency-Key`` gets the
first response back (header ``Idempotent-Replayed: true``) and creates nothing. Tests can queue failures
with ``stub.fail_next(path_prefix, status)``.

Use in an area's ``conftest.py``::

    from tests.support.stripe_stub import stripe_stub  # re-exported fixture

then ``stripe_stub.url`` is the ``api_base``; the fixture also sets ``stripe.api_base``/``stripe.api_key``
and the ``STRIPE_API_BASE``/``STRIPE_API_KEY`` environment variables for settings classes.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe

from saascore.billing.plans import PLANS

FIXTURES = Path(__file__).resolve().parent.parent / "events" / "stripe"
TEST_API_KEY = "sk_test_stub"
PLAN_AMOUNTS = {"starter_monthly": 2_000, "pro_monthly": 9_900}
MONTH_SECONDS = 30 * 24 * 3600

Json = dict[str, Any]


def load_fixture(name: str) -> Json:
    data: Json = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def decode_form(pairs: list[tuple[str, str]]) -> Json:
    """Stripe's form encoding (``a[b][0][c]=v``) back into nested dicts and lists."""
    root: Json = {}
    for raw_key, value in pairs:
        parts = re.findall(r"[^\[\]]+", raw_key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    decoded: Json = _lists_from_indexed(root)
    return decoded


def _lists_from_indexed(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {key: _lists_from_indexed(item) for key, item in value.items()}
        if converted and all(key.isdigit() for key in converted):
            return [converted[key] for key in sorted(converted, key=int)]
        return converted
    return value


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: Json
    headers: dict[str, str]

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


class StripeError(Exception):
    def __init__(self, status: int, message: str, *, code: str = "resource_missing") -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": "invalid_request_error", "code": code, "message": message}}


@dataclass
class StripeStub:
    url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    customers: dict[str, Json] = field(default_factory=dict)
    subscriptions: dict[str, Json] = field(default_factory=dict)
    checkout_sessions: dict[str, Json] = field(default_factory=dict)
    portal_sessions: dict[str, Json] = field(default_factory=dict)
    meter_events: dict[str, Json] = field(default_factory=dict)
    prices: dict[str, Json] = field(default_factory=dict)
    webhook_endpoints: dict[str, Json] = field(default_factory=dict)
    webhook_secrets: dict[str, str] = field(default_factory=dict)
    api_keys: set[str] | None = None
    _idempotent: dict[str, tuple[int, Json]] = field(default_factory=dict)
    _failures: list[tuple[str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for plan in PLANS.values():
            if plan.price_lookup_key is not None:
                self.prices[plan.price_lookup_key] = self._price(plan.price_lookup_key)

    # Test helpers ---------------------------------------------------------------------------------

    def fail_next(self, path_prefix: str, status: int = 500) -> None:
        """The next request whose path starts with ``path_prefix`` answers ``status`` with an API error."""
        self._failures.append((path_prefix, status))

    def requests_to(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def add_customer(self, *, metadata: dict[str, str] | None = None, email: str | None = None) -> Json:
        customer = load_fixture("customer")
        customer.update(id=new_id("cus"), created=int(time.time()), email=email, metadata=metadata or {})
        customer["discount"] = None
        self.customers[customer["id"]] = customer
        return customer

    def add_subscription(
        self,
        *,
        customer: str,
        lookup_key: str = "starter_monthly",
        status: str = "active",
        metadata: dict[str, str] | None = None,
    ) -> Json:
        now = int(time.time())
        subscription = load_fixture("subscription")
        sub_id = new_id("sub")
        item = subscription["items"]["data"][0]
        item.update(
            id=new_id("si"),
            subscription=sub_id,
            price=copy.deepcopy(self.prices[lookup_key]),
            current_period_start=now,
            current_period_end=now + MONTH_SECONDS,
            quantity=1,
        )
        subscription.update(
            id=sub_id,
            customer=customer,
            status=status,
            created=now,
            start_date=now,
            billing_cycle_anchor=now,
            cancel_at=None,
            canceled_at=None,
            ended_at=None,
            trial_start=None,
            trial_end=None,
            cancel_at_period_end=False,
            metadata=metadata or {},
            latest_invoice=None,
            schedule=None,
            pending_update=None,
        )
        subscription["items"]["data"] = [item]
        subscription["items"]["url"] = f"/v1/subscription_items?subscription={sub_id}"
        self.subscriptions[sub_id] = subscription
        return subscription

    # Objects --------------------------------------------------------------------------------------

    def _price(self, lookup_key: str) -> Json:
        price = load_fixture("price")
        price.update(
            id=f"price_{lookup_key}",
            lookup_key=lookup_key,
            unit_amount=PLAN_AMOUNTS.get(lookup_key, 1_000),
            unit_amount_decimal=str(PLAN_AMOUNTS.get(lookup_key, 1_000)),
            livemode=False,
        )
        return price

    def _price_by_id(self, price_id: str) -> Json:
        for price in self.prices.values():
            if price["id"] == price_id:
                return price
        raise StripeError(400, f"No such price: '{price_id}'")

    def _customer(self, customer_id: str) -> Json:
        try:
            return self.customers[customer_id]
        except KeyError:
            raise StripeError(404, f"No such customer: '{customer_id}'") from None

    def _subscription(self, sub_id: str) -> Json:
        try:
            return self.subscriptions[sub_id]
        except KeyError:
            raise StripeError(404, f"No such subscription: '{sub_id}'") from None

    # Routing --------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, params: Json, headers: dict[str, str]) -> tuple[int, Json]:
        with self._lock:
            self.requests.append(RecordedRequest(method, path, params, headers))
            for index, (prefix, status) in enumerate(self._failures):
                if path.startswith(prefix):
                    del self._failures[index]
                    return status, {"error": {"type": "api_error", "message": "injected failure"}}
            presented = headers.get("authorization", "").removeprefix("Bearer ")
            if self.api_keys is not None and presented not in self.api_keys:
                message = f"Invalid API Key provided: {presented[:8]}****"
                return 401, {"error": {"type": "authentication_error", "message": message}}
            key = headers.get("idempotency-key")
            if method == "POST" and key is not None:
                cache_key = f"{path}|{key}"
                if cache_key in self._idempotent:
                    status, body = self._idempotent[cache_key]
                    return status, {**body, "__replayed": True}
            try:
                status, body = 200, self._route(method, path, params)
            except StripeError as exc:
                status, body = exc.status, exc.body
            if method == "POST" and key is not None:
                self._idempotent[f"{path}|{key}"] = (status, copy.deepcopy(body))
            return status, copy.deepcopy(body)

    def _route(self, method: str, path: str, params: Json) -> Json:
        routes: list[tuple[str, str, Callable[..., Json]]] = [
            ("POST", r"/v1/customers", self._create_customer),
            ("GET", r"/v1/customers/(?P<id>[^/]+)", lambda p, id: self._customer(id)),
            ("POST", r"/v1/customers/(?P<id>[^/]+)", self._update_customer),
            ("DELETE", r"/v1/customers/(?P<id>[^/]+)", self._delete_customer),
            ("GET", r"/v1/prices", self._list_prices),
            ("POST", r"/v1/checkout/sessions", self._create_checkout_session),
            ("GET", r"/v1/checkout/sessions/(?P<id>[^/]+)", lambda p, id: self.checkout_sessions[id]),
            ("POST", r"/v1/billing_portal/sessions", self._create_portal_session),
            ("GET", r"/v1/subscriptions", self._list_subscriptions),
            ("GET", r"/v1/subscriptions/(?P<id>[^/]+)", lambda p, id: self._subscription(id)),
            ("POST", r"/v1/subscriptions/(?P<id>[^/]+)", self._update_subscription),
            ("DELETE", r"/v1/subscriptions/(?P<id>[^/]+)", self._cancel_subscription),
            ("POST", r"/v1/invoices/create_preview", self._preview_invoice),
            ("GET", r"/v1/invoices/upcoming", self._preview_invoice),
            ("POST", r"/v1/billing/meter_events", self._create_meter_event),
            ("GET", r"/v1/account", lambda p: load_fixture("account")),
            ("GET", r"/v1/webhook_endpoints", self._list_webhook_endpoints),
            ("POST", r"/v1/webhook_endpoints", self._create_webhook_endpoint),
            ("POST", r"/v1/webhook_endpoints/(?P<id>[^/]+)", self._update_webhook_endpoint),
            ("DELETE", r"/v1/webhook_endpoints/(?P<id>[^/]+)", self._delete_webhook_endpoint),
        ]
        for route_method, pattern, fn in routes:
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                return fn(params, **match.groupdict())
        raise StripeError(404, f"Unrecognized request URL ({method}: {path})")

    # Handlers -------------------------------------------------------------------------------------

    def _create_customer(self, params: Json) -> Json:
        customer = self.add_customer(metadata=params.get("metadata"), email=params.get("email"))
        customer["name"] = params.get("name")
        return customer

    def _update_customer(self, params: Json, id: str) -> Json:
        customer = self._customer(id)
        customer["metadata"] = {**customer["metadata"], **params.get("metadata", {})}
        for key in ("email", "name"):
            if key in params:
                customer[key] = params[key]
        return customer

    def _delete_customer(self, params: Json, id: str) -> Json:
        # Stripe answers a deleted customer's id with resource_missing, like an unknown one.
        self._customer(id)
        del self.customers[id]
        return {"id": id, "object": "customer", "deleted": True}

    def _list_prices(self, params: Json) -> Json:
        keys = params.get("lookup_keys", [])
        data = [self.prices[key] for key in keys if key in self.prices]
        return {"object": "list", "data": data, "has_more": False, "url": "/v1/prices"}

    def _create_checkout_session(self, params: Json) -> Json:
        if params.get("customer") not in self.customers:
            raise StripeError(400, f"No such customer: '{params.get('customer')}'")
        for item in params.get("line_items", []):
            self._price_by_id(item["price"])
        session = load_fixture("checkout_session")
        session_id = new_id("cs_test")
        session.update(
            id=session_id,
            created=int(time.time()),
            customer=params["customer"],
            mode=params.get("mode", "payment"),
            status="open",
            client_reference_id=params.get("client_reference_id"),
            metadata=params.get("metadata", {}),
            success_url=params.get("success_url"),
            cancel_url=params.get("cancel_url"),
            subscription=None,
            livemode=False,
            url=f"https://checkout.stripe.com/c/pay/{session_id}",
        )
        session["line_items_requested"] = params.get("line_items", [])
        session["subscription_data_requested"] = params.get("subscription_data", {})
        self.checkout_sessions[session_id] = session
        return session

    def _create_portal_session(self, params: Json) -> Json:
        self._customer(params.get("customer", ""))
        session = load_fixture("billing_portal_session")
        session_id = new_id("bps")
        session.update(
            id=session_id,
            created=int(time.time()),
            customer=params["customer"],
            return_url=params.get("return_url"),
            livemode=False,
            url=f"https://billing.stripe.com/p/session/{session_id}",
            flow=None,
        )
        self.portal_sessions[session_id] = session
        return session

    def _list_subscriptions(self, params: Json) -> Json:
        status = params.get("status")
        data = [
            sub
            for sub in self.subscriptions.values()
            if params.get("customer") in (None, sub["customer"])
            and (
                status == "all" or (status is None and sub["status"] != "canceled") or status == sub["status"]
            )
        ]
        return {"object": "list", "data": data, "has_more": False, "url": "/v1/subscriptions"}

    def _update_subscription(self, params: Json, id: str) -> Json:
        subscription = self._subscription(id)
        if subscription["status"] in {"canceled", "incomplete_expired"}:
            raise StripeError(
                400, "A canceled subscription can only update its cancellation_details and metadata."
            )
        if "proration_date" in params:
            period = subscription["items"]["data"][0]
            if (
                not period["current_period_start"]
                <= int(params["proration_date"])
                <= period["current_period_end"]
            ):
                raise StripeError(400, "Cannot specify proration date outside of current subscription period")
        for requested in params.get("items", []):
            item = next(i for i in subscription["items"]["data"] if i["id"] == requested["id"])
            if "price" in requested:
                item["price"] = copy.deepcopy(self._price_by_id(requested["price"]))
        if "metadata" in params:
            subscription["metadata"] = {**subscription["metadata"], **params["metadata"]}
        if "cancel_at_period_end" in params:
            subscription["cancel_at_period_end"] = params["cancel_at_period_end"] == "true"
        subscription["proration_behavior_requested"] = params.get("proration_behavior")
        return subscription

    def _cancel_subscription(self, params: Json, id: str) -> Json:
        subscription = self._subscription(id)
        now = int(time.time())
        subscription.update(status="canceled", canceled_at=now, ended_at=now)
        return subscription

    def _preview_invoice(self, params: Json) -> Json:
        """Prorated difference between the current and the requested price for the rest of the period."""
        sub_id = params.get("subscription")
        subscription = self._subscription(sub_id or "")
        details = params.get("subscription_details", {})
        current = subscription["items"]["data"][0]
        new_price = current["price"]
        for requested in details.get("items", []):
            if "price" in requested:
                new_price = self._price_by_id(requested["price"])
        proration_date = int(details.get("proration_date", time.time()))
        period_end = current["current_period_end"]
        period = max(1, period_end - current["current_period_start"])
        remaining = max(0, period_end - proration_date) / period
        credit = -round(current["price"]["unit_amount"] * remaining)
        charge = round(new_price["unit_amount"] * remaining)
        invoice = load_fixture("invoice")
        invoice.update(
            id=None,
            object="invoice",
            customer=subscription["customer"],
            subscription=None,
            currency="usd",
            amount_due=max(0, credit + charge + new_price["unit_amount"]),
            subtotal=credit + charge + new_price["unit_amount"],
            total=credit + charge + new_price["unit_amount"],
            period_start=proration_date,
            period_end=period_end,
            created=int(time.time()),
            livemode=False,
            parent={
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {"metadata": subscription["metadata"], "subscription": sub_id},
            },
        )
        lines = [
            ("Unused time", credit, current["price"]["id"], True),
            ("Remaining time", charge, new_price["id"], True),
            ("Next period", new_price["unit_amount"], new_price["id"], False),
        ]
        invoice["lines"] = {
            "object": "list",
            "has_more": False,
            "url": "/v1/invoices/upcoming/lines",
            "data": [
                {
                    "id": new_id("il_tmp"),
                    "object": "line_item",
                    "amount": amount,
                    "currency": "usd",
                    "description": description,
                    "pricing": {"price_details": {"price": price_id}, "type": "price_details"},
                    "parent": {
                        "type": "subscription_item_details",
                        "subscription_item_details": {"proration": proration},
                    },
                }
                for description, amount, price_id, proration in lines
            ],
        }
        return invoice

    def _create_meter_event(self, params: Json) -> Json:
        for required in ("event_name", "payload"):
            if required not in params:
                raise StripeError(400, f"Missing required param: {required}.", code="parameter_missing")
        identifier = params.get("identifier") or new_id("mev")
        existing = self.meter_events.get(identifier)
        if existing is not None:
            return existing
        event = load_fixture("billing_meter_event")
        event.update(
            created=int(time.time()),
            event_name=params["event_name"],
            identifier=identifier,
            livemode=False,
            payload=params["payload"],
            timestamp=int(params.get("timestamp", time.time())),
        )
        self.meter_events[identifier] = event
        return event

    def _webhook_endpoint(self, endpoint_id: str) -> Json:
        try:
            return self.webhook_endpoints[endpoint_id]
        except KeyError:
            raise StripeError(404, f"No such webhook endpoint: '{endpoint_id}'") from None

    def _list_webhook_endpoints(self, params: Json) -> Json:
        data = sorted(self.webhook_endpoints.values(), key=lambda endpoint: endpoint["created"], reverse=True)
        return {"object": "list", "data": data, "has_more": False, "url": "/v1/webhook_endpoints"}

    def _create_webhook_endpoint(self, params: Json) -> Json:
        for required in ("url", "enabled_events"):
            if required not in params:
                raise StripeError(400, f"Missing required param: {required}.", code="parameter_missing")
        endpoint = load_fixture("webhook_endpoint")
        endpoint.update(
            id=new_id("we"),
            created=int(time.time()),
            url=params["url"],
            enabled_events=params["enabled_events"],
            api_version=params.get("api_version"),
            description=params.get("description"),
            metadata=params.get("metadata", {}),
        )
        self.webhook_endpoints[endpoint["id"]] = endpoint
        self.webhook_secrets[endpoint["id"]] = "whsec_" + secrets.token_hex(16)
        return {**endpoint, "secret": self.webhook_secrets[endpoint["id"]]}

    def _update_webhook_endpoint(self, params: Json, id: str) -> Json:
        endpoint = self._webhook_endpoint(id)
        for key in ("enabled_events", "url", "description", "disabled"):
            if key in params:
                endpoint[key] = params[key]
        return endpoint

    def _delete_webhook_endpoint(self, params: Json, id: str) -> Json:
        self._webhook_endpoint(id)
        del self.webhook_endpoints[id]
        return {"id": id, "object": "webhook_endpoint", "deleted": True}


class _Handler(BaseHTTPRequestHandler):
    server: _StubServer

    def log_message(self, format: str, *args: Any) -> None:  # tests read stub.requests instead
        return

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        pairs = parse_qsl(parts.query, keep_blank_values=True) + parse_qsl(body, keep_blank_values=True)
        headers = {key.lower(): value for key, value in self.headers.items()}
        status, payload = self.server.stub.handle(self.command, parts.path, decode_form(pairs), headers)
        replayed = bool(payload.pop("__replayed", False))
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", new_id("req"))
        if replayed:
            self.send_header("Idempotent-Replayed", "true")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _serve


class _StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, stub: StripeStub) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stub = stub


def start_stub() -> tuple[StripeStub, Callable[[], None]]:
    """Start a stub on a free port; returns it and a function that stops it."""
    stub = StripeStub()
    server = _StubServer(stub)
    host, port = server.server_address[:2]
    stub.url = f"http://{host!s}:{port}"
    thread = threading.Thread(target=server.serve_forever, name="stripe-stub", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stub, stop


@pytest.fixture
def stripe_stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeStub]:
    """A fresh Stripe stub per test; the stripe library's global config and env vars point at it."""
    stub, stop = start_stub()
    monkeypatch.setattr(stripe, "api_base", stub.url)
    monkeypatch.setattr(stripe, "api_key", TEST_API_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", stub.url)
    monkeypatch.setenv("STRIPE_API_KEY", TEST_API_KEY)
    try:
        yield stub
    finally:
        stop()
