"""The webhook body of an event (the Standard Webhooks payload shape: `type`, `timestamp`, `data`) and the
headers that sign it, through the `standardwebhooks` library."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from standardwebhooks import Webhook

ID_HEADER: Final = "webhook-id"
TIMESTAMP_HEADER: Final = "webhook-timestamp"
SIGNATURE_HEADER: Final = "webhook-signature"


def message_id(event_id: object) -> str:
    """`webhook-id`: the event's id, the same on every retry and redelivery (receivers deduplicate on it)."""
    return f"evt_{event_id}".replace("-", "")


def event_body(event: Mapping[str, Any]) -> str:
    """The JSON body for an `events` row; the bytes signed are exactly the bytes sent."""
    document = {
        "id": message_id(event["id"]),
        "type": event["type"],
        "version": event["version"],
        "timestamp": event["occurred_at"].isoformat().replace("+00:00", "Z"),
        "data": event["data"],
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def signed_headers(*, msg_id: str, body: str, secrets: Sequence[str], now: datetime) -> dict[str, str]:
    """Standard Webhooks headers; one `v1,` signature per live secret (two during a rotation)."""
    if not secrets:
        raise ValueError("an endpoint needs at least one live secret to sign with")
    signatures = " ".join(Webhook(secret).sign(msg_id=msg_id, timestamp=now, data=body) for secret in secrets)
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(int(now.timestamp())),
        SIGNATURE_HEADER: signatures,
        "content-type": "application/json",
    }
