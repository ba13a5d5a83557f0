"""The conformance kit: what every backend must do (DESIGN.md §3, §8), as a pytest plugin.

A backend author runs it on a registered backend, several, or all of them, or on a class that is not
registered yet::

    pytest -p harness.conformance --backend NAME
    pytest -p harness.conformance --backend a,b        # or: --backend all
    pytest -p harness.conformance --backend mypackage.module:MyBackend

Given ``--backend`` and no test paths, pytest collects only the kit's checks
(``harness.conformance.checks``). They drive the backend directly, in this process, with small
workers of their own:

- every worker is built once, inside ``start`` (start-up is apart from the operations);
- ``call_all`` returns results in worker order, never arrival order, and passes the argument intact;
- a worker's exception becomes one ``WorkerFailed`` naming that worker;
- ``shutdown`` releases every process, thread and ``/dev/shm`` file its processes held (sampled while
  it runs: what other programs make meanwhile does not count), also after a failed ``start`` or a
  worker's exception, and may be called twice (compared with a snapshot taken after one warm-up
  cycle, so that helpers a library keeps for the process's life do not count). The processes
  counted are all that carry the kit's marker (a token in the environment, as a cell's processes
  carry the cell's; or the kit's process group where it leads one), detached ones included, not
  only descendants; the kit kills what a backend left;
- ``describe()`` reports the settings the harness records (``threads``);
- every smoke workload the backend runs does the same work (env, agent and gradient steps, as the
  workers counted them) and ends with the same result digest as on ``sequential`` (the digests
  cover what the seeds and the worker order decide: observations, rewards, actions, weights).

A backend whose operations do not include an operation a check needs (``call_all``) skips that
check; a backend that cannot run here (a missing package, another interpreter) skips them all.

Every check carries the backend it checked as the ``backend`` property of its test report, so a
report (``--junitxml``) says per backend which checks passed, failed or were skipped and why: a
backend whose checks were all skipped is told apart from one that passed them.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from backends.base import Backend
from harness import registry

CHECKS = Path(__file__).with_name("checks.py")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        help="backend(s) the conformance kit checks: NAME, a,b, all, or module:Class (unregistered)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--backend") and config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args[:] = [str(CHECKS)]  # the kit's checks only, not the project's own tests


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend_name" in metafunc.fixturenames:
        names = selected_backends(metafunc.config.getoption("--backend") or "")
        metafunc.parametrize("backend_name", names, ids=names)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "backend_name" in callspec.params:
            item.user_properties.append(("backend", callspec.params["backend_name"]))


def selected_backends(option: str) -> list[str]:
    if not option:
        raise pytest.UsageError("the conformance kit needs --backend NAME (or a,b, all, module:Class)")
    if option == "all":
        return list(registry.BACKENDS)
    return [part.strip() for part in option.split(",") if part.strip()]


def backend_class(name: str) -> type[Backend]:
    """A registered backend, or ``module:Class`` for one that is not registered (yet)."""
    if ":" in name:
        module, _, attribute = name.partition(":")
        cls = getattr(importlib.import_module(module), attribute)
    elif name in registry.BACKENDS:
        cls = registry.BACKENDS[name]
    else:
        raise pytest.UsageError(
            f"--backend {name}: no such backend; choose from {', '.join(registry.BACKENDS)}"
        )
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise pytest.UsageError(f"--backend {name} is not a Backend subclass")
    return cls
