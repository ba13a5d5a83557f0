"""What the command line says about itself: its version, help texts in plain words, and the name the
user called it by."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import harness
from harness.cli import build_parser, program_name
from tests.conftest import ROOT, cli_environment

(SCRIPT,) = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
"""The console script pyproject.toml installs."""


def test_version_prints_the_harness_version(cli):
    result = cli("--version", timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"python -m harness {harness.__version__}\n"


def _parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {"": parser, **subparsers.choices}


def test_no_help_text_shows_rest_markup():
    helps = {command: parser.format_help() for command, parser in _parsers().items()}
    assert {"list", "run", "plot", "report", "check"} <= set(helps)
    assert [command for command, text in helps.items() if "``" in text] == []
    # the texts the markup came from are still there, in plain words
    assert "\nlist: suites with their cell counts" in helps["list"]


@pytest.mark.parametrize(
    "argv0, name",
    [
        (f"/home/u/venv/bin/{SCRIPT}", SCRIPT),
        ("/usr/lib/python3/site-packages/harness/__main__.py", "python -m harness"),
    ],
)
def test_the_program_is_named_as_it_was_called(argv0, name):
    assert program_name(argv0) == name


def test_the_console_script_names_itself_in_usage_and_errors():
    script = Path(sys.executable).with_name(SCRIPT)
    if not script.exists():
        pytest.skip(f"{SCRIPT} is not installed beside {sys.executable}")
    env = cli_environment()
    helped = subprocess.run([script, "run", "--help"], env=env, capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0 and helped.stdout.startswith(f"usage: {SCRIPT} run "), helped.stdout
    wrong = subprocess.run([script, "frobnicate"], env=env, capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and wrong.stderr.startswith(f"error: {SCRIPT}: "), wrong.stderr
    assert "python -m harness" not in helped.stdout + wrong.stderr
