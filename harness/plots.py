"""One PNG per paper figure: measured backends with 95% intervals, and the paper's numbers beside them.

Each figure is a small function over per-cell summaries (``aggregate``) and the paper's rows; a figure
whose data is absent from the given CSVs is not drawn.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from workloads import micro

from .aggregate import CellSummary
from .paper import PAPER_LABELS, paper_series
from .stats import CONFIDENCE_INTERVAL, MIN_SAMPLES_FOR_CI, RANGE, interval_name

BACKEND_STYLE = {
    "sequential": ("tab:gray", "s"),
    "ray": ("tab:blue", "o"),
    "ray-compiled": ("tab:cyan", "v"),
    "reactor": ("tab:red", "D"),
    "xronos": ("tab:green", "^"),
    "reactor-ft": ("tab:pink", "d"),
    "xronos-ft": ("lime", "<"),
    "gym-sync-vector": ("tab:olive", "P"),
    "gym-async-vector": ("tab:brown", "X"),
    "ale-vector": ("tab:purple", "*"),
    "reactor-fed": ("darkred", "H"),
    "pykka": ("darkorange", "h"),
    "dask": ("navy", "p"),
}
PAPER_STYLE = {"ray": "tab:blue", "lf": "tab:red"}
OTHER_COLORS = ("teal", "goldenrod", "crimson", "slateblue", "saddlebrown", "darkkhaki", "orchid", "dimgray")
OTHER_MARKERS = ("x", "+", "1", "2", "3", "4")


def backend_style(backend: str) -> tuple[str, str]:
    """(color, marker) of a backend: its own, or for a plugin's backend one that stays the same from
    figure to figure and run to run (picked from its name, not from the order it appears in)."""
    if backend in BACKEND_STYLE:
        return BACKEND_STYLE[backend]
    digest = zlib.crc32(backend.encode())
    return OTHER_COLORS[digest % len(OTHER_COLORS)], OTHER_MARKERS[
        digest // len(OTHER_COLORS) % len(OTHER_MARKERS)
    ]


@dataclass(frozen=True)
class Figure:
    name: str
    draw: Callable[[Axes, list[CellSummary], list[dict[str, str]]], bool]
    """Draws on the axes; returns False when there is no measured data for it."""
    panels: int = 1
    workload: str = ""
    """The workload whose cells it draws: its caption says what their error bars are."""


def _series(
    summaries: list[CellSummary], workload: str, metric: str, x_param: str, **fixed: str
) -> dict[str, list[tuple[float, CellSummary]]]:
    series: dict[str, list[tuple[float, CellSummary]]] = {}
    for s in summaries:
        if s.workload != workload or s.metric != metric:
            continue
        if any(s.param(k) != v for k, v in fixed.items()):
            continue
        series.setdefault(s.backend, []).append((float(s.param(x_param)), s))
    return {b: sorted(points, key=lambda p: p[0]) for b, points in series.items()}


def _plot_measured(ax: Axes, series: dict[str, list[tuple[float, CellSummary]]], scale: float = 1.0) -> None:
    for backend, points in sorted(series.items()):
        color, marker = backend_style(backend)
        xs = [x for x, _ in points]
        ys = [s.summary.median * scale for _, s in points]
        low = [(s.summary.median - s.summary.low) * scale for _, s in points]
        high = [(s.summary.high - s.summary.median) * scale for _, s in points]
        ax.errorbar(
            xs, ys, yerr=[low, high], color=color, marker=marker, capsize=3, label=f"{backend} (measured)"
        )


def _plot_paper(ax: Axes, paper: list[dict[str, str]], figure: str, x_column: str) -> None:
    for backend, points in paper_series(paper, figure, x_column).items():
        ax.plot(
            [x for x, _ in points],
            [y for _, y in points],
            linestyle="--",
            marker="x",
            color=PAPER_STYLE.get(backend, "black"),
            alpha=0.7,
            label=PAPER_LABELS.get(backend, backend) + " (32-core AWS)",
        )


def _draw_collectives(figure: str, x_param: str, axis: dict[str, str], **fixed: str) -> Callable:
    """A round-time-vs-parameter figure of the collectives workload, with the paper's curve."""

    def draw(ax: Axes, summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
        series = _series(summaries, "collectives", "round_ms", x_param, **fixed)
        if not series:
            return False
        _plot_measured(ax, series)
        _plot_paper(ax, paper, figure, x_param)
        ax.set(yscale="log", ylabel="broadcast + gather round (ms)", **axis)
        return True

    return draw


_draw_vs_size = _draw_collectives(
    "bcast_gather_vs_size",
    "object_bytes",
    {
        "xscale": "log",
        "xlabel": "object size (bytes)",
        "title": "Broadcast & gather vs object size (16 workers, copy)",
    },
    n_actors="16",
    variant="copy",
)
_draw_vs_actors = _draw_collectives(
    "bcast_gather_vs_actors",
    "n_actors",
    {
        "xlabel": "number of workers (actors / reactors)",
        "title": "Broadcast & gather vs workers (10 MiB, copy)",
    },
    object_bytes="10485760",
    variant="copy",
)


def _draw_micro(ax: Axes, summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
    bars = [s for s in summaries if s.workload == "micro" and s.metric in micro.MEDIAN_METRICS]
    if not bars:
        return False
    bars.sort(key=lambda s: (s.param("program"), int(s.param("size") or 0), s.param("workers"), s.backend))
    labels, values, errors, colors = [], [], [], []
    for s in bars:
        per_reaction = s.metric == micro.PER_REACTION[0]
        scale = 1.0 if per_reaction else 1000.0
        unit = "us/reaction" if per_reaction else "us/round"
        labels.append(
            f"{s.param('program')} N={s.param('size')} W={s.param('workers')}\n{s.backend} ({unit})"
        )
        values.append(s.summary.median * scale)
        errors.append(
            [(s.summary.median - s.summary.low) * scale, (s.summary.high - s.summary.median) * scale]
        )
        colors.append(backend_style(s.backend)[0])
    positions = range(len(values))
    ax.barh(list(positions), values, xerr=list(zip(*errors, strict=True)), color=colors, capsize=3)
    ax.set_yticks(list(positions), labels, fontsize=7)
    ax.set(
        xscale="log", xlabel="microseconds (log)", title="Reactor runtimes: per-reaction and per-round cost"
    )
    return True


PAPER_ENV_NAMES = {
    "Pong-v4": "ALE/Pong-v5",
    "MsPacman-v4": "ALE/MsPacman-v5",
    "SpaceInvaders-v4": "ALE/SpaceInvaders-v5",
}
"""The paper used Gym's v4 Atari ids; ours are ale-py's v5 (sticky actions): same games."""


def _label(s: CellSummary) -> str:
    variant = s.param("variant")
    return s.backend if variant in ("", "plain") else f"{s.backend} ({variant})"


def _draw_sampling(workload: str, figure: str, title: str) -> Callable:
    def draw(axes: list[Axes], summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
        cells = [s for s in summaries if s.workload == workload and s.metric == "steps_per_s"]
        if not cells:
            return False
        env_ids = sorted({s.param("env_id") for s in cells})
        batched = sorted({int(s.param("steps_per_round")) for s in cells})
        for ax, k in zip(axes, [1, max(batched)], strict=True):
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
            ax.set(yscale="log", ylabel="env steps / s (log)", title=f"{title}, K = {k} step(s) per round")
        return True

    return draw


FIGURES = [
    Figure("bcast_gather_vs_size", _draw_vs_size, workload="collectives"),
    Figure("bcast_gather_vs_actors", _draw_vs_actors, workload="collectives"),
    Figure("micro_runtime", _draw_micro, workload="micro"),
    Figure(
        "gym_sampling",
        _draw_sampling("gym", "gym_sampling", "Gym sampling, 15 envs"),
        panels=2,
        workload="gym",
    ),
    Figure(
        "atari_sampling",
        _draw_sampling("atari", "atari_sampling", "Atari sampling, 15 envs (ours: v5 ids)"),
        panels=2,
        workload="atari",
    ),
]


def error_bar_caption(summaries: list[CellSummary], workload: str) -> str:
    """What a figure's markers and error bars are: medians of how many repeats, and whether the bars
    are 95% bootstrap intervals or (below 5 repeats) only the range of the repeats."""
    counts = sorted({s.summary.n for s in summaries if s.workload == workload or not workload})
    if not counts:
        return ""
    repeats = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    names = {interval_name(n) for n in counts}
    if names == {RANGE}:
        bars = "range (min-max) of the repeats"
    elif names == {CONFIDENCE_INTERVAL}:
        bars = "95% bootstrap confidence interval of the median"
    else:
        bars = f"95% bootstrap interval from {MIN_SAMPLES_FOR_CI} repeats on, else the range of the repeats"
    return f"Markers: medians of {repeats} repeat(s) per point; error bars: {bars}."


GENERATOR = "python -m harness plot"
"""Written into every PNG's ``Software`` text field: ``plot`` replaces only files that carry it."""


def is_figure(path: Path) -> bool:
    """Whether the file is a PNG this command wrote."""
    from PIL import Image, UnidentifiedImageError  # matplotlib's own dependency

    try:
        with Image.open(path) as image:
            return image.format == "PNG" and image.info.get("Software") == GENERATOR
    except (OSError, UnidentifiedImageError):
        return False


def render(
    summaries: list[CellSummary],
    paper: list[dict[str, str]],
    figures: list[Figure] | None = None,
) -> dict[str, bytes]:
    """Draws every figure that has data (``figures``: this module's and the RL ones): name -> PNG.

    Nothing is written here: the caller checks every target before it replaces any file."""
    if figures is None:
        from .plots_cluster import FIGURES as CLUSTER_FIGURES  # these modules build on this one's helpers
        from .plots_rl import FIGURES as RL_FIGURES
        from .plots_training import FIGURES as TRAINING_FIGURES

        figures = FIGURES + RL_FIGURES + TRAINING_FIGURES + CLUSTER_FIGURES
    drawn = {}
    for figure in figures:
        fig, axes = plt.subplots(1, figure.panels, figsize=(8 * figure.panels, 5.5), squeeze=False)
        ax = axes[0][0] if figure.panels == 1 else list(axes[0])
        try:
            if not figure.draw(ax, summaries, paper):
                continue
            for each in axes[0]:
                if each.get_legend_handles_labels()[0]:
                    each.legend(fontsize=8)
                each.grid(True, which="both", alpha=0.3)
            caption = error_bar_caption(summaries, figure.workload)
            fig.text(0.005, 0.005, caption, fontsize=7, alpha=0.8)
            fig.tight_layout(rect=(0, 0.03, 1, 1))
            png = io.BytesIO()
            fig.savefig(png, format="png", dpi=110, metadata={"Software": GENERATOR, "Description": caption})
            drawn[figure.name] = png.getvalue()
        finally:
            plt.close(fig)
    return drawn
