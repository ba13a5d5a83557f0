"""The collectives sections: broadcast & gather round time against object size and against workers."""

from __future__ import annotations

from workloads.base import Workload

from .tables import Section, paper_value

SECTIONS = [
    Section(
        "Broadcast & gather vs object size (16 workers, copy): round_ms",
        "collectives",
        "round_ms",
        "object_bytes",
        {"n_actors": "16", "variant": "copy"},
        'The paper\'s "300MB"/"500MB" points are 253/466 MiB (paper profile only).',
        paper_value("bcast_gather_vs_size", "object_bytes"),
        {"n_actors": "16"},
    ),
    Section(
        "Broadcast & gather vs workers (10 MiB, copy): round_ms",
        "collectives",
        "round_ms",
        "n_actors",
        {"object_bytes": "10485760", "variant": "copy"},
        "Same workload as the paper's (each worker copies the array and returns the copy).",
        paper_value("bcast_gather_vs_actors", "n_actors"),
    ),
]


def sections(workload: Workload) -> list[Section]:
    return [section for section in SECTIONS if section.workload == workload.name]
