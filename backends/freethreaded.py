"""``reactor-ft`` and ``xronos-ft``: the reactor backends, run by the harness under free-threaded 3.13t.

The paper's reactor side ran on a no-GIL CPython fork while Ray ran on a normal interpreter; these
backends reproduce that setup properly: the same code as ``reactor`` and ``xronos``, but the harness
starts their cells with the interpreter of ``.venv-ft`` (``make freethreaded``; Ray has no
free-threaded wheels and stays on the normal build). Inside that process, ``availability`` checks
that the interpreter really is a free-threaded build; whether the GIL stayed off while the cell ran
(an extension module without free-threading support turns it back on) is recorded per row.
"""

from __future__ import annotations

import sys
import sysconfig

from backends.xronos.backend import XronosBackend

from .base import FREE_THREADED
from .reactor_backend import ReactorBackend


def not_free_threaded() -> str | None:
    """Why this interpreter cannot host a ``-ft`` backend, or None."""
    if not sysconfig.get_config_var("Py_GIL_DISABLED"):
        return f"needs a free-threaded interpreter (this is Python {sys.version.split()[0]} with the GIL)"
    return None


class _OnFreeThreaded:
    """Mixed in before a backend class: the same backend, its cells under the free-threaded interpreter."""

    interpreter = FREE_THREADED
    headline_only_in_quick = True

    @classmethod
    def availability(cls) -> str | None:
        return not_free_threaded() or super().availability()  # type: ignore[misc]


class ReactorFtBackend(_OnFreeThreaded, ReactorBackend):
    name = "reactor-ft"
    plot_style = ("tab:pink", "d")
    description = "the in-house reactor runtime on free-threaded Python 3.13t (threads without the GIL)"


class XronosFtBackend(_OnFreeThreaded, XronosBackend):
    name = "xronos-ft"
    plot_style = ("lime", "<")
    description = "xronos 0.15 on free-threaded Python 3.13t (single-threaded runtime, no GIL)"
