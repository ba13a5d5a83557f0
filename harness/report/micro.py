"""The runtime micro-benchmarks have no report section: the paper has no such figure, and their
figure (``micro_runtime.png``) and percentiles in the CSV show them; declared empty so that the
generic section does not stand in for one."""

from __future__ import annotations

from workloads.base import Workload

from .tables import Section


def sections(workload: Workload) -> list[Section]:
    return []
