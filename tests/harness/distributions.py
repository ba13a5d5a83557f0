"""Installed distributions made on the fly for tests: a dist-info folder on PYTHONPATH is all
``importlib.metadata`` needs, so a test registers a plugin backend or workload the way a user's
``pip install`` would, without touching the harness."""

from __future__ import annotations

from pathlib import Path


def distribution(
    site: Path, name: str, entry_points: dict[str, dict[str, str]], modules: dict[str, str] | None = None
) -> Path:
    """A minimal installed distribution in ``site``: its metadata, its entry points (group -> name ->
    target), its modules (name -> source)."""
    info = site / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = []
    for group, points in entry_points.items():
        lines += [f"[{group}]", *(f"{key} = {value}" for key, value in points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module, source in (modules or {}).items():
        (site / f"{module}.py").write_text(source)
    return site
