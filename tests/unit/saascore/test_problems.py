"""RFC 9457 problem details: the one rendering of problem+json on the origin side."""

from __future__ import annotations

import json

from saascore.problems import Problem, function_url_response


def test_problem_serialises_as_rfc9457():
    problem = Problem(
        status=404, title="Not found", slug="not-found", detail="No such project", extensions={"id": "x"}
    )
    assert problem.to_dict() == {
        "type": "https://errors.saas.example/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No such project",
        "id": "x",
    }
    assert Problem(status=500, title="Internal error").to_dict()["type"] == "about:blank"


def test_problem_json_is_compact_and_function_url_responses_carry_the_problem_type():
    problem = Problem(status=400, title="Bad request", slug="webhook-bad-body", detail="not JSON")
    assert problem.to_json() == (
        '{"type":"https://errors.saas.example/webhook-bad-body","title":"Bad request","status":400,'
        '"detail":"not JSON"}'
    )
    response = function_url_response(problem, headers={"content-type": "text/plain", "x-request-id": "r1"})
    assert response == {
        "statusCode": 400,
        "headers": {"content-type": "application/problem+json", "x-request-id": "r1"},
        "body": problem.to_json(),
    }
    assert json.loads(response["body"]) == problem.to_dict()
