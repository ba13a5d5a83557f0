"""The sampling figures (Gym and Atari): env steps/s per environment at K = 1 and at the batched K,
with the paper's numbers beside K = 1."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.axes import Axes

from harness.analysis.aggregate import CellSummary, with_sizes
from harness.analysis.paper import PAPER_LABELS
from workloads.base import Workload

from .common import PAPER_STYLE, Figure, backend_style, of_workload

PAPER_ENV_NAMES = {
    "Pong-v4": "ALE/Pong-v5",
    "MsPacman-v4": "ALE/MsPacman-v5",
    "SpaceInvaders-v4": "ALE/SpaceInvaders-v5",
}
"""The paper used Gym's v4 Atari ids; ours are ale-py's v5 (sticky actions): same games."""


def _label(s: CellSummary) -> str:
    variant = s.param("variant")
    return s.backend if variant in ("", "plain") else f"{s.backend} ({variant})"


def _rounds_shown(cells: list[CellSummary]) -> list[int]:
    """The K of each panel: 1 (the paper's setting) where measured, and the largest K measured."""
    measured = sorted({int(s.param("steps_per_round")) for s in cells})
    return sorted({k for k in (1, measured[-1]) if k in measured}) if measured else []


def _panels(workload: str) -> Callable[[list[CellSummary]], int]:
    def count(summaries: list[CellSummary]) -> int:
        return len(
            _rounds_shown([s for s in summaries if s.workload == workload and s.metric == "steps_per_s"])
        )

    return count


def _draw_sampling(workload: str, figure: str, title: str) -> Callable:
    def draw(axes: Axes | list[Axes], summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
        cells = [s for s in summaries if s.workload == workload and s.metric == "steps_per_s"]
        if not cells:
            return False
        env_ids = sorted({s.param("env_id") for s in cells})
        panels = axes if isinstance(axes, list) else [axes]
        for ax, k in zip(panels, _rounds_shown(cells), strict=True):
            chosen = [s for s in cells if int(s.param("steps_per_round")) == k]
            backends = sorted({_label(s) for s in chosen})
            width = 0.8 / (len(backends) + (2 if k == 1 else 0))
            for b_index, label in enumerate(backends):
                backend, _, variant = label.partition(" (")
                variant = variant.rstrip(")") or "plain"
                xs, ys, errs = [], [], []
                for e_index, env_id in enumerate(env_ids):
                    for s in chosen:
                        if (
                            s.backend == backend
                            and s.param("env_id") == env_id
                            and s.param("variant") == variant
                        ):
                            xs.append(e_index + b_index * width)
                            ys.append(s.summary.median)
                            errs.append([s.summary.median - s.summary.low, s.summary.high - s.summary.median])
                color = backend_style(backend)[0]
                hatch = "//" if variant != "plain" else None
                yerr = list(zip(*errs, strict=True)) if errs else None
                ax.bar(xs, ys, width, yerr=yerr, color=color, hatch=hatch, capsize=2, label=label)
            if k == 1:
                for p_index, (backend, color) in enumerate(PAPER_STYLE.items()):
                    xs, ys = [], []
                    for row in paper:
                        env_id = PAPER_ENV_NAMES.get(row["env_id"], row["env_id"])
                        if row["figure"] == figure and row["backend"] == backend and env_id in env_ids:
                            xs.append(env_ids.index(env_id) + (len(backends) + p_index) * width)
                            ys.append(float(row["value"]))
                    if xs:
                        ax.bar(xs, ys, width, color="white", edgecolor=color, hatch="..",
                               label=PAPER_LABELS[backend] + " (32-core AWS)")  # fmt: skip
            ax.set_xticks([i + 0.4 - width / 2 for i in range(len(env_ids))], env_ids, fontsize=8)
            shown = with_sizes(title, chosen)
            ax.set(yscale="log", ylabel="env steps / s (log)", title=f"{shown}, K = {k} step(s) per round")
        return True

    return draw


FIGURES = [
    Figure(
        "gym_sampling",
        _draw_sampling("gym", "gym_sampling", "Gym sampling, {n_envs} envs"),
        panels=_panels("gym"),
        workload="gym",
    ),
    Figure(
        "atari_sampling",
        _draw_sampling("atari", "atari_sampling", "Atari sampling, {n_envs} envs (ours: v5 ids)"),
        panels=_panels("atari"),
        workload="atari",
    ),
]


def figures(workload: Workload) -> list[Figure]:
    return of_workload(FIGURES, workload)
