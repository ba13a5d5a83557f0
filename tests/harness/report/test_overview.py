"""The report's tables of every median: what results/README.md cites must come out of the CSVs."""

from __future__ import annotations

from harness.analysis.aggregate import CellSummary
from harness.analysis.stats import Summary
from harness.report import table_cell
from harness.report.overview import curve_end_tables, headline_table, median_tables, tables_section

HEADLINE = (("n_actors", "16"), ("object_bytes", "1024"), ("variant", "copy"))
OTHER = (("n_actors", "2"), ("object_bytes", "1024"), ("variant", "copy"))


def cell(
    backend: str, median: float, params=HEADLINE, metric="round_ms", workload="collectives"
) -> CellSummary:
    return CellSummary(workload, params, backend, metric, "ms", Summary(median, median, median, 2))


def test_headline_ratios_are_time_ratios_at_the_headline_points_only() -> None:
    summaries = [cell("reactor", 1.0), cell("ray", 4.0), cell("reactor", 3.0, OTHER), cell("ray", 5.0, OTHER)]
    table = headline_table(summaries)
    assert table is not None
    lines = [line for line in table.splitlines() if line.startswith("| collectives")]
    assert lines == ["| collectives n_actors=16 object_bytes=1024 variant=copy | round_ms | 0.25 |"]
    assert "reactor / ray" in table and "reactor / sequential" not in table  # pairs the run lacks


def test_a_rate_is_inverted_so_that_below_one_is_faster() -> None:
    params = (("env_id", "CartPole-v1"), ("n_envs", "15"), ("steps_per_round", "1"), ("variant", "plain"))
    rates = [
        CellSummary("gym", params, "reactor", "steps_per_s", "steps/s", Summary(400.0, 400.0, 400.0, 2)),
        CellSummary("gym", params, "ray", "steps_per_s", "steps/s", Summary(100.0, 100.0, 100.0, 2)),
    ]
    assert "| steps_per_s | 0.25 |" in (headline_table(rates) or "")


def test_every_metric_gets_a_table_with_p90_beside_and_no_curve_points() -> None:
    point = (("program", "chain"), ("size", "64"))
    summaries = [
        cell("reactor", 0.5, point, "us_per_reaction", "micro"),
        cell("reactor", 0.75, point, "us_per_reaction_p90", "micro"),
        cell("reactor", 9.0, (*point, ("round", "3")), "loss", "micro"),
    ]
    tables = median_tables(summaries)
    assert len(tables) == 1
    assert "| program=chain size=64 | 0.5 (0.75) |" in tables[0]
    assert "loss" not in tables[0]


def test_names_from_the_csv_are_escaped_and_points_sort_by_number() -> None:
    summaries = [cell("re|actor", 1.0, OTHER), cell("re|actor", 2.0, HEADLINE)]
    text = tables_section(summaries, table_cell) or ""
    assert "re\\|actor" in text and "re|actor" not in text.replace("re\\|actor", "")
    assert text.index("n_actors=2 ") < text.index("n_actors=16 ")
    assert tables_section([]) is None


def test_a_curve_is_tabled_at_its_last_point():
    point = (("env_id", "synthetic"), ("n_agents", "4"))
    summaries = [
        cell("ray", value, (*point, ("episode", str(episode))), "cumulative_s", "multi-agent")
        for episode, value in ((2, 1.0), (10, 5.0), (9, 4.5))
    ]
    (table,) = curve_end_tables(summaries)
    assert "| env_id=synthetic n_agents=4 | 5 (episode=10) |" in table
    assert median_tables(summaries) == []  # curve points are not a cell's summary
