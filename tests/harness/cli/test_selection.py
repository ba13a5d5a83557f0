"""Selection below the suite: ``--workload`` and ``-k`` (pytest's expression semantics) on ``run`` and
``list``."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from harness import interpreters
from harness.cells.plan import build_plan
from harness.cells.selection import Selection, parse_expression
from harness.cli import main
from harness.errors import UsageError
from harness.results import read_rows

NAMES = ["gym", "env_id=CartPole-v1", "n_envs=15", "steps_per_round=100", "reactor-fed"]


@pytest.mark.parametrize(
    "expression, selected",
    [
        ("reactor", True),  # a substring of a name
        ("REACTOR", True),  # case-insensitive, as pytest's -k
        ("CartPole and reactor", True),
        ("CartPole and ray", False),
        ("ray or fed", True),
        ("not reactor", False),
        ("not ray", True),
        ("Blackjack or steps_per_round=100 and not fed", False),  # and binds tighter than or
        ("(Blackjack or steps_per_round=100) and not ray", True),
        ("not (gym and n_envs=2)", True),
        ("env_id=CartPole-v1 and n_envs=15", True),
        ("n_envs=1 and not n_envs=15", False),
    ],
)
def test_expressions_follow_pytests_semantics(expression, selected):
    assert parse_expression(expression)(NAMES) is selected


@pytest.mark.parametrize("expression", ["", "  ", "and", "a b", "(a", "a)", "not", "a and", "a or or b"])
def test_a_malformed_expression_is_a_usage_error(expression):
    with pytest.raises(UsageError, match=r"^-k "):
        parse_expression(expression)


def test_the_plan_keeps_the_selected_cells_in_rotation():
    everything = build_plan("all", "quick", None, None)
    chosen = build_plan("all", "quick", None, None, selection=Selection(("gym",), "Blackjack and not ray"))
    expected = [
        c
        for c in everything
        if c.workload == "gym" and "Blackjack" in c.params_json and "ray" not in c.backend
    ]
    assert chosen and {c.identity for c in chosen} == {c.identity for c in expected}
    # the kept backends still take turns: repeat 2 does not start with repeat 1's first backend
    first = [c.backend for c in chosen if c.repeat == 0]
    second = [c.backend for c in chosen if c.repeat == 1]
    assert sorted(first) == sorted(second) and first[0] != second[0]


def test_workload_takes_repeats_and_commas():
    chosen = build_plan("all", "smoke", None, None, selection=Selection(("gym", "micro")))
    assert {c.workload for c in chosen} == {"gym", "micro"}
    assert main(["list", "--workload", "gym,micro", "--workload", "gym", "--profile", "smoke"]) == 0


def test_list_shows_the_selected_cells_and_their_estimate(capsys):
    assert main(["list", "--suite", "gym", "--profile", "smoke", "-k", "CartPole and reactor"]) == 0
    lines = capsys.readouterr().out.splitlines()
    planned = build_plan("gym", "smoke", None, None, selection=Selection(None, "CartPole and reactor"))
    assert lines[0].startswith(f"{len(planned)} cells of suite gym (smoke profile), ~")
    assert "reference runs" in lines[0]
    assert lines[1:] == [f"  {cell.label()}" for cell in planned]
    assert all(" on reactor" in line for line in lines[1:])


@pytest.mark.slow
def test_run_with_a_selection_runs_only_those_cells(cli, tmp_path: Path):
    out = tmp_path / "gym.csv"
    # the free-threaded backends as on a machine without `make freethreaded`: their cells are
    # recorded unavailable, at once
    no_ft = {**os.environ, interpreters.FREE_THREADED_VARIABLE: str(tmp_path / "no-ft" / "python")}
    result = cli("run", "--suite", "gym", "--profile", "smoke", "--workload", "gym", "-k",
                 "CartPole and reactor", "--out", str(out), "--quiet", tag=uuid.uuid4().hex, env=no_ft,
                 timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    rows = read_rows(out)
    assert {r["backend"] for r in rows} == {"reactor", "reactor-fed", "reactor-ft"}
    assert {r["param_env_id"] for r in rows} == {"CartPole-v1"}
    assert {r["status"] for r in rows if r["backend"] != "reactor-ft"} == {"ok"}


@pytest.mark.slow
def test_a_selected_run_can_be_resumed_with_or_without_its_selection(cli, tmp_path: Path):
    """The file records no selection, so its header has the whole suite's columns: a resume without
    the selection runs the suite's other cells instead of refusing the file as another version's."""
    out = tmp_path / "training.csv"
    tag = uuid.uuid4().hex
    first = cli("run", "--suite", "training", "--profile", "smoke", "--backends", "sequential",
                "--workload", "training-return", "--out", str(out), "--quiet", tag=tag)  # fmt: skip
    assert first.returncode == 0, first.stderr[-2000:]
    assert {r["workload"] for r in read_rows(out)} == {"training-return"}
    resumed = cli("run", "--resume", str(out), "--quiet", tag=tag)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    rows = read_rows(out)
    assert {r["workload"] for r in rows} == {"training", "training-return"}
    assert len({r["run_id"] for r in rows}) == 1
