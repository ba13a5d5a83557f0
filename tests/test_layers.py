"""The dependency rule of DESIGN.md §2, checked over the source: every ``import`` statement of every
module in harness/, workloads/, backends/ and plugins/ (read with ``ast``, nothing imported).

A breach is reported as ``path:line imports MODULE: the rule``. The rules are data (``RULES``); the
harness's own layer order is ``HARNESS_LAYER_EDGES`` (which harness layer may import which), checked
for every layer listed there.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = ("harness", "backends", "workloads")
"""Top-level packages of the project; plugins/*/<package> are scanned as their own packages."""

INTERFACE = frozenset({"backends", "backends.base"})
"""What of ``backends`` a workload may import: the interface (and the package that holds it)."""
RUNTIME_LIBRARY = "backends.reactor"
"""The in-house reactor runtime: a library (stdlib and numpy only), not a backend."""
TOOLS = "harness.tools"
"""Build tools ``make`` runs by path before anything is installed: stdlib only, imported by nothing."""

BASE = frozenset(
    {"harness.errors", "harness.plugins", "harness.registry", "harness.interpreters", "harness.outputs"}
)
"""The harness's top-level modules: what every layer needs (the package's ``__init__`` too)."""
HARNESS_LAYER_EDGES: dict[str, frozenset[str]] = {
    # layer -> the other harness layers its modules may import (its own modules always); listed
    # lowest first. A harness module in no layer listed here is not checked against the order.
    **{module: BASE for module in BASE},
    "harness.results": BASE,
    "harness.analysis": BASE | {"harness.results"},
    "harness.figures": BASE | {"harness.results", "harness.analysis"},
    "harness.report": BASE | {"harness.results", "harness.analysis"},
    "harness.cells": BASE | {"harness.results"},
    "harness.cli": BASE
    | {"harness.results", "harness.analysis", "harness.figures", "harness.report", "harness.cells"},
    "harness.conformance": BASE | {"harness.results", "harness.cells"},
    "harness.__main__": frozenset({"harness.cli"}),
    TOOLS: frozenset(),
}


@dataclass(frozen=True)
class Edge:
    """``importer`` (a module) imports ``imported`` at ``path:line``."""

    importer: str
    imported: str
    path: Path
    line: int


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _is_concrete_backend(module: str) -> bool:
    return _within(module, "backends") and module not in INTERFACE and not _within(module, RUNTIME_LIBRARY)


def _top(module: str) -> str:
    return module.split(".")[0]


def _stdlib(module: str) -> bool:
    return _top(module) in sys.stdlib_module_names or _top(module) == "__future__"


def _layer(module: str) -> str | None:
    return next((layer for layer in HARNESS_LAYER_EDGES if _within(module, layer)), None)


def _breaks_layer_order(edge: Edge) -> bool:
    source, target = _layer(edge.importer), edge.imported
    if source is None or not _within(target, "harness") or _within(target, source) or target == "harness":
        return False
    return not any(_within(target, allowed) for allowed in HARNESS_LAYER_EDGES[source])


@dataclass(frozen=True)
class Rule:
    text: str
    broken_by: Callable[[Edge], bool]


RULES = (
    Rule(
        "harness imports no concrete backend (only backends.base and the reactor runtime library)",
        lambda e: _within(e.importer, "harness") and _is_concrete_backend(e.imported),
    ),
    Rule(
        "workloads use only backends.base of the backends",
        lambda e: (
            _within(e.importer, "workloads")
            and _within(e.imported, "backends")
            and e.imported not in INTERFACE
        ),
    ),
    Rule(
        "backends/reactor/ imports nothing from harness, workloads or other backends",
        lambda e: (
            _within(e.importer, RUNTIME_LIBRARY)
            and _top(e.imported) in PROJECT_PACKAGES
            and not _within(e.imported, RUNTIME_LIBRARY)
        ),
    ),
    Rule(
        "backends/reactor/ uses the standard library and numpy only",
        lambda e: (
            _within(e.importer, RUNTIME_LIBRARY)
            and not (_stdlib(e.imported) or _top(e.imported) in ("numpy", "backends"))
        ),
    ),
    Rule(
        "nothing outside harness and tests imports harness",
        lambda e: _within(e.imported, "harness") and not _within(e.importer, "harness"),
    ),
    Rule(f"nothing imports the build tools ({TOOLS})", lambda e: _within(e.imported, TOOLS)),
    Rule(
        "the build tools use the standard library only (they run before anything is installed)",
        lambda e: _within(e.importer, TOOLS) and not _stdlib(e.imported),
    ),
    Rule("the harness's layer order (HARNESS_LAYER_EDGES)", _breaks_layer_order),
)


def package_roots(root: Path) -> list[Path]:
    """The folders whose name is a top-level package: the project's and each plugin's."""
    roots = [root / name for name in PROJECT_PACKAGES if (root / name).is_dir()]
    roots += sorted(p.parent for p in root.glob("plugins/*/*/__init__.py"))
    return roots


def modules(root: Path) -> Iterator[tuple[str, Path, bool]]:
    """(dotted name, path, is a package's __init__) of every module under the package roots."""
    for package_root in package_roots(root):
        for path in sorted(package_root.rglob("*.py")):
            parts = path.relative_to(package_root.parent).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            yield ".".join(parts[:-1] if is_package else parts), path, is_package


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def edges(root: Path) -> Iterator[Edge]:
    """Every import of every module; ``from P import name`` counts as importing ``P.name`` where that
    is a module of the project (so ``from backends import freethreaded`` is caught), else ``P``."""
    known = {name: path for name, path, _ in modules(root)}
    for module, path, is_package in modules(root):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Edge(module, alias.name, path, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(module, is_package, node)
                for alias in node.names:
                    target = f"{source}.{alias.name}"
                    yield Edge(module, target if target in known else source, path, node.lineno)


def breaches(root: Path) -> list[str]:
    """One line per breach (an import of several names from one module is one breach)."""
    found = {
        f"{edge.path.relative_to(root)}:{edge.line} imports {edge.imported}: {rule.text}": None
        for edge in edges(root)
        for rule in RULES
        if rule.broken_by(edge)
    }
    return list(found)


def test_the_project_keeps_the_dependency_rule():
    found = breaches(ROOT)
    assert not found, "DESIGN.md §2 broken:\n" + "\n".join(found)


def test_the_scan_sees_every_layer():
    """A scan that found nothing to read would pass whatever the code did."""
    names = {name for name, _, _ in modules(ROOT)}
    for expected in ("harness.cells.runner", "harness.cells.protocol", "backends.base", "backends.reactor",
                     "workloads.envs", "actor_reactor_bench_dask.backend"):  # fmt: skip
        assert expected in names, expected
    assert sum(1 for _ in edges(ROOT)) > 500


# --- the checker itself, on a small tree with one breach of each rule --------------------------------

BREACHES = {
    "harness/interpreters.py": "from backends.freethreaded import FREE_THREADED\n",
    "harness/analysis/checks.py": "from backends import freethreaded\n",
    "harness/cells/runner.py": "from ..report import table\n",
    "workloads/envs.py": "from backends.gym_envs import make_env\n",
    "backends/reactor/core.py": "from ..base import Backend\nimport psutil\n",
    "backends/ray/backend.py": "from harness import registry\n",
    "plugins/dask/actor_reactor_bench_dask/backend.py": "import harness.results\n",
    "harness/cli/__init__.py": "from ..tools import bootstrap\n",
    "harness/tools/bootstrap.py": "import numpy\n",
}
ALLOWED = {
    "harness/__init__.py": "",
    "harness/cells/__init__.py": "",
    "harness/registry.py": "from backends.base import Backend\n",
    "harness/cells/reaper.py": "from backends.reactor.federation import leftovers\n",
    "harness/report.py": "table = 1\n",
    "backends/__init__.py": "",
    "backends/base.py": "import abc\n",
    "backends/freethreaded.py": "from .base import Backend\n",
    "backends/gym_envs.py": "",
    "backends/reactor/__init__.py": "",
    "backends/reactor/federation.py": "import numpy\nfrom . import core\n",
    "workloads/__init__.py": "",
    "workloads/sampling.py": "from backends.base import Backend\nfrom . import envs\n",
    "plugins/dask/actor_reactor_bench_dask/__init__.py": "",
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for relative, text in {**ALLOWED, **BREACHES}.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    return tmp_path


def test_each_kind_of_breach_is_found_and_nothing_else(tree: Path):
    found = breaches(tree)
    assert sorted(found) == sorted(
        [
            "harness/interpreters.py:1 imports backends.freethreaded: " + RULES[0].text,
            "harness/analysis/checks.py:1 imports backends.freethreaded: " + RULES[0].text,
            "workloads/envs.py:1 imports backends.gym_envs: " + RULES[1].text,
            "backends/reactor/core.py:1 imports backends.base: " + RULES[2].text,
            "backends/reactor/core.py:2 imports psutil: " + RULES[3].text,
            "backends/ray/backend.py:1 imports harness.registry: " + RULES[4].text,
            "plugins/dask/actor_reactor_bench_dask/backend.py:1 imports harness.results: " + RULES[4].text,
            "harness/cli/__init__.py:1 imports harness.tools.bootstrap: " + RULES[5].text,
            "harness/cli/__init__.py:1 imports harness.tools.bootstrap: " + RULES[7].text,
            "harness/tools/bootstrap.py:1 imports numpy: " + RULES[6].text,
            "harness/cells/runner.py:1 imports harness.report: " + RULES[7].text,
        ]
    )


def test_an_allowed_layer_edge_is_not_a_breach(tree: Path, monkeypatch):
    monkeypatch.setitem(HARNESS_LAYER_EDGES, "harness.cells", frozenset({"harness.report"}))
    assert not any(line.startswith("harness/cells/runner.py") for line in breaches(tree))
