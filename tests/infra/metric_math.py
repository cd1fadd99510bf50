"""A checker for the CloudWatch metric-math subset our alarms use, written from the documented grammar
(CloudWatch User Guide, "Metric math syntax and functions"): a metric id is a time series (TS), a number
is a scalar (S); arithmetic and comparison between them yield TS when either side is TS; `IF` accepts
only the documented shapes `IF(TS <op> S, S|TS, S|TS)`, `IF(TS, TS|S, TS|S)` and `IF(S, TS, TS)`; an
array `[...]` holds time series only (TS[]); MAX/MIN/SUM/AVG take TS (giving S) or TS[] (giving TS).
An alarm's expression must produce a single TS."""

from __future__ import annotations

import re
from collections.abc import Collection

TOKEN = re.compile(
    r"\s*(?:(\d+(?:\.\d+)?)|([a-z][A-Za-z0-9_]*)|([A-Z_]+)(?=\()|(==|!=|<=|>=|[-+*/<>(),\[\]]))"
)
AGGREGATES = {"MAX", "MIN", "SUM", "AVG"}
COMPARISONS = {"==", "!=", "<=", ">=", "<", ">"}


class MetricMathError(ValueError):
    """The expression is outside the documented grammar."""


class _Parser:
    def __init__(self, expression: str, metric_ids: Collection[str]) -> None:
        self.tokens: list[str] = []
        position = 0
        while position < len(expression.rstrip()):
            match = TOKEN.match(expression, position)
            if match is None:
                raise MetricMathError(f"unexpected text at {expression[position:]!r}")
            self.tokens.append(match.group().strip())
            position = match.end()
        self.ids = set(metric_ids)
        self.index = 0

    def peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise MetricMathError(f"expected {expected or 'a token'}, got {token!r}")
        self.index += 1
        return token

    def expression(self) -> str:
        left = self.additive()
        if self.peek() in COMPARISONS:
            self.take()
            right = self.additive()
            return "TS" if "TS" in (left, right) else "S"
        return left

    def additive(self) -> str:
        kind = self.term()
        while self.peek() in ("+", "-"):
            self.take()
            kind = "TS" if "TS" in (kind, self.term()) else "S"
        return kind

    def term(self) -> str:
        kind = self.factor()
        while self.peek() in ("*", "/"):
            self.take()
            kind = "TS" if "TS" in (kind, self.factor()) else "S"
        return kind

    def factor(self) -> str:
        token = self.take()
        if token == "(":
            kind = self.expression()
            self.take(")")
            return kind
        if token == "[":
            items = [self.expression()]
            while self.peek() == ",":
                self.take()
                items.append(self.expression())
            self.take("]")
            if any(item != "TS" for item in items):
                raise MetricMathError("an array holds time series only (TS[])")
            return "TS[]"
        if re.fullmatch(r"\d+(\.\d+)?", token):
            return "S"
        if token in self.ids:
            return "TS"
        if token == "IF":
            return self.if_call()
        if token in AGGREGATES:
            self.take("(")
            argument = self.expression()
            self.take(")")
            return {"TS": "S", "TS[]": "TS"}.get(argument) or self.fail(f"{token} of {argument}")
        raise MetricMathError(f"unknown name {token!r}")

    def if_call(self) -> str:
        self.take("(")
        start = self.index
        condition_left = self.additive()
        compared = self.peek() in COMPARISONS
        if compared:
            self.take()
            if self.additive() != "S" or condition_left != "TS":
                raise MetricMathError("IF compares a time series with a scalar (TS <op> S)")
        else:
            self.index = start
            condition_left = self.expression()
        self.take(",")
        true_value = self.expression()
        self.take(",")
        false_value = self.expression()
        self.take(")")
        branches = (true_value, false_value)
        if any(branch not in ("TS", "S") for branch in branches):
            raise MetricMathError("IF branches are a scalar or a time series")
        if not compared and condition_left == "S" and branches != ("TS", "TS"):
            raise MetricMathError("IF(S, ...) takes two time series")
        return "TS"

    def fail(self, what: str) -> str:
        raise MetricMathError(f"undocumented form: {what}")


def result_type(expression: str, metric_ids: Collection[str]) -> str:
    parser = _Parser(expression, metric_ids)
    kind = parser.expression()
    if parser.peek() is not None:
        raise MetricMathError(f"trailing {parser.peek()!r}")
    return kind
