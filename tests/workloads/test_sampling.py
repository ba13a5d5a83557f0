"""Environment sampling: same seeds give the same rewards on every worker-group backend, vector
reference backends do the same number of steps, and a bad env id fails the cell, not the run."""

from __future__ import annotations

import pytest

from backends.base import BackendOptions
from backends.reactor_backend import ReactorBackend
from backends.sequential import SequentialBackend
from backends.vector_envs import AleVector, GymAsyncVector, GymSyncVector, ale_game
from harness.registry import WORKLOADS
from harness.results import read_rows
from workloads.envs import env_factory


def _rewards(backend_cls, env_id: str, rounds: int, k: int, threads: int = 1) -> list:
    backend = backend_cls(BackendOptions(threads=threads))
    backend.start(env_factory(env_id), 3)
    try:
        return [backend.step_environments(k) for _ in range(rounds)]
    finally:
        backend.shutdown()


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Blackjack-v1", "Pendulum-v1"])
def test_sequential_and_reactor_give_identical_rewards(env_id):
    reference = _rewards(SequentialBackend, env_id, rounds=30, k=5)
    assert reference == _rewards(ReactorBackend, env_id, rounds=30, k=5, threads=2)
    assert all(steps == 5 for round_ in reference for steps, _ in round_)


def test_different_seeds_give_different_rewards():
    a = SequentialBackend()
    a.start(env_factory("Blackjack-v1", seed=1), 3)
    b = SequentialBackend()
    b.start(env_factory("Blackjack-v1", seed=2), 3)
    assert [a.step_environments(20) for _ in range(5)] != [b.step_environments(20) for _ in range(5)]


def test_atari_worker_matches_across_backends_and_never_reseeds():
    reference = _rewards(SequentialBackend, "ALE/Pong-v5", rounds=3, k=20)
    assert reference == _rewards(ReactorBackend, "ALE/Pong-v5", rounds=3, k=20, threads=2)


def test_sync_vector_backend_steps_every_env():
    results = _rewards(GymSyncVector, "CartPole-v1", rounds=4, k=7)
    assert [[steps for steps, _ in r] for r in results] == [[7, 7, 7]] * 4


def test_async_vector_backend_matches_sync_and_leaves_no_process():
    import psutil

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    asynchronous = _rewards(GymAsyncVector, "Blackjack-v1", rounds=3, k=4)
    assert asynchronous == _rewards(GymSyncVector, "Blackjack-v1", rounds=3, k=4)
    after = {p.pid for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE}
    assert after <= before | {
        p.pid for p in psutil.Process().children() if "resource_tracker" in " ".join(p.cmdline())
    }


def test_ale_vector_backend_steps_every_env():
    results = _rewards(AleVector, "ALE/Pong-v5", rounds=2, k=5)
    assert [[steps for steps, _ in r] for r in results] == [[5, 5, 5]] * 2


def test_ale_game_names():
    assert ale_game("ALE/MsPacman-v5") == "ms_pacman"
    assert ale_game("ALE/SpaceInvaders-v5") == "space_invaders"


def test_grids_keep_vector_backends_to_their_family():
    gym, atari = WORKLOADS["gym"], WORKLOADS["atari"]
    point = gym.grid("quick")[0]
    assert gym.applies_to(point, "gym-sync-vector", "quick") and not gym.applies_to(
        point, "ale-vector", "quick"
    )
    assert gym.applies_to(point, "gym-async-vector", "paper") and not gym.applies_to(
        point, "gym-async-vector", "quick"
    )
    seeded = [p for p in atari.grid("quick") if p["variant"] == "seeded-reset"]
    assert seeded
    assert all(
        atari.applies_to(p, "ray", "quick") and not atari.applies_to(p, "reactor", "quick") for p in seeded
    )


@pytest.mark.slow
def test_bad_env_id_is_an_error_row_and_the_run_goes_on(tmp_path):
    out = tmp_path / "bad.csv"
    script = (
        "import sys, workloads.sampling as s; s.GYM_ENVS = ('NoSuchEnv-v0', 'CartPole-v1'); "
        "s.GymSampling.env_ids = s.GYM_ENVS; from harness.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "run",
            "--suite",
            "gym",
            "--profile",
            "smoke",
            "--backends",
            "sequential,reactor",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    rows = read_rows(out)
    assert result.returncode == 1
    assert {r["status"] for r in rows} == {"error"}
    assert all("NoSuchEnv" in r["error"] for r in rows)
