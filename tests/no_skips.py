"""A pytest plugin (``-p tests.no_skips``) for runs that exist to run what they name: every skip is
a failure, and a free-threaded interpreter must end the session with the GIL still off.

``make test-freethreaded`` loads it. Its tests skip themselves where the 3.13t build is missing, which
is right in a plain ``make test`` on a machine without it; but a run asked for them that skipped them
would report success for determinism without the GIL that nobody checked. CPython 3.13t also turns
the GIL back on, with only a warning, when an extension that does not declare free-threading support
is imported: the reactor's tests would then pass with the GIL, so that is a failure here as well.
"""

from __future__ import annotations

import sys
import sysconfig

import pytest


def _forbid(report: pytest.CollectReport | pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in a run that forbids skips (tests.no_skips): {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    _forbid(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> object:
    outcome = yield
    _forbid(outcome.get_result())


def gil_turned_back_on() -> bool:
    """True on a free-threaded build whose GIL is on now (a build with the GIL never counts)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED")) and sys._is_gil_enabled()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if gil_turned_back_on():
        print("\nno_skips: the GIL was turned back on during this free-threaded run", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
