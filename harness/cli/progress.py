"""Progress of a run, on stderr: a live bar on a terminal, one line per finished cell otherwise (CI logs).

The bar labels its times ("elapsed 0:04:44, about 0:00:51 left": two bare clocks side by side were
read as "4:44 left"). The time left comes from the reference runs' cell times, as ``list`` estimates a
plan (``harness.cells.estimate``), scaled by how this run's finished cells compared with their
reference times: a steady estimate from the first cell on, instead of a mean of the cells so far
that swings with each one. Each finished cell prints its headline number, and cells whose backend is
unavailable are counted on the bar.

On a narrow terminal the bar gives way first, then the running cell's text (cut with an ellipsis):
the count and the time left always stay readable. When the run ends the line says so, instead of
still naming the last cell as if it were running.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn
from rich.table import Column
from rich.text import Text

from harness import registry
from harness.cells.estimate import ReferenceTimes
from harness.cells.plan import Cell
from harness.cells.runner import CellOutcome
from harness.results.point import is_curve

from .summary import plain


def clock(seconds: float | None) -> str:
    """``H:MM:SS``, or ``-:--:--`` when there is no estimate."""
    if seconds is None:
        return "-:--:--"
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class TimeLeft:
    """Time left of a plan: each remaining cell's reference time, times this run's speed relative to
    the reference (actual over reference time of the finished cells that have one). Cells without a
    reference time take the mean actual time of this run's finished cells."""

    def __init__(self, cells: list[Cell], reference: ReferenceTimes):
        self._reference = reference
        self._left: list[float | None] = [self._expected(cell) for cell in cells]
        self._actual = 0.0
        self._expected_done = 0.0
        self._walls: list[float] = []

    def _expected(self, cell: Cell) -> float | None:
        estimate = self._reference.estimate([cell])
        return None if estimate.unknown else estimate.seconds

    def add(self, cells: list[Cell]) -> None:
        self._left += [self._expected(cell) for cell in cells]

    def finished(self, cell: Cell, wall_s: float) -> None:
        expected = self._left.pop(0) if self._left else None
        self._walls.append(wall_s)
        if expected:
            self._actual += wall_s
            self._expected_done += expected

    def seconds(self) -> float | None:
        if not self._left:
            return 0.0
        scale = self._actual / self._expected_done if self._expected_done else 1.0
        mean = sum(self._walls) / len(self._walls) if self._walls else None
        total = 0.0
        for expected in self._left:
            if expected is not None:
                total += expected * scale
            elif mean is not None:
                total += mean
            else:
                return None
        return total


def headline_value(outcome: CellOutcome) -> str:
    """``metric value unit`` of the cell's headline metric (its workload's first objective), or ''."""
    workload = registry.WORKLOADS.get(outcome.cell.workload)
    if outcome.status != "ok" or workload is None:
        return ""
    metric = workload.primary_metric
    for row in outcome.rows:
        if row.get("metric") == metric and not is_curve(row) and row.get("value") not in (None, ""):
            return f"{metric} {plain(float(row['value']))} {row.get('unit', '')}".rstrip()
    return ""


class _Times(ProgressColumn):
    """The labelled times, redrawn on every refresh (so the elapsed time ticks between cells)."""

    def __init__(self, text: Callable[[], str]):
        super().__init__()
        self._text = text

    def render(self, task: Task) -> Text:
        return Text(self._text())


class RunProgress:
    """Shows cells done / total, elapsed time, time left, unavailable cells and the cell running now."""

    def __init__(self, cells: list[Cell], quiet: bool = False, reference: ReferenceTimes | None = None):
        self.total = len(cells)
        self.quiet = quiet
        self.console = Console(stderr=True)
        self.live = self.console.is_terminal and not quiet
        self.done = 0
        self.unavailable = 0
        self._left = TimeLeft(cells, reference if reference is not None else ReferenceTimes.load())
        self._started = time.perf_counter()
        self._progress = Progress(
            TextColumn("[bold]cells"),
            MofNCompleteColumn(),
            BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=5)),
            _Times(self._times),
            TextColumn(
                "{task.description}",
                table_column=Column(ratio=2, no_wrap=True, overflow="ellipsis", min_width=0),
            ),
            console=self.console,
            transient=False,
            expand=True,
        )
        self._task = self._progress.add_task("", total=self.total)

    def _times(self) -> str:
        elapsed = time.perf_counter() - self._started
        text = f"elapsed {clock(elapsed)}, about {clock(self._left.seconds())} left"
        return text + (f", {self.unavailable} unavailable" if self.unavailable else "")

    def __enter__(self) -> RunProgress:
        if self.live:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.live:
            ended = "done" if exc_type is None and self.done == self.total else "stopped"
            self._progress.update(self._task, description=ended)
            self._progress.stop()

    def add(self, cells: list[Cell]) -> None:
        """More cells joined the plan (busy cells run again)."""
        self.total += len(cells)
        self._left.add(cells)
        if self.live:
            self._progress.update(self._task, total=self.total)

    def start(self, cell: Cell) -> None:
        if self.live:
            self._progress.update(self._task, description=cell.short_label())

    def finish(self, outcome: CellOutcome) -> None:
        self.done += 1
        self.unavailable += outcome.status == "unavailable"
        self._left.finished(outcome.cell, outcome.wall_s)
        value = headline_value(outcome)
        if self.live:
            self._progress.update(self._task, advance=1)
            if outcome.status not in ("ok", "unavailable", "skipped"):
                self._progress.console.print(
                    f"[red]{outcome.status}[/]: {outcome.cell.label()}: {outcome.error}"
                )
            elif value:
                self._progress.console.print(
                    f"{outcome.cell.short_label()}: {value}", markup=False, highlight=False
                )
        elif not self.quiet:
            note = f" ({outcome.error})" if outcome.error else ""
            shown = f" {value}," if value else ""
            print(
                f"[{self.done}/{self.total}] {outcome.status:<11} {outcome.cell.label()}{shown} "
                f"{outcome.wall_s:.1f}s; elapsed {clock(time.perf_counter() - self._started)}, "
                f"about {clock(self._left.seconds())} left{note}",
                file=sys.stderr,
                flush=True,
            )
