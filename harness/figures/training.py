"""The training figures: synchronized parallel Q-learning (``training``), and training that learns
(``training-return``): return vs env steps, return vs wall time, and time to the target return.

``parallel_training.png`` from the ``training`` cells: time per round against the minibatch size,
with the paper's numbers, and a learning curve where one was recorded.

``training_time_to_return.png`` from the ``training-return`` cells of one seed and target: left, the
learning curve against env steps, one per variant, drawn once when every backend that ran the variant
ended with the same weights digest (the curve is then the same on all of them; otherwise each backend's
is drawn and the legend says they differ); middle, the same curves against each backend's wall time
(median over repeats at each recorded round); right, ``time_to_return_s`` per backend and variant with
its interval (named as the caption names it: a 95% bootstrap interval, or the range (min-max) of
fewer repeats).
"""

from __future__ import annotations

from matplotlib.axes import Axes

from harness.analysis.aggregate import CellSummary, with_sizes
from harness.analysis.paper import round_ms as paper_round_ms
from harness.analysis.stats import intervals_label
from workloads.base import Workload

from .. import registry
from .common import Figure, backend_style, of_workload, plot_measured, plot_paper_converted
from .common import series as _series

WORKLOAD = "training-return"
VARIANT_STYLE = {"sync": "-", "pipelined": "--"}
VARIANT_HATCH = {"sync": None, "pipelined": "//"}


def _draw_training(axes: list[Axes], summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
    series = _series(summaries, "training", "round_ms", "minibatch", env_id="Blackjack-v1")
    if not series:
        return False
    ax = axes[0]
    plot_measured(ax, series)
    plot_paper_converted(
        ax, paper, "parallel_training", "minibatch", paper_round_ms, "(32-core AWS, incl. start-up)"
    )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="minibatch size",
        ylabel="time per round (ms, log)",
        title=with_sizes(
            "Synchronized parallel Q-learning, Blackjack-v1, {workers} rollouts",
            (s for points in series.values() for _, s in points),
        ),
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


def _chosen(summaries: list[CellSummary]) -> tuple[str, str] | None:
    """(seed, target) drawn: the lowest seed at the highest target with a measured time to return."""
    points = {
        (s.param("seed"), s.param("target"))
        for s in summaries
        if s.workload == WORKLOAD and s.metric == "time_to_return_s"
    }
    if not points:
        return None
    highest = max(float(target) for _, target in points)
    return min((p for p in points if float(p[1]) == highest), key=lambda p: int(p[0] or 0))


def _curves(
    summaries: list[CellSummary], metric: str, x: str, seed: str, target: str
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """(variant, backend) -> sorted (x, median) points of a per-round metric (``x``: a series param)."""
    curves: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for s in summaries:
        if s.workload != WORKLOAD or s.metric != metric or not s.param("round"):
            continue
        if s.param("seed") != seed or s.param("target") != target:
            continue
        curves.setdefault((s.param("variant"), s.backend), []).append((float(s.param(x)), s.summary.median))
    return {key: sorted(points) for key, points in curves.items()}


def _same_weights(summaries: list[CellSummary], variant: str, seed: str, target: str) -> list[str] | None:
    """The backends of a variant if all ended with one weights digest, else None."""
    cells = [
        s
        for s in summaries
        if s.workload == WORKLOAD
        and s.metric == "time_to_return_s"
        and (s.param("variant"), s.param("seed"), s.param("target")) == (variant, seed, target)
    ]
    digests = set().union(*(s.digests for s in cells)) if cells else set()
    return sorted(s.backend for s in cells) if len(digests) == 1 else None


def _draw(axes: list[Axes], summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
    chosen = _chosen(summaries)
    if chosen is None:
        return False
    seed, target = chosen
    returns = _curves(summaries, "episode_return", "env_steps", seed, target)
    variants = [v for v in VARIANT_STYLE if any(key[0] == v for key in returns)]
    ax = axes[0]
    for variant in variants:
        backends = _same_weights(summaries, variant, seed, target)
        drawn = sorted(b for v, b in returns if v == variant)
        if backends:
            reference = "sequential" if "sequential" in drawn else drawn[0]
            points = returns[(variant, reference)]
            label = f"{variant}: identical on {len(backends)} backends (same weights digest)"
            ax.plot(*zip(*points, strict=True), VARIANT_STYLE[variant], color="black", label=label)
            continue
        for backend in drawn:
            color = backend_style(backend)[0]
            ax.plot(*zip(*returns[(variant, backend)], strict=True), VARIANT_STYLE[variant], color=color,
                    label=f"{variant} {backend} (weights differ between backends)")  # fmt: skip
    ax.axhline(float(target), color="gray", linestyle=":", label=f"target {float(target):g}")
    workers = next((s.param("workers") for s in summaries if s.workload == WORKLOAD), "?")
    ax.set(xlabel="env steps", ylabel="mean return of the last 20 episodes",
           title=f"CartPole-v1 learning curve (seed {seed}), Double DQN, {workers} rollouts")  # fmt: skip

    elapsed = _curves(summaries, "elapsed_s", "round", seed, target)
    by_round = _curves(summaries, "episode_return", "round", seed, target)
    ax = axes[1]
    for (variant, backend), points in sorted(elapsed.items()):
        returns_at = dict(by_round.get((variant, backend), []))
        xy = [(wall, returns_at[round_]) for round_, wall in points if round_ in returns_at]
        if xy:
            color = backend_style(backend)[0]
            ax.plot(*zip(*xy, strict=True), VARIANT_STYLE.get(variant, "-"), color=color,
                    label=f"{backend} {variant}")  # fmt: skip
    ax.axhline(float(target), color="gray", linestyle=":")
    ax.set(xlabel="wall time of the measured rounds (s, start-up excluded)",
           ylabel="mean return of the last 20 episodes", title="Return vs wall time")  # fmt: skip

    ax = axes[2]
    bars = [
        s
        for s in summaries
        if s.workload == WORKLOAD
        and s.metric == "time_to_return_s"
        and (s.param("seed"), s.param("target")) == (seed, target)
    ]
    order = list(registry.BACKENDS)  # the project's own backends first, then the plugins'
    backends = sorted({s.backend for s in bars}, key=lambda b: (order.index(b) if b in order else 99, b))
    width = 0.8 / max(1, len(variants))
    for v_index, variant in enumerate(variants):
        xs, ys, errs, colors = [], [], [], []
        for b_index, backend in enumerate(backends):
            for s in bars:
                if s.backend == backend and s.param("variant") == variant:
                    xs.append(b_index + v_index * width)
                    ys.append(s.summary.median)
                    errs.append([s.summary.median - s.summary.low, s.summary.high - s.summary.median])
                    colors.append(backend_style(backend)[0])
        if xs:
            ax.bar(xs, ys, width, yerr=list(zip(*errs, strict=True)), color=colors, capsize=3,
                   hatch=VARIANT_HATCH[variant], edgecolor="black")  # fmt: skip
            ax.bar([0], [0], 0, color="white", edgecolor="black", hatch=VARIANT_HATCH[variant], label=variant)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(backends))], backends, rotation=30, fontsize=8)
    ax.set(ylabel=f"time to return (s; median, {intervals_label(s.summary.n for s in bars)})",
           title=f"Wall time to a mean return of {float(target):g} (hatched: pipelined)")  # fmt: skip
    return True


FIGURES = [
    Figure("parallel_training", _draw_training, panels=2, workload="training"),
    Figure("training_time_to_return", _draw, panels=3, workload=WORKLOAD),
]


def figures(workload: Workload) -> list[Figure]:
    return of_workload(FIGURES, workload)
