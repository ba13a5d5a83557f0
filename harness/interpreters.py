"""Which Python runs a backend's cells: the harness's own, or the free-threaded one of ``.venv-ft``.

A backend names the interpreter it needs (``Backend.interpreter``); this module alone knows where that
interpreter lives, so that the runner, ``list`` and the tests agree. ``HARNESS_FREETHREADED_PYTHON``
points elsewhere (a 3.13t installed some other way, or a test).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from backends.base import FREE_THREADED

FREE_THREADED_VENV = Path(__file__).resolve().parents[1] / ".venv-ft"
"""Where ``make freethreaded`` builds the free-threaded venv: the Makefile's ``FT_VENV``, which it
passes to harness/tools/build_freethreaded.py (a build tool the harness does not import; a test checks
that the two say the same)."""
FREE_THREADED_VARIABLE = "HARNESS_FREETHREADED_PYTHON"
BUILD_HINT = "run `make freethreaded` to build it"


def free_threaded_python() -> Path:
    configured = os.environ.get(FREE_THREADED_VARIABLE)
    return Path(configured) if configured else FREE_THREADED_VENV / "bin" / "python"


def executable(interpreter: str | None) -> str:
    """The program that runs a cell of a backend needing ``interpreter``."""
    if interpreter is None:
        return sys.executable
    if interpreter == FREE_THREADED:
        return str(free_threaded_python())
    raise ValueError(f"unknown interpreter {interpreter!r}")


def missing(interpreter: str | None) -> str | None:
    """Why the interpreter cannot be started here, or None (whether it is right is asked inside it)."""
    if interpreter is None:
        return None
    path = Path(executable(interpreter))
    if not os.access(path, os.X_OK):
        return f"the {interpreter} interpreter {path} is not built; {BUILD_HINT}"
    return None
