"""Which cells of a suite to run: ``--workload NAME`` and ``-k EXPR`` over each cell's names.

``-k`` works as pytest's does, so that its users need learn nothing: ``and``, ``or``, ``not`` and
parentheses over words, each word true when it is a case-insensitive substring of one of the cell's
names (its workload, each parameter as ``name=value``, its backend). pytest is only a development
dependency, so the harness parses the expression itself rather than importing ``_pytest``; a word may
hold ``=``, ``-``, ``.`` and the like (``env_id=CartPole-v1``), anything but spaces and parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from harness import registry
from harness.errors import UsageError

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")
_KEYWORDS = ("and", "or", "not")

Matcher = Callable[[Iterable[str]], bool]
"""A parsed expression: true for a cell whose names it selects."""


class _Parser:
    """Recursive descent over ``expr := or; or := and ('or' and)*; and := not ('and' not)*;
    not := 'not' not | '(' or ')' | word`` (pytest's grammar, with its precedence)."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0

    def parse(self) -> Matcher:
        if not self.tokens:
            raise self._error("it is empty")
        matcher = self._or()
        if self.at < len(self.tokens):
            raise self._error(f"unexpected {self.tokens[self.at]!r}")
        return matcher

    def _error(self, why: str) -> UsageError:
        return UsageError(f"-k {self.text!r}: {why}")

    def _peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise self._error("it ends too early")
        self.at += 1
        return token

    def _or(self) -> Matcher:
        parts = [self._and()]
        while self._peek() == "or":
            self.at += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else lambda names: any(p(names) for p in parts)

    def _and(self) -> Matcher:
        parts = [self._not()]
        while self._peek() == "and":
            self.at += 1
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else lambda names: all(p(names) for p in parts)

    def _not(self) -> Matcher:
        token = self._take()
        if token == "not":
            inner = self._not()
            return lambda names: not inner(names)
        if token == "(":
            inner = self._or()
            if self._take() != ")":
                raise self._error("a '(' is not closed")
            return inner
        if token == ")" or token in _KEYWORDS:
            raise self._error(f"unexpected {token!r}")
        word = token.lower()
        return lambda names: any(word in name.lower() for name in names)


def _tokens(text: str) -> list[str]:
    tokens, at = [], 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:  # only trailing spaces are left
            break
        tokens.append(match.group(1))
        at = match.end()
    return tokens


def parse_expression(text: str) -> Matcher:
    """``-k``'s expression as a matcher; a malformed one is a UsageError in one line."""
    return _Parser(text).parse()


def cell_names(workload: str, params: dict[str, Any], backend: str) -> list[str]:
    """The names ``-k`` matches: the workload, each parameter as ``name=value``, the backend."""
    return [workload, *(f"{k}={v}" for k, v in params.items()), backend]


@dataclass(frozen=True)
class Selection:
    """``--workload`` (None: every workload of the suite) and ``-k`` (None: every cell)."""

    workloads: tuple[str, ...] | None = None
    expression: str | None = None

    def __post_init__(self) -> None:
        _ = self._matcher  # a malformed expression fails before anything runs

    @cached_property
    def _matcher(self) -> Matcher | None:
        return None if self.expression is None else parse_expression(self.expression)

    def check(self, suite: str, suite_workloads: list[str]) -> None:
        """An empty or unknown ``--workload``, or one outside the suite, is a usage error naming
        the choices."""
        for name in self.workloads or ():
            if not name:
                raise UsageError(f"--workload: empty name in {','.join(self.workloads)!r}")
            if name not in registry.WORKLOADS:
                raise UsageError(f"unknown workload {name!r}; choose from {', '.join(registry.WORKLOADS)}")
            if name not in suite_workloads:
                raise UsageError(
                    f"--workload {name}: not a workload of suite {suite!r} "
                    f"(its workloads: {', '.join(suite_workloads)})"
                )

    def takes_workload(self, name: str) -> bool:
        return self.workloads is None or name in self.workloads

    def takes(self, workload: str, params: dict[str, Any], backend: str) -> bool:
        return self._matcher is None or self._matcher(cell_names(workload, params, backend))

    def text(self) -> str:
        """The selection as the command line gave it (for the message when it selects nothing)."""
        parts = [f"--workload {','.join(self.workloads)}"] if self.workloads else []
        if self.expression is not None:
            parts.append(f"-k {self.expression!r}")
        return " ".join(parts)
