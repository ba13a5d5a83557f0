"""The paper's own numbers (Kwok et al., SPAA 2024), shipped in results/paper/paper_results.csv.

Its ``lf`` backend is Lingua Franca's C++ runtime with Python reactors on a no-GIL CPython 3.9 fork;
its ``ray`` runs were on a 32-core AWS machine. Plots label them as such.
"""

from __future__ import annotations

import csv
from pathlib import Path

PAPER_CSV = Path(__file__).resolve().parents[2] / "results" / "paper" / "paper_results.csv"
PAPER_NAMES = {"ray": "Ray", "lf": "Lingua Franca"}
PAPER_LABELS = {backend: f"paper: {name}" for backend, name in PAPER_NAMES.items()}


def load_paper(path: Path = PAPER_CSV) -> list[dict[str, str]]:
    """Rows of the paper's numbers; an empty list if the file is absent (plots then omit them)."""
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


PAPER_MULTI_AGENT_STEPS = 100_000
"""The paper's multi-agent runs took 100,000 steps; their totals convert to agent-steps/s with it."""
PAPER_TRAINING_ROUNDS = 500


def agent_steps_per_s(total_s: float, n_agents: str) -> float:
    """The paper's multi-agent total (start-up included) as our metric."""
    return float(n_agents) * PAPER_MULTI_AGENT_STEPS / total_s


def round_ms(time_to_500_rounds_s: float, _: str = "") -> float:
    """The paper's time to 500 training rounds (start-up included) per round, as our metric."""
    return time_to_500_rounds_s / PAPER_TRAINING_ROUNDS * 1e3


def paper_series(
    rows: list[dict[str, str]], figure: str, x_column: str
) -> dict[str, list[tuple[float, float]]]:
    """{paper backend: [(x, value), ...]} for one figure, sorted by x."""
    series: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        if row["figure"] == figure and row[x_column]:
            series.setdefault(row["backend"], []).append((float(row[x_column]), float(row["value"])))
    return {backend: sorted(points) for backend, points in series.items()}
