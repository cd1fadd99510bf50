"""One JSON line per event on stdout (Lambda@Edge ships stdout to CloudWatch in the serving region)."""

from __future__ import annotations

import json
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def log(level: str, message: str, **fields: Any) -> None:
    record = {"level": level, "message": message, "service": "edge", "timestamp": round(time.time(), 3)}
    record.update(fields)
    sys.stdout.write(json.dumps(record, default=str, separators=(",", ":")) + "\n")
    sys.stdout.flush()
