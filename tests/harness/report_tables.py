"""Reads a report section's table back: per point its backends as rows (the point named on its first
row only), so tests look a cell up by (point, backend) and column name, as a reader does."""

from __future__ import annotations


def section_table(text: str, title: str) -> tuple[str, list[str], dict[tuple[str, str], dict[str, str]]]:
    """The section starting with ``title``: its text before the table, the table's column names, and
    (point, backend) -> column -> cell (the point without its mark of unequal work, which stays in
    the row's first column under the name ``row_param``)."""
    section = text.split(title, 1)[1].split("\n#")[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows: dict[tuple[str, str], dict[str, str]] = {}
    point = ""
    for line in lines[2:]:
        cells = dict(zip(header, [c.strip() for c in line.strip("|").split("|")], strict=True))
        point = cells[header[0]].split(" ")[0] or point
        rows[(point, cells["backend"])] = cells
    return section.split("\n|")[0], header, rows


def backends_in_order(rows: dict[tuple[str, str], dict[str, str]], point: str) -> list[str]:
    """The backends at ``point`` in the table's order (fastest first)."""
    return [backend for at, backend in rows if at == point]
