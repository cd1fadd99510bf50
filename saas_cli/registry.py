"""Command groups assembled from small modules: each exposes `register(subparsers)`; one that is missing
(an optional area not installed) is simply not offered."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any


def register_modules(subparsers: Any, module_names: Iterable[str]) -> None:
    for name in module_names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers)
