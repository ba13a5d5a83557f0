"""The paper comparison report: per paper figure, our medians with 95% intervals beside the paper's.

Pure functions from per-cell summaries (``aggregate``), the paper's rows and the runs' metadata to
Markdown, so the report, the figures and the end-of-run table agree on what a number means.
Ratios to ``ray`` are ratios of medians measured in the same run(s); where a metric is a rate
(steps/s), the ratio is still "this backend / ray" of that rate, so > 1 means faster there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .aggregate import CellSummary
from .paper import agent_steps_per_s
from .paper import round_ms as paper_round_ms
from .results import METADATA_COLUMNS

METADATA_KEYS = tuple(METADATA_COLUMNS)
PAPER_NOTE = (
    "Paper: Kwok et al., SPAA 2024; Ray on a 32-core AWS machine, Lingua Franca (`lf`) on a no-GIL"
    " CPython 3.9 fork. Where its workload differs from ours the section says how."
)
PAPER_ATARI_IDS = {
    "ALE/Pong-v5": "Pong-v4",
    "ALE/MsPacman-v5": "MsPacman-v4",
    "ALE/SpaceInvaders-v5": "SpaceInvaders-v4",
}


@dataclass(frozen=True)
class Section:
    """One paper figure: which cells, which metric, what the rows are, and the paper's matching number."""

    title: str
    workload: str
    metric: str
    row_param: str
    fixed: dict[str, str]
    note: str
    paper: Callable[[list[dict[str, str]], str, str], str] | None = None
    """(paper rows, paper backend, row value) -> the paper's number for that row, in our metric's unit."""


def _paper_value(
    figure: str, column: str, convert: Callable[[float, str], float] = lambda v, _: v
) -> Callable:
    def lookup(paper: list[dict[str, str]], backend: str, row: str) -> str:
        for p in paper:
            if p["figure"] == figure and p["backend"] == backend and _same(p[column], row):
                return f"{convert(float(p['value']), row):.4g}"
        return ""

    return lookup


def _same(paper_value: str, ours: str) -> bool:
    if paper_value == ours or PAPER_ATARI_IDS.get(ours) == paper_value:
        return True
    try:
        return float(paper_value) == float(ours)
    except ValueError:
        return False


SECTIONS = [
    Section(
        "Broadcast & gather vs object size (16 workers, copy): round_ms",
        "collectives",
        "round_ms",
        "object_bytes",
        {"n_actors": "16", "variant": "copy"},
        'The paper\'s "300MB"/"500MB" points are 253/466 MiB (paper profile only).',
        _paper_value("bcast_gather_vs_size", "object_bytes"),
    ),
    Section(
        "Broadcast & gather vs workers (10 MiB, copy): round_ms",
        "collectives",
        "round_ms",
        "n_actors",
        {"object_bytes": "10485760", "variant": "copy"},
        "Same workload as the paper's (each worker copies the array and returns the copy).",
        _paper_value("bcast_gather_vs_actors", "n_actors"),
    ),
    Section(
        "Gym sampling, 15 envs, K = 1: steps_per_s",
        "gym",
        "steps_per_s",
        "env_id",
        {"steps_per_round": "1", "variant": "plain"},
        "Same env ids and structure as the paper.",
        _paper_value("gym_sampling", "env_id"),
    ),
    Section(
        "Atari sampling, 15 envs, K = 1: steps_per_s",
        "atari",
        "steps_per_s",
        "env_id",
        {"steps_per_round": "1", "variant": "plain"},
        "Ours are ale-py's v5 ids (sticky actions), the paper's Gym v4 ids; the paper's Ray reset with a"
        " seed on every step (see the README).",
        _paper_value("atari_sampling", "env_id"),
    ),
    Section(
        "Scaling agents (simple_spread): agent_steps_per_s",
        "multi-agent",
        "agent_steps_per_s",
        "n_agents",
        {"env_id": "simple_spread"},
        "The paper used TrafficJunction (ma-gym, not installable); its totals for 100,000 steps, start-up"
        " included, are converted to agent-steps/s.",
        _paper_value("multi_agent_scaling", "n_agents", agent_steps_per_s),
    ),
    Section(
        "Scaling agents (battle): agent_steps_per_s",
        "multi-agent",
        "agent_steps_per_s",
        "n_agents",
        {"env_id": "battle"},
        "MAgent2 battle_v4; not in the paper.",
    ),
    Section(
        "Scaling agents (synthetic control): agent_steps_per_s",
        "multi-agent",
        "agent_steps_per_s",
        "n_agents",
        {"env_id": "synthetic"},
        "Not in the paper.",
    ),
    Section(
        "Communication part of a step (simple_spread): comm_ms",
        "multi-agent",
        "comm_ms",
        "n_agents",
        {"env_id": "simple_spread"},
        "Step time beyond the environment plus the slowest agent's inference.",
    ),
    Section(
        "Synchronized parallel Q-learning (Blackjack-v1, 16 rollouts): round_ms",
        "training",
        "round_ms",
        "minibatch",
        {"env_id": "Blackjack-v1"},
        "The paper's time to 500 rounds (start-up included) is shown per round.",
        _paper_value("parallel_training", "minibatch", paper_round_ms),
    ),
    Section(
        "Synchronized parallel Q-learning (CartPole-v1, 16 rollouts): round_ms",
        "training",
        "round_ms",
        "minibatch",
        {"env_id": "CartPole-v1"},
        "Not in the paper.",
    ),
    Section(
        "Training that learns: wall time to a mean return of 475 (CartPole-v1, seed 0): time_to_return_s",
        "training-return",
        "time_to_return_s",
        "variant",
        {"env_id": "CartPole-v1", "seed": "0", "target": "475.0"},
        "Double DQN, 16 rollouts x 16 steps and 64 gradient steps per round; start-up excluded. Not in"
        " the paper. Within a variant every backend runs the same rounds (same weights digest).",
    ),
    Section(
        "Training that learns: time per round (CartPole-v1, seed 0, to 475): round_ms",
        "training-return",
        "round_ms",
        "variant",
        {"env_id": "CartPole-v1", "seed": "0", "target": "475.0"},
        "The framework's cost per round, free of how many rounds a variant needs.",
    ),
]


def _sort_key(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def section_table(section: Section, summaries: list[CellSummary], paper: list[dict[str, str]]) -> str | None:
    """A Markdown table for one section, or None when the summaries hold none of its cells."""
    cells = [
        s
        for s in summaries
        if s.workload == section.workload
        and s.metric == section.metric
        and all(s.param(k) == v for k, v in section.fixed.items())
        and not s.param("round")
        and not s.param("episode")
    ]
    if not cells:
        return None
    backends = sorted({s.backend for s in cells}, key=lambda b: (b != "ray", b))
    by_key = {(s.param(section.row_param), s.backend): s for s in cells}
    rows = sorted({s.param(section.row_param) for s in cells}, key=_sort_key)
    paper_backends = [b for b in ("ray", "lf") if section.paper is not None]
    header = [section.row_param, *(f"{b} median [95% CI]" for b in backends)]
    header += [f"{b} / ray" for b in backends if b != "ray" and "ray" in backends]
    header += [f"paper {b}" for b in paper_backends]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        ray = by_key.get((row, "ray"))
        cells_text = []
        for backend in backends:
            s = by_key.get((row, backend))
            cells_text.append(
                f"{s.summary.median:.4g} [{s.summary.low:.4g}, {s.summary.high:.4g}]" if s else ""
            )
        for backend in backends:
            if backend == "ray" or "ray" not in backends:
                continue
            s = by_key.get((row, backend))
            cells_text.append(f"{s.summary.median / ray.summary.median:.3g}" if s and ray else "")
        cells_text += [section.paper(paper, b, row) for b in paper_backends] if section.paper else []
        lines.append("| " + " | ".join([row, *cells_text]) + " |")
    unit = cells[0].unit
    return f"### {section.title} ({unit})\n\n{section.note}\n\n" + "\n".join(lines) + "\n"


def machine_table(rows: Iterable[dict[str, str]]) -> str:
    """Every distinct value of each metadata column over the runs (several mean mixed runs)."""
    seen: dict[str, Counter[str]] = {key: Counter() for key in METADATA_KEYS}
    for row in rows:
        for key in METADATA_KEYS:
            seen[key][row.get(key, "")] += 1
    lines = ["| | |", "|---|---|"]
    for key in METADATA_KEYS:
        values = ", ".join(v or "(blank)" for v, _ in seen[key].most_common())
        lines.append(f"| {key} | {values} |")
    return "\n".join(lines) + "\n"


def render_report(
    rows: list[dict[str, str]], summaries: list[CellSummary], paper: list[dict[str, str]]
) -> str:
    runs = sorted({(r["run_id"], r.get("profile", "")) for r in rows})
    statuses = Counter(r["status"] for r in rows if r["metric"] not in ("startup_s",))
    parts = [
        "# Measured vs paper\n",
        "Generated by `python -m harness report` from "
        + ", ".join(f"run {run} ({profile or 'unknown'} profile)" for run, profile in runs)
        + ". Medians over repeats with 95% bootstrap intervals;"
        " ratios are of medians from the same run(s).\n",
        f"Rows by status: {', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}.\n",
        PAPER_NOTE + "\n",
        "## Machine and versions\n",
        machine_table(rows),
        "## Figures\n",
    ]
    tables = [section_table(section, summaries, paper) for section in SECTIONS]
    parts += [t for t in tables if t]
    return "\n".join(parts)
