"""reactor-ft / xronos-ft: cells under another interpreter, refused honestly where it is missing or wrong.

The last test needs the 3.13t build (`make freethreaded`); it is skipped where the build is absent and
is part of `make test-freethreaded`.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import interpreters
from harness.results import read_rows
from tests.conftest import ROOT, run_cli
from tests.harness.build_tools import TOOLS, load_tool

FT_PYTHON = interpreters.free_threaded_python()
build_freethreaded = load_tool("build_freethreaded")


def _env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop(interpreters.FREE_THREADED_VARIABLE, None)
    env.update(overrides)
    return env


def _micro_run(tmp_path: Path, env: dict[str, str], backends: str = "reactor-ft,reactor") -> list[dict]:
    out = tmp_path / "ft.csv"
    result = run_cli("run", "--suite", "micro", "--profile", "smoke", "--backends", backends,
                     "--repeats", "1", "--out", str(out), "--quiet", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return read_rows(out)


def test_without_the_build_the_ft_backends_are_unavailable_with_the_way_to_build_it(tmp_path: Path):
    env = _env(**{interpreters.FREE_THREADED_VARIABLE: str(tmp_path / "missing" / "python")})
    listing = run_cli("list", env=env)
    lines = listing.stdout.splitlines()
    (ft_line,) = [n for n, line in enumerate(lines) if line.split()[:2] == ["reactor-ft", "unavailable"]]
    assert (
        "why: the free-threaded interpreter" in lines[ft_line + 1]
        and "make freethreaded" in lines[ft_line + 1]
    )
    rows = _micro_run(tmp_path, env)
    ft = [r for r in rows if r["backend"] == "reactor-ft"]
    assert ft and {r["status"] for r in ft} == {"unavailable"}
    assert all("make freethreaded" in r["error"] for r in ft)
    assert {r["status"] for r in rows if r["backend"] == "reactor"} == {"ok"}


@pytest.mark.slow
def test_an_interpreter_with_the_gil_is_refused_inside_the_cell(tmp_path: Path):
    """The check runs in the cell's own process, under the interpreter the runner started."""
    rows = _micro_run(tmp_path, _env(**{interpreters.FREE_THREADED_VARIABLE: sys.executable}))
    ft = [r for r in rows if r["backend"] == "reactor-ft"]
    assert ft and {r["status"] for r in ft} == {"unavailable"}
    assert all("needs a free-threaded interpreter" in r["error"] for r in ft)
    assert {r["gil_enabled"] for r in ft} == {"true"}


def test_build_refuses_in_one_line_without_apt(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(build_freethreaded.Refused, match="`apt-get` not found"):
        build_freethreaded.check_prerequisites()


def test_dearmor_reads_every_key_block_and_ignores_headers_and_checksums():
    first, second = b"\x99\x01\x0dkey-one", b"\x99\x01\x0dkey-two"

    def block(payload: bytes) -> str:
        body = base64.b64encode(payload).decode()
        return (
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: a header\n\n"
            f"{body[:8]}\n{body[8:]}\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n"
        )

    assert build_freethreaded.dearmor(block(first) + "text between\n" + block(second)) == first + second
    with pytest.raises(ValueError):
        build_freethreaded.dearmor("no key here")


def test_the_ft_requirements_leave_out_what_has_no_free_threaded_wheel():
    names = " ".join(build_freethreaded.freethreaded_requirements())
    assert "numpy" in names and "<2.5" in names and "xronos" in names
    assert not any(pkg in names for pkg in ("ray", "ale-py", "pygame", "magent2"))


def test_the_makefile_builds_the_venv_where_the_harness_looks_for_it():
    """Two owners of one path would drift: the Makefile names it once and hands it to the build tool,
    the harness names it once for the runner; they must be the same place."""
    makefile = (ROOT / "Makefile").read_text()
    (ft_venv,) = re.findall(r"^FT_VENV := (\S+)$", makefile, re.M)
    assert ROOT / ft_venv == interpreters.FREE_THREADED_VENV
    recipe = makefile.split("\nfreethreaded:\n", 1)[1].splitlines()[0]
    assert recipe.strip() == "$(PYTHON) harness/tools/build_freethreaded.py --venv $(FT_VENV)"


def test_the_build_tool_takes_the_venv_as_an_argument(tmp_path: Path):
    assert build_freethreaded.parse_args(["--venv", ".venv-ft"]) == build_freethreaded.ROOT / ".venv-ft"
    assert build_freethreaded.parse_args(["--venv", str(tmp_path / "ft")]) == tmp_path / "ft"
    assert build_freethreaded.ROOT == ROOT  # the project whose pyproject.toml goes into the venv
    # run as make runs it: without --venv it builds nothing and says why, exit 2
    done = subprocess.run([sys.executable, str(TOOLS / "build_freethreaded.py")], capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert "the following arguments are required: --venv" in done.stderr


def test_the_bootstrap_tool_wants_one_venv_folder():
    done = subprocess.run([sys.executable, str(TOOLS / "bootstrap.py")], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert (done.returncode, done.stderr) == (2, "usage: bootstrap.py VENV_DIR\n")


@pytest.mark.slow
@pytest.mark.skipif(not FT_PYTHON.exists(), reason="free-threaded interpreter not built (make freethreaded)")
def test_ft_cells_run_on_313t_without_the_gil_and_agree_with_the_gil_build(tmp_path: Path):
    out = tmp_path / "smoke.csv"
    backends = "reactor,reactor-ft,xronos-ft"
    result = run_cli("run", "--suite", "smoke", "--backends", backends, "--out", str(out), "--quiet",
                     env=_env())  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    rows = read_rows(out)
    for row in rows:
        if row["backend"] == "reactor":
            assert row["status"] == "ok" and row["gil_enabled"] == "true"
        elif row["workload"] in ("atari", "multi-agent"):  # ale-py, pygame-ce: no free-threaded wheels
            assert row["status"] == "unavailable" and "No module named" in row["error"], row
        else:
            assert row["status"] == "ok", row
            assert row["python_version"].startswith("3.13") and row["gil_enabled"] == "false"
    for workload in ("gym", "training"):
        digests = {r["backend"]: r["result_digest"] for r in rows if r["workload"] == workload}
        assert len(digests) == 3 and len(set(digests.values())) == 1 and "" not in digests.values()
