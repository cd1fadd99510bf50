"""The jobs queue message contract and its exact payload limit."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from saascore.jobs.model import MAX_PAYLOAD_BYTES, JobMessage, encode_payload


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
