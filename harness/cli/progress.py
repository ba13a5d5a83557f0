"""Progress of a run: a live bar on a terminal, one line per finished cell otherwise (CI logs).

On a narrow terminal the bar gives way first, then the running cell's text (cut with an ellipsis):
the count and the time left always stay readable. When the run ends the line says so, instead of
still naming the last cell as if it were running.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column

from harness.cells.plan import Cell
from harness.cells.runner import CellOutcome


class RunProgress:
    """Shows cells done / total, the cell running now, elapsed time and an estimate of time left."""

    def __init__(self, total: int, quiet: bool = False):
        self.total = total
        self.quiet = quiet
        self.console = Console(stderr=True)
        self.live = self.console.is_terminal and not quiet
        self.done = 0
        self._started = time.perf_counter()
        self._progress = Progress(
            TextColumn("[bold]cells"),
            MofNCompleteColumn(),
            BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=5)),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            TextColumn(
                "{task.description}",
                table_column=Column(ratio=2, no_wrap=True, overflow="ellipsis", min_width=0),
            ),
            console=self.console,
            transient=False,
            expand=True,
        )
        self._task = self._progress.add_task("", total=total)

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

    def start(self, cell: Cell) -> None:
        if self.live:
            self._progress.update(self._task, description=cell.short_label())

    def finish(self, outcome: CellOutcome) -> None:
        self.done += 1
        if self.live:
            self._progress.update(self._task, advance=1)
            if outcome.status not in ("ok", "unavailable", "skipped"):
                self._progress.console.print(
                    f"[red]{outcome.status}[/]: {outcome.cell.label()}: {outcome.error}"
                )
        elif not self.quiet:
            elapsed = time.perf_counter() - self._started
            left = elapsed / self.done * (self.total - self.done)
            note = f" ({outcome.error})" if outcome.error else ""
            print(
                f"[{self.done}/{self.total}] {outcome.status:<11} {outcome.cell.label()} "
                f"{outcome.wall_s:.1f}s, about {left / 60:.1f} min left{note}",
                file=sys.stderr,
                flush=True,
            )
