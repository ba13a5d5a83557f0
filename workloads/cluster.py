"""The ``cluster`` suite: collectives, Gym sampling and training that learns, across test hosts.

Each workload is its one-machine counterpart with two more parameters, ``hosts`` (H: the driver on
host 0, the workers round-robin on hosts 1..H-1) and ``link_mbit`` (every host link's rate in both
directions; blank: the veth pair's own speed). What the cells measure honestly is what crosses the
links per round (the harness reads every host's interface counters over the measured window:
``wire_bytes_per_round``, ``packets_per_round``; and, where a backend counts its own coordination
messages, ``round_trips_per_round``); the times are those of hosts that share this machine's cores,
so times at real link latencies and rates come from ``harness.analysis.projection``, labelled as a model.
The suite is not part of ``all``: test hosts need root.
"""

from __future__ import annotations

from typing import ClassVar

from backends.base import Backend
from workloads.training.to_return import TrainingReturn

from .base import Parameter, Params, Workload
from .collectives import ACTOR_SWEEP_BYTES, KIB, MIB, ROUND_METRICS, SIZE_SWEEP_ACTORS, Collectives
from .sampling import GymSampling

HOSTS = (2, 3)
LINKS_MBIT = (None, 1000)
"""Unlimited (the veth pair's speed: several Gbit/s here) and 1 Gbit/s."""
RESULT_BYTES = 16
"""A sampling worker's summary is two 8-byte numbers (steps, reward sum); in the warm-up rounds, which
the wire window counts too, a 32-bit observation fingerprint rides along (the result digest's)."""


def on_hosts(points: list[Params], profile: str) -> list[Params]:
    """Every point on every host count and link rate of the profile (smoke: 2 hosts, unlimited)."""
    hosts, links = ((2,), (None,)) if profile == "smoke" else (HOSTS, LINKS_MBIT)
    return [{**p, "hosts": h, "link_mbit": rate} for h in hosts for rate in links for p in points]


class _OnHosts(Workload):
    """What every cluster workload shares: the suite, the test hosts and the floor."""

    suite = "cluster"
    in_all = False
    on_test_hosts = True
    floor_backends: ClassVar[tuple[str, ...]] = ("sequential",)
    gated = False  # the gate runs on one machine; these cells need test hosts
    figure_module = "harness.figures.cluster"
    report_module = "harness.report.cluster"
    report_order = 90
    HOST_PARAMETERS = (
        Parameter("hosts", int, "test hosts the workers are spread over"),
        Parameter("link_mbit", int, "the links' rate limit in Mbit/s; blank for the veth pair's own"),
    )
    repeats: ClassVar[dict[str, int]] = {"smoke": 1, "quick": 1, "paper": 3}
    """One quick repeat: a cell starts a cluster of H nodes (a Ray node costs about 5 s on 2 cores)."""

    def is_headline(self, params: Params) -> bool:
        return True

    def applies_to(self, params: Params, backend: type[Backend], profile: str) -> bool:
        # the floor runs on host 0 alone: one link rate tells all
        return backend.name not in self.floor_backends or not params.get("link_mbit")


class ClusterCollectives(_OnHosts, Collectives):
    parameters = (*Collectives.parameters, *_OnHosts.HOST_PARAMETERS)
    name = "cluster-collectives"
    shown_params = ("object_bytes", "n_actors", "variant")
    description = "broadcast & gather (copy) to 16 workers on hosts 1..H-1, driver on host 0"
    metrics = ROUND_METRICS
    times_operations = False
    """Rounds only: the wire counters cover the whole measured window and are divided by its rounds."""

    def grid(self, profile: str) -> list[Params]:
        if profile == "smoke":
            points = [{"n_actors": 2, "object_bytes": MIB, "variant": "copy"}]
        else:
            sizes = (KIB, ACTOR_SWEEP_BYTES)
            points = [{"n_actors": SIZE_SWEEP_ACTORS, "object_bytes": s, "variant": "copy"} for s in sizes]
        return on_hosts(points, profile)

    def wire_minimum_bytes(self, params: Params, receiving_hosts: int) -> int | None:
        size, n = int(params["object_bytes"]), int(params["n_actors"])
        result = size if params["variant"] == "copy" else 8
        return size * receiving_hosts + n * result


class ClusterGym(_OnHosts, GymSampling):
    parameters = (*GymSampling.parameters, *_OnHosts.HOST_PARAMETERS)
    name = "cluster-gym"
    shown_params = ("env_id", "steps_per_round", "variant")
    also_in = ()
    description = "CartPole-v1, 15 envs on hosts 1..H-1, K=100 steps per round, driver on host 0"

    def grid(self, profile: str) -> list[Params]:
        n_envs = 2 if profile == "smoke" else 15
        points = [{"env_id": "CartPole-v1", "n_envs": n_envs, "steps_per_round": 100, "variant": "plain"}]
        return on_hosts(points, profile)

    def wire_minimum_bytes(self, params: Params, receiving_hosts: int) -> int | None:
        return 8 * receiving_hosts + RESULT_BYTES * int(params["n_envs"])


class ClusterTraining(_OnHosts, TrainingReturn):
    parameters = (*TrainingReturn.parameters, *_OnHosts.HOST_PARAMETERS)
    name = "cluster-training"
    shown_params = ("env_id", "variant", "workers")
    also_in = ()
    description = "training that learns (Double DQN, CartPole-v1): rollouts on hosts 1..H-1, learner on 0"

    def grid(self, profile: str) -> list[Params]:
        return on_hosts(TrainingReturn.grid(self, profile), profile)
