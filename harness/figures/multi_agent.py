"""The multi-agent figures: agents scaling and communication overhead vs episodes.

The paper's multi-agent numbers come from TrafficJunction (ma-gym, not installable here) on a 32-core
machine and include Ray's start-up; ours are other environments. Each figure says so in its legend.
"""

from __future__ import annotations

from matplotlib.axes import Axes

from harness.analysis.aggregate import CellSummary
from harness.analysis.paper import PAPER_LABELS, agent_steps_per_s
from workloads.base import Workload

from .common import PAPER_STYLE, Figure, backend_style, of_workload, plot_measured, plot_paper_converted
from .common import series as _series

COMM_AGENTS = ("4", "10")
COMM_ENV = "simple_spread"


def _paper_rows(paper: list[dict[str, str]], figure: str) -> list[dict[str, str]]:
    return [row for row in paper if row["figure"] == figure]


def _draw_agents(axes: list[Axes], summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
    cells = [s for s in summaries if s.workload == "multi-agent" and s.metric == "agent_steps_per_s"]
    if not cells:
        return False
    for ax, env in zip(axes, ("simple_spread", "battle", "synthetic"), strict=True):
        series = _series(summaries, "multi-agent", "agent_steps_per_s", "n_agents", env_id=env)
        if not series:
            ax.set_visible(False)
            continue
        plot_measured(ax, series)
        if env == "simple_spread":
            plot_paper_converted(
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
        plot_measured(ax, total)
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


FIGURES = [
    Figure("multi_agent_scaling", _draw_agents, panels=3, workload="multi-agent"),
    Figure("comm_overhead_vs_episodes", _draw_comm, panels=3, workload="multi-agent"),
]


def figures(workload: Workload) -> list[Figure]:
    return of_workload(FIGURES, workload)
