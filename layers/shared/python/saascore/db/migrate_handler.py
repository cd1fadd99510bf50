"""Deploy-time migrate function: invoked by a CDK Trigger before the new API version goes live.

It connects straight to the database instance (not RDS Proxy) as the owner role, whose credentials are the
RDS-generated JSON secret named by ``MIGRATE_SECRET_ARN``, and applies the same migration files the tests
and ``make dev`` apply. A failure raises, which fails the deployment before any function uses the schema.
"""

from __future__ import annotations

import json
import os
from typing import Any

from psycopg.conninfo import make_conninfo

from saascore.db.migrate import migrate
from saascore.exceptions import ConfigurationError
from saascore.observability import get_logger
from saascore.secrets import resolve_secret

logger = get_logger("migrate")


def owner_conninfo(secret_json: str) -> str:
    try:
        secret: dict[str, Any] = json.loads(secret_json)
        return make_conninfo(
            host=secret["host"],
            port=int(secret.get("port", 5432)),
            dbname=secret.get("dbname", "saas"),
            user=secret["username"],
            password=secret["password"],
            sslmode=secret.get("sslmode", "require"),
            connect_timeout=10,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError("the migrate secret is not an RDS credentials JSON document") from exc


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    secret_arn = os.environ.get("MIGRATE_SECRET_ARN")
    if not secret_arn:
        raise ConfigurationError("MIGRATE_SECRET_ARN is not set")
    applied = migrate(owner_conninfo(resolve_secret(f"secretsmanager:{secret_arn}")))
    names = [migration.filename for migration in applied]
    logger.info("migrations done", extra={"applied": names})
    return {"applied": names}
