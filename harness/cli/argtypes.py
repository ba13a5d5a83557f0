"""Argument types shared by the commands: numbers checked against a range, each error in one line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def output_path(text: str) -> Path:
    """A path a command writes (or resumes); an empty one is refused, where ``Path("")`` would
    silently mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path names no file or folder")
    return Path(text)


def whole_number_in(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range {low}..{high}")
        return value

    return parse


def number_in(low: float, high: float, *, include_low: bool, unit: str = "") -> Callable[[str], float]:
    """A float in ``[low, high]`` or ``(low, high]``; NaN is out of every range."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        above = value >= low if include_low else value > low
        if not (above and value <= high):
            bracket = "[" if include_low else "("
            raise argparse.ArgumentTypeError(f"{text} is out of range {bracket}{low:g}, {high:g}]{unit}")
        return value

    return parse


def assignment(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` (a workload option) as a pair; the workload checks the value."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name.strip(), value.strip()
