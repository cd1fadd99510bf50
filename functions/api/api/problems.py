"""The one exception → RFC 9457 problem+json mapping of the API, and the problem schema in OpenAPI."""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.exceptions import ApiError, IdempotentReplay, ScimError
from api.services.scim_schema import SCIM_PATH_PREFIX
from saascore.exceptions import (
    ConfigurationError,
    DatabaseUnavailableError,
    StatementTimeoutError,
    TenantMovingError,
    TenantNotInCellError,
)
from saascore.observability import get_logger, get_metrics
from saascore.problems import PROBLEM_CONTENT_TYPE, Problem

logger = get_logger("api")

# Below SCIM_PATH_PREFIX every error is a SCIM Error document (RFC 7644 §3.12), whatever raised it.
SCIM_CONTENT_TYPE = "application/scim+json"
SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
# Statuses every authenticated operation may answer with a problem; added to each operation in OpenAPI.
COMMON_PROBLEM_STATUSES = (400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503)


class ProblemDocument(BaseModel):
    """RFC 9457 problem details; extension members (e.g. ``errors``) may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


def is_scim_path(path: str | None) -> bool:
    return path is not None and (path == SCIM_PATH_PREFIX or path.startswith(SCIM_PATH_PREFIX + "/"))


def scim_error_response(
    status: int, detail: str | None, scim_type: str | None = None, *, headers: dict[str, str] | None = None
) -> Response:
    document: dict[str, Any] = {"schemas": [SCIM_ERROR_SCHEMA], "status": str(status)}
    if scim_type:
        document["scimType"] = scim_type
    if detail:
        document["detail"] = detail
    return Response(
        content=json.dumps(document, separators=(",", ":")),
        status_code=status,
        media_type=SCIM_CONTENT_TYPE,
        headers=headers,
    )


def problem_response(problem: Problem, *, headers: dict[str, str] | None = None) -> Response:
    if is_scim_path(problem.instance):
        # SCIM has no 422; a request it cannot accept is a 400 invalidValue (RFC 7644 §3.12).
        status = 400 if problem.status == 422 else problem.status
        scim_type = "invalidValue" if problem.status == 422 else None
        return scim_error_response(status, problem.detail or problem.title, scim_type, headers=headers)
    return Response(
        content=problem.to_json(),
        status_code=problem.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


def _pointer(loc: Sequence[int | str]) -> dict[str, str]:
    """A JSON pointer into the body, or the name of the parameter, for one validation error location."""
    where, *rest = loc or ("body",)
    where = str(where)
    if where == "body":
        return {"pointer": "#/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in rest)}
    return {where: ".".join(str(part) for part in rest) if rest else str(where)}


def validation_problem(exc: RequestValidationError, instance: str) -> Problem:
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        return Problem(
            400, "Malformed JSON", "malformed-json", "the request body is not valid JSON", instance
        )
    details = [
        {"detail": str(error.get("msg", "invalid")), **_pointer(error.get("loc", ()))} for error in errors
    ]
    return Problem(
        422,
        "Validation failed",
        "validation-failed",
        "the request is not valid",
        instance,
        {"errors": details},
    )


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    problem = Problem(exc.status, exc.title, exc.slug, exc.detail, request.url.path, dict(exc.extensions))
    return problem_response(problem, headers=exc.headers or None)


async def _scim(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ScimError)
    return scim_error_response(exc.status, exc.detail, exc.scim_type, headers=exc.headers or None)


async def _replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    return Response(
        content=exc.body, status_code=exc.status, headers={**exc.headers, "Idempotent-Replayed": "true"}
    )


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return problem_response(validation_problem(exc, request.url.path))


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    title = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    problem = Problem(exc.status_code, title, "about:blank", detail, request.url.path)
    return problem_response(problem, headers=dict(exc.headers) if exc.headers else None)


async def _database(request: Request, exc: Exception) -> Response:
    logger.warning("database unavailable", extra={"error": type(exc).__name__})
    problem = Problem(
        503, "Service unavailable", "database-unavailable", "please retry shortly", request.url.path
    )
    return problem_response(problem, headers={"Retry-After": "1"})


async def _tenant_moving(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TenantMovingError)
    problem = Problem(
        503,
        "Tenant is moving",
        "tenant-moving",
        "the tenant is being moved to another database and is read-only for a moment; nothing was"
        " changed — retry after the Retry-After delay",
        request.url.path,
    )
    return problem_response(problem, headers={"Retry-After": str(exc.retry_after_seconds)})


async def _tenant_not_in_cell(request: Request, exc: Exception) -> Response:
    """A write routed by a session's cell claim that went stale mid-request (the tenant just left that
    cell): the same answer as the access check gives such a session, so the client refreshes into the
    tenant's new cell."""
    assert isinstance(exc, TenantNotInCellError)
    problem = Problem(
        401,
        "Authentication required",
        "unauthenticated",
        "the tenant has moved to another cell; refresh the session to reach it (nothing was changed)",
        request.url.path,
    )
    return problem_response(problem)


async def _misconfigured(request: Request, exc: Exception) -> Response:
    logger.error("configuration error", extra={"error": str(exc)})
    get_metrics("api").add_metric(name="ConfigurationError", unit="Count", value=1)
    problem = Problem(503, "Service unavailable", "service-misconfigured", None, request.url.path)
    return problem_response(problem)


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error")
    get_metrics("api").add_metric(name="UnhandledError", unit="Count", value=1)
    return problem_response(Problem(500, "Internal error", "internal-error", None, request.url.path))


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ScimError, _scim)
    app.add_exception_handler(IdempotentReplay, _replay)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(DatabaseUnavailableError, _database)
    app.add_exception_handler(StatementTimeoutError, _database)
    app.add_exception_handler(TenantMovingError, _tenant_moving)
    app.add_exception_handler(TenantNotInCellError, _tenant_not_in_cell)
    app.add_exception_handler(ConfigurationError, _misconfigured)
    app.add_exception_handler(Exception, _unexpected)


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Give every operation the problem responses it can produce, in place of FastAPI's default 422."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = ProblemDocument.model_json_schema()
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    problem = {
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status in COMMON_PROBLEM_STATUSES:
                existing = responses.get(str(status), {})
                responses[str(status)] = {
                    "description": existing.get("description") or HTTPStatus(status).phrase,
                    **problem,
                }
            for status, response in responses.items():
                if status.startswith(("4", "5")) and "content" not in response:
                    response.update(problem)
    return schema
