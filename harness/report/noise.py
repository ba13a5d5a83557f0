"""The report's note on noise: how busy the rest of the machine was while its cells were measured,
and the cells measured on a busy machine (``harness.analysis.noise`` owns the rule).

A reader who sees a slow median needs to know whether the machine was shared at that moment; the
flag sits near the top of the report, before any table, so that no number is read without it."""

from __future__ import annotations

from collections.abc import Iterable

from harness.analysis.noise import noise
from harness.results.point import point_text

from .tables import table_cell


def noise_section(rows: Iterable[dict[str, str]]) -> str:
    """A short section: the summary line, then a table of the busy cells (none: it says so)."""
    found = noise(rows)
    parts = ["## Noise\n", found.headline() + ".\n"]
    if not found.busy:
        if found.cells:
            parts.append(f"No cell was measured while others used more than {found.threshold:g}%.\n")
        return "\n".join(parts)
    parts.append(f"{found.busy_line()}:\n")
    lines = ["| workload | point | backend | repeat | other processes' CPU |", "|---|---|---|---|---|"]
    for cell in sorted(found.busy, key=lambda c: (c.workload, c.params, c.backend, c.repeat)):
        texts = [cell.workload, point_text(cell.params), cell.backend, str(cell.repeat + 1)]
        lines.append("| " + " | ".join(map(table_cell, [*texts, f"{cell.other_cpu_pct:.0f}%"])) + " |")
    parts.append(
        "Their medians may be slower than the backend alone would be; `run --rerun-busy N` measures "
        "them again (the latest attempt of a cell is the one reported, every attempt stays in the CSV).\n"
    )
    parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)
