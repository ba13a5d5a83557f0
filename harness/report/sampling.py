"""The sampling sections: Gym and Atari env steps/s at K = 1, beside the paper's."""

from __future__ import annotations

from workloads.base import Workload

from .tables import Section, paper_value

SECTIONS = [
    Section(
        "Gym sampling, {n_envs} envs, K = 1: steps_per_s",
        "gym",
        "steps_per_s",
        "env_id",
        {"steps_per_round": "1", "variant": "plain"},
        "Same env ids and structure as the paper's.",
        paper_value("gym_sampling", "env_id"),
        {"n_envs": "15"},
    ),
    Section(
        "Atari sampling, {n_envs} envs, K = 1: steps_per_s",
        "atari",
        "steps_per_s",
        "env_id",
        {"steps_per_round": "1", "variant": "plain"},
        "Ours are ale-py's v5 ids (sticky actions), the paper's Gym v4 ids; the paper's Ray reset with a"
        " seed on every step (see the README).",
        paper_value("atari_sampling", "env_id"),
        {"n_envs": "15"},
    ),
]


def sections(workload: Workload) -> list[Section]:
    return [section for section in SECTIONS if section.workload == workload.name]
