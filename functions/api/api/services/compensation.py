"""Undo steps for changes outside the database (Cognito, Secrets Manager) made inside a request.

A service that changes an external system after its SQL has run registers how to undo that change; the
request's tenant transaction runs the steps, newest first, whenever it does not commit (a later step
failed, the route raised, or the commit itself failed). A committed transaction discards them.
"""

from __future__ import annotations

from collections.abc import Callable

from saascore.observability import get_logger

logger = get_logger("api")


class Compensations:
    def __init__(self) -> None:
        self._steps: list[tuple[str, Callable[[], object]]] = []

    def add(self, description: str, step: Callable[[], object]) -> None:
        self._steps.append((description, step))

    def run(self) -> None:
        steps, self._steps = self._steps, []
        for description, step in reversed(steps):
            try:
                step()
            except Exception:  # one failed undo must not stop the others; it is logged for an operator
                logger.exception("compensation failed", extra={"compensation": description})
