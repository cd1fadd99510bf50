"""Secrets and parameters resolved through Powertools parameters (cached in the container).

A reference is ``secretsmanager:<name-or-arn>[#json-key]`` or ``ssm:<parameter-name>``; anything else
is taken literally (local development only: settings refuse literal secrets outside ``local``).
"""

from __future__ import annotations

import json

from saascore.exceptions import ConfigurationError

SECRET_CACHE_SECONDS = 300


def resolve_secret(reference: str) -> str:
    if not reference.startswith(("secretsmanager:", "ssm:")):
        return reference
    # Imported for references only: it brings boto3, which a literal (local) value never needs.
    from aws_lambda_powertools.utilities import parameters

    if reference.startswith("secretsmanager:"):
        name, _, json_key = reference.removeprefix("secretsmanager:").partition("#")
        value = parameters.get_secret(name, max_age=SECRET_CACHE_SECONDS)
        if isinstance(value, bytes):
            value = value.decode()
        if json_key:
            try:
                document = json.loads(value)
                return str(document[json_key])
            except (ValueError, KeyError, TypeError) as exc:
                raise ConfigurationError(f"secret {name!r} has no JSON key {json_key!r}") from exc
        return str(value)
    value = parameters.get_parameter(
        reference.removeprefix("ssm:"), decrypt=True, max_age=SECRET_CACHE_SECONDS
    )
    return value.decode() if isinstance(value, bytes) else str(value)
