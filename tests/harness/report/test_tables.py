"""The report's section tables as a reader meets them: per point, backends as rows fastest first,
plain numbers, ratios to a reference the user may choose, and the paper's number only beside points
run with the paper's setup."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.report.tables import plain
from tests.harness.report_tables import backends_in_order, section_table
from tests.harness.sample_rows import row, write_results

GYM = "### Gym sampling"


def _gym_rows(n_envs: int, rates: dict[str, float]) -> list[dict]:
    """Two repeats of a CartPole K = 1 cell per backend at ``rates`` steps/s (1% apart)."""
    return [
        row(
            workload="gym",
            suite="gym",
            backend=backend,
            repeat=r,
            metric="steps_per_s",
            unit="steps/s",
            value=rate * (1 + 0.01 * r),
            param_env_id="CartPole-v1",
            param_n_envs=n_envs,
            param_steps_per_round=1,
            param_variant="plain",
            param_n_actors="",
            param_object_bytes="",
            cell=f"gym[n_envs={n_envs}]@{backend}",
        )
        for backend, rate in rates.items()
        for r in range(2)
    ]


def _report(tmp_path: Path, rows: list[dict], *options: str) -> str:
    out = tmp_path / "R.md"
    assert main(["report", str(write_results(tmp_path / "run.csv", rows)), "--out", str(out), *options]) == 0
    return out.read_text()


RATES = {"ray": 800.0, "reactor": 21890.0, "sequential": 24490.0, "pykka": 6045.0}


def test_a_rate_lists_the_fastest_backend_first_in_plain_numbers(tmp_path: Path):
    text = _report(tmp_path, _gym_rows(15, RATES))
    _, header, rows = section_table(text, GYM)
    assert header == ["env_id", "backend", "median", "range (min-max)", "/ ray", "paper"]
    assert backends_in_order(rows, "CartPole-v1") == ["sequential", "reactor", "pykka", "ray"]
    reactor = rows[("CartPole-v1", "reactor")]
    assert reactor["median"] == "22,000" and reactor["range (min-max)"] == "[21,890, 22,110]"
    assert reactor["/ ray"] == "27.4" and rows[("CartPole-v1", "ray")]["/ ray"] == "1"
    assert "e+0" not in text.split(GYM)[1]  # no e-notation in the section
    # the run has the paper's 15 envs: its Ray beside ray, its Lingua Franca beside reactor
    assert rows[("CartPole-v1", "ray")]["paper"] == "3,276" and reactor["paper"] == "3,814"
    assert rows[("CartPole-v1", "pykka")]["paper"] == ""


def test_the_paper_column_is_blank_where_the_setup_is_not_the_papers(tmp_path: Path):
    text = _report(tmp_path, _gym_rows(2, RATES))
    note, _, rows = section_table(text, GYM)
    assert all(cells["paper"] == "" for cells in rows.values())
    assert "The paper used n_envs=15, this run n_envs=2: the paper column is blank" in note
    assert "### Gym sampling, 2 envs" in text  # the title states the run's own size


def test_the_reference_is_the_users_choice(tmp_path: Path):
    text = _report(tmp_path, _gym_rows(15, RATES), "--reference", "sequential")
    note, header, rows = section_table(text, GYM)
    assert "/ sequential" in header and "/ ray" not in header
    assert rows[("CartPole-v1", "sequential")]["/ sequential"] == "1"
    assert rows[("CartPole-v1", "ray")]["/ sequential"] == "0.0327"
    assert "`/ sequential`: the median over `sequential`'s at the same point, > 1 when faster" in note


def test_without_ray_the_ratios_are_to_sequential(tmp_path: Path):
    rates = {b: v for b, v in RATES.items() if b != "ray"}
    _, header, rows = section_table(_report(tmp_path, _gym_rows(15, rates)), GYM)
    assert header[4] == "/ sequential" and rows[("CartPole-v1", "reactor")]["/ sequential"] == "0.894"
    # the paper's Ray number stays, on a row that says ray was not measured
    assert rows[("CartPole-v1", "ray (not measured)")]["paper"] == "3,276"
    assert rows[("CartPole-v1", "ray (not measured)")]["median"] == ""


def test_an_unknown_reference_is_a_one_line_error(tmp_path: Path, capsys):
    csv = write_results(tmp_path / "run.csv", _gym_rows(15, RATES))
    out = tmp_path / "R.md"
    assert main(["report", str(csv), "--out", str(out), "--reference", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--reference: 'nope' is not in the CSVs" in err and not out.exists()


def test_the_headline_ratios_come_first(tmp_path: Path):
    text = _report(tmp_path, _gym_rows(15, RATES))
    assert text.index("### Headline points: time ratios") < text.index("## Machine and versions")
    assert text.index("### Headline points: time ratios") < text.index(GYM)


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(21890.0, 4, "21,890"), (21894.0, 4, "21,890"), (0.007564, 4, "0.007564"), (893.64, 4, "893.6"),
     (1.2345e-6, 4, "0.000001234"), (1.234e7, 4, "12,340,000"), (0.0, 4, "0"), (27.37, 3, "27.4")],
)  # fmt: skip
def test_plain_numbers_keep_four_significant_digits_without_e_notation(value, digits, text):
    assert plain(value, digits) == text
