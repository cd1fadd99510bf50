"""EventBridge Scheduler on a compressed timetable: each schedule fires `compression` times more often.

Schedules are the same entries the CDK app deploys (name, `rate(...)`/`cron(...)` expression, input
payload), so a developer sees the periodic jobs run within minutes instead of hours.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from local.events import scheduler_event
from local.runtime import LocalFunction

RATE = re.compile(r"^rate\((?P<value>\d+)\s+(?P<unit>minute|minutes|hour|hours|day|days)\)$")
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
CRON_PERIOD_SECONDS = 86400  # cron entries are daily or rarer in this project; compress them as daily
DEFAULT_COMPRESSION = 120.0
MINIMUM_PERIOD_SECONDS = 5.0

log = logging.getLogger("scheduler")


def period_seconds(expression: str) -> float:
    match = RATE.match(expression.strip())
    if match:
        unit = match["unit"].rstrip("s")
        return int(match["value"]) * UNIT_SECONDS[unit]
    if expression.strip().startswith("cron("):
        return CRON_PERIOD_SECONDS
    raise ValueError(f"unsupported schedule expression {expression!r}")


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    expression: str
    payload: Mapping[str, Any] | None = None


@dataclass
class CompressedScheduler:
    schedules: Sequence[Schedule]
    function: LocalFunction
    compression: float = DEFAULT_COMPRESSION
    minimum_period: float = MINIMUM_PERIOD_SECONDS
    fired: dict[str, int] = field(default_factory=dict)
    _next: dict[str, float] = field(default_factory=dict)

    def local_period(self, schedule: Schedule) -> float:
        return max(self.minimum_period, period_seconds(schedule.expression) / self.compression)

    def due(self, now: float) -> list[Schedule]:
        """Schedules whose compressed period has elapsed; the first tick fires nothing (like a new
        schedule, whose first run is one period away)."""
        ready = []
        for schedule in self.schedules:
            next_at = self._next.setdefault(schedule.name, now + self.local_period(schedule))
            if now >= next_at:
                ready.append(schedule)
                self._next[schedule.name] = now + self.local_period(schedule)
        return ready

    def fire(self, schedule: Schedule) -> Any:
        self.fired[schedule.name] = self.fired.get(schedule.name, 0) + 1
        return self.function.invoke(scheduler_event(schedule_name=schedule.name, payload=schedule.payload))

    def run(self, stop: threading.Event, *, tick: float = 0.5) -> None:
        while not stop.is_set():
            for schedule in self.due(time.monotonic()):
                try:
                    self.fire(schedule)
                    log.info("fired %s", schedule.name)
                except Exception:
                    log.exception("schedule %s failed", schedule.name)
            stop.wait(tick)


def load_schedules() -> list[Schedule]:
    """The jobs package's schedule table (what the CDK app deploys; input `{"job_type": ...}`)."""
    import importlib

    try:
        registry = importlib.import_module("jobs.registry")
    except ImportError:
        log.warning("jobs.registry is not available; no schedules will fire")
        return []
    return [
        Schedule(name=entry.job_type, expression=entry.expression, payload={"job_type": entry.job_type})
        for entry in registry.SCHEDULES
    ]
