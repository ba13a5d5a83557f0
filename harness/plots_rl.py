"""The paper's last three figures: agents scaling, communication overhead vs episodes, parallel training.

The paper's multi-agent numbers come from TrafficJunction (ma-gym, not installable here) on a 32-core
machine and include Ray's start-up; ours are other environments. Each figure says so in its legend.
"""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.axes import Axes

from .aggregate import CellSummary
from .paper import PAPER_LABELS, agent_steps_per_s
from .paper import round_ms as paper_round_ms
from .plots import PAPER_STYLE, Figure, _plot_measured, _series, backend_style

COMM_AGENTS = ("4", "10")
COMM_ENV = "simple_spread"


def _paper_rows(paper: list[dict[str, str]], figure: str) -> list[dict[str, str]]:
    return [row for row in paper if row["figure"] == figure]


def _plot_paper_converted(
    ax: Axes,
    paper: list[dict[str, str]],
    figure: str,
    x_column: str,
    convert: Callable[[float, str], float],
    suffix: str,
) -> None:
    """The paper's curve of one figure, its values converted to our metric (``convert(value, x)``)."""
    for backend, color in PAPER_STYLE.items():
        points = sorted(
            (float(r[x_column]), convert(float(r["value"]), r[x_column]))
            for r in _paper_rows(paper, figure)
            if r["backend"] == backend
        )
        if points:
            ax.plot(*zip(*points, strict=True), "x--", color=color, alpha=0.7,
                    label=f"{PAPER_LABELS[backend]} {suffix}")  # fmt: skip


def _draw_agents(axes: list[Axes], summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
    cells = [s for s in summaries if s.workload == "multi-agent" and s.metric == "agent_steps_per_s"]
    if not cells:
        return False
    for ax, env in zip(axes, ("simple_spread", "battle", "synthetic"), strict=True):
        series = _series(summaries, "multi-agent", "agent_steps_per_s", "n_agents", env_id=env)
        if not series:
            ax.set_visible(False)
            continue
        _plot_measured(ax, series)
        if env == "simple_spread":
            _plot_paper_converted(
                ax,
                paper,
                "multi_agent_scaling",
                "n_agents",
                agent_steps_per_s,
                "(TrafficJunction, 32-core AWS)",
            )
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="agents (one policy worker each)",
            ylabel="agent-steps / s (log)",
            title=f"Scaling agents: {env}",
        )
    return True


def _draw_comm(axes: list[Axes], summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
    drawn = False
    for ax, agents in zip(axes[:2], COMM_AGENTS, strict=True):
        total = _series(summaries, "multi-agent", "cumulative_s", "episode", env_id=COMM_ENV, n_agents=agents)
        comm = _series(
            summaries, "multi-agent", "cumulative_comm_s", "episode", env_id=COMM_ENV, n_agents=agents
        )
        if not total:
            continue
        drawn = True
        _plot_measured(ax, total)
        for backend, points in sorted(comm.items()):
            color = backend_style(backend)[0]
            ax.plot([x for x, _ in points], [s.summary.median for _, s in points], ":", color=color,
                    label=f"{backend}: communication part")  # fmt: skip
        ax.set(
            xlabel="episodes (25 steps each)",
            ylabel="cumulative time (s)",
            title=f"Cumulative time, {COMM_ENV}, {agents} agents",
        )
    ax = axes[2]
    for row_backend, color in PAPER_STYLE.items():
        for agents, style in (("4", "x--"), ("10", "o--")):
            points = sorted(
                (int(r["steps"]), float(r["value"]))
                for r in _paper_rows(paper, "comm_overhead_vs_episodes")
                if r["backend"] == row_backend and r["n_agents"] == agents
            )
            if points:
                ax.plot(*zip(*points, strict=True), style, color=color,
                        label=f"{PAPER_LABELS[row_backend]}, {agents} agents")  # fmt: skip
    ax.set(xlabel="steps", ylabel="cumulative time (s)", title="Paper: TrafficJunction, 32-core AWS")
    return drawn


def _draw_training(axes: list[Axes], summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
    series = _series(summaries, "training", "round_ms", "minibatch", env_id="Blackjack-v1")
    if not series:
        return False
    ax = axes[0]
    _plot_measured(ax, series)
    _plot_paper_converted(
        ax, paper, "parallel_training", "minibatch", paper_round_ms, "(32-core AWS, incl. start-up)"
    )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="minibatch size",
        ylabel="time per round (ms, log)",
        title="Synchronized parallel Q-learning, Blackjack-v1, 16 rollouts",
    )
    curve = _series(summaries, "training", "episode_return", "round", env_id="CartPole-v1", minibatch="500")
    ax = axes[1]
    if not curve:  # quick runs no CartPole here: training_time_to_return.png has the curve that learns
        ax.set_visible(False)
    for backend, points in sorted(curve.items()):
        color, marker = backend_style(backend)
        ax.plot([x for x, _ in points], [s.summary.median for _, s in points], color=color,
                marker=marker, markersize=3, label=backend)  # fmt: skip
    ax.set(xlabel="round", ylabel="mean episode return", title="Learning curve, CartPole-v1 (same on all)")
    return True


FIGURES = [
    Figure("multi_agent_scaling", _draw_agents, panels=3, workload="multi-agent"),
    Figure("comm_overhead_vs_episodes", _draw_comm, panels=3, workload="multi-agent"),
    Figure("parallel_training", _draw_training, panels=2, workload="training"),
]
