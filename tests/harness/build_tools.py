"""The build tools of harness/tools/, for their tests: scripts ``make`` runs by path, which no module
imports (tests/test_layers.py), so a test loads one from its file."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TOOLS = Path(__file__).resolve().parents[2] / "harness" / "tools"


def load_tool(name: str) -> ModuleType:
    """harness/tools/<name>.py as a module of its own (not part of the ``harness`` package)."""
    module_name = f"build_tool_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, TOOLS / f"{name}.py")
    assert spec is not None and spec.loader is not None, name
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and the like look their module up by name
    spec.loader.exec_module(module)
    return module
