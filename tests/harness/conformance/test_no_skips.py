"""``-p tests.no_skips`` (what ``make test-freethreaded`` runs with): a skip fails the run, and so does
a free-threaded run whose GIL came back on; without it the same tests skip and pass."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness import interpreters
from tests.conftest import ROOT

FT_PYTHON = interpreters.free_threaded_python()

SKIPPING = textwrap.dedent(
    """
    import pytest

    def test_passes():
        pass

    @pytest.mark.skipif(True, reason="marked away")
    def test_marked():
        pass

    def test_skips_itself():
        pytest.skip("not here")

    @pytest.mark.xfail(reason="a known failure")
    def test_known_failure():
        assert False
    """
)


def _pytest(tmp_path: Path, *args: str, python: str = sys.executable, **env: str):
    """pytest on the files in ``tmp_path`` (its own folder: none of the project's settings)."""
    return subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(tmp_path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_skip_fails_the_run_and_an_expected_failure_does_not(tmp_path: Path):
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    allowed = _pytest(tmp_path)
    assert allowed.returncode == 0 and "1 passed, 2 skipped, 1 xfailed" in allowed.stdout, allowed.stdout
    forbidden = _pytest(tmp_path, "-p", "tests.no_skips")
    assert forbidden.returncode == 1, forbidden.stdout
    assert "1 failed, 1 passed, 1 xfailed, 1 error" in forbidden.stdout, forbidden.stdout
    failures = [line for line in forbidden.stdout.splitlines() if line.startswith("skipped in a run")]
    assert [line.split("Skipped: ")[-1] for line in failures] == ["marked away')", "not here')"], failures


def test_a_module_that_skips_itself_at_import_fails_the_run(tmp_path: Path):
    (tmp_path / "test_plain.py").write_text("def test_passes():\n    pass\n")
    (tmp_path / "test_needs_a_module.py").write_text(
        'import pytest\npytest.importorskip("no_module_of_this_name")\n\ndef test_x():\n    pass\n'
    )
    assert _pytest(tmp_path).returncode == 0
    forbidden = _pytest(tmp_path, "-p", "tests.no_skips")
    assert forbidden.returncode != 0 and "skipped in a run that forbids skips" in forbidden.stdout


@pytest.mark.skipif(not FT_PYTHON.exists(), reason="free-threaded interpreter not built (make freethreaded)")
def test_a_free_threaded_run_whose_gil_is_on_fails(tmp_path: Path):
    (tmp_path / "test_plain.py").write_text("def test_passes():\n    pass\n")
    without_gil = _pytest(tmp_path, "-p", "tests.no_skips", python=str(FT_PYTHON))
    assert without_gil.returncode == 0, without_gil.stdout + without_gil.stderr
    with_gil = _pytest(tmp_path, "-p", "tests.no_skips", python=str(FT_PYTHON), PYTHON_GIL="1")
    assert with_gil.returncode == 1 and "the GIL was turned back on" in with_gil.stderr, with_gil.stderr
