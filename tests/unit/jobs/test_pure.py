from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from jobs.registry import JOB_TYPES, SCHEDULES
from jobs.tasks.email import EmailRequest
from jobs.tasks.reports import safe_cell
from saascore.jobs.model import MAX_PAYLOAD_BYTES, JobMessage, encode_payload


def test_every_registered_job_type_resolves_to_a_callable_handler():
    for spec in JOB_TYPES.values():
        assert callable(spec.handler()), spec.type
    assert {spec.scope for spec in JOB_TYPES.values()} == {"tenant", "system"}
    assert len({s.job_type for s in SCHEDULES}) == len(SCHEDULES)


def test_job_message_round_trips_the_contract_body():
    message = JobMessage(job_id=uuid.uuid4(), type="send_email", tenant_id=None, payload={"a": 1}, attempt=1)
    assert JobMessage.model_validate_json(message.body()) == message
    with pytest.raises(ValidationError):
        JobMessage.model_validate({"job_id": str(uuid.uuid4()), "type": "Bad Type", "tenant_id": None})


def test_payload_limit_is_exact():
    fits = {"k": "x" * (MAX_PAYLOAD_BYTES - len('{"k":""}'))}
    assert len(encode_payload(fits)) == MAX_PAYLOAD_BYTES
    with pytest.raises(ValueError, match="larger than"):
        encode_payload({"k": fits["k"] + "x"})


@pytest.mark.parametrize(
    ("value", "shown"), [("=1+1", "'=1+1"), ("-x", "'-x"), ("@a", "'@a"), ("plain", "plain")]
)
def test_csv_cells_that_start_a_formula_are_neutralised(value, shown):
    assert safe_cell(value) == shown


def test_email_request_maps_webhook_template_names_and_lowercases_addresses():
    request = EmailRequest.model_validate({"template": "billing_trial_will_end", "to": ["A@B.example"]})
    assert (request.template, request.to) == ("trial_ending", ["a@b.example"])
    with pytest.raises(ValidationError):
        EmailRequest.model_validate({"template": "welcome", "to": ["a@b.example"] * 51})
