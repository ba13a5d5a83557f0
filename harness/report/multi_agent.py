"""The multi-agent sections: agent-steps/s per environment as agents scale, and the communication
part of a step."""

from __future__ import annotations

from harness.analysis.paper import agent_steps_per_s
from workloads.base import Workload

from .tables import Section, paper_value

SECTIONS = [
    Section(
        "Scaling agents (simple_spread): agent_steps_per_s",
        "multi-agent",
        "agent_steps_per_s",
        "n_agents",
        {"env_id": "simple_spread"},
        "The paper used TrafficJunction (ma-gym, not installable); its totals for 100,000 steps, start-up"
        " included, are converted to agent-steps/s.",
        paper_value("multi_agent_scaling", "n_agents", agent_steps_per_s),
    ),
    Section(
        "Scaling agents (battle): agent_steps_per_s",
        "multi-agent",
        "agent_steps_per_s",
        "n_agents",
        {"env_id": "battle"},
        "MAgent2 battle_v4; not in the paper.",
    ),
    Section(
        "Scaling agents (synthetic control): agent_steps_per_s",
        "multi-agent",
        "agent_steps_per_s",
        "n_agents",
        {"env_id": "synthetic"},
        "Not in the paper.",
    ),
    Section(
        "Communication part of a step (simple_spread): comm_ms",
        "multi-agent",
        "comm_ms",
        "n_agents",
        {"env_id": "simple_spread"},
        "Step time beyond the environment plus the slowest agent's inference.",
    ),
]


def sections(workload: Workload) -> list[Section]:
    return [section for section in SECTIONS if section.workload == workload.name]
