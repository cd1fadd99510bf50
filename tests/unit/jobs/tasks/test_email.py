"""The e-mail job's request model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from jobs.tasks.email import EmailRequest


def test_email_request_maps_webhook_template_names_and_lowercases_addresses():
    request = EmailRequest.model_validate({"template": "billing_trial_will_end", "to": ["A@B.example"]})
    assert (request.template, request.to) == ("trial_ending", ["a@b.example"])
    with pytest.raises(ValidationError):
        EmailRequest.model_validate({"template": "welcome", "to": ["a@b.example"] * 51})
