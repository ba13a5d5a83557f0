"""Environment sampling: same seeds give the same rewards and observations on every backend, the
vector references included (they seed and step the same environments), no seeded reset happens in a
measured loop, and a bad env id fails the cell, not the run."""

from __future__ import annotations

import pytest

from backends.base import STEP, STEP_OBSERVED, BackendOptions, ale_seed
from backends.reactor_backend import ReactorBackend
from backends.sequential import SequentialBackend
from backends.vector_envs import AleVector, GymAsyncVector, GymSyncVector, ale_game
from harness.cells.plan import build_plan
from harness.registry import BACKENDS, WORKLOADS
from harness.results import read_rows
from workloads.envs import SEED, env_factory


def _rewards(backend_cls, env_id: str, rounds: int, k: int, threads: int = 1, method: str = STEP) -> list:
    """``rounds`` rounds of 3 envs on a fresh backend: every round's per-env summaries."""
    backend = backend_cls(BackendOptions(threads=threads))
    backend.start(env_factory(env_id), 3)
    try:
        return [backend.step_environments(k, method) for _ in range(rounds)]
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


def _varied(results: list) -> None:
    """What the comparisons rest on: summaries that tell the envs apart (a reversed worker order or
    one seed for all would change them), with rewards that are not all zero."""
    assert any(reward != 0 for round_ in results for _, reward, *_ in round_), results
    per_env = list(zip(*results, strict=True))
    assert len(set(per_env)) == len(per_env), results


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Blackjack-v1", "Pendulum-v1"])
def test_sync_vector_sees_what_the_workers_see(env_id):
    # 3 x 40 steps: several CartPole and Blackjack episodes end (and reset in the same step) in them
    reference = _rewards(SequentialBackend, env_id, rounds=3, k=40, method=STEP_OBSERVED)
    _varied(reference)
    assert _rewards(GymSyncVector, env_id, rounds=3, k=40, method=STEP_OBSERVED) == reference
    unobserved = [[summary[:2] for summary in round_] for round_ in reference]
    assert _rewards(GymSyncVector, env_id, rounds=3, k=40) == unobserved


@pytest.fixture
def rom_loads(monkeypatch) -> list[object]:
    """Every ROM load of a Gymnasium Atari env in this process (what a seeded reset does), as it
    happens: the worker backends below build their workers in this process."""
    from ale_py.env import AtariEnv

    loads: list[object] = []
    load_game = AtariEnv.load_game

    def counted(self):
        loads.append(self)
        return load_game(self)

    monkeypatch.setattr(AtariEnv, "load_game", counted)
    return loads


def _measured_rounds(backend, loads: list[object], rounds: int, k: int) -> tuple[list, int]:
    """The rounds' summaries and how many ROM loads happened while they ran."""
    before = len(loads)
    results = [backend.step_environments(k) for _ in range(rounds)]
    return results, len(loads) - before


def test_atari_workers_and_ale_vector_play_the_same_games_and_never_reseed(rom_loads):
    # 2 x 300 Pong steps: points are lost, so the rewards differ from env to env and from zero
    played = {}
    for backend_cls in (SequentialBackend, ReactorBackend, AleVector):
        backend = backend_cls(BackendOptions(threads=2))
        backend.start(env_factory("ALE/Pong-v5"), 3)
        try:
            played[backend_cls.name], reloads = _measured_rounds(backend, rom_loads, rounds=2, k=300)
        finally:
            backend.shutdown()
        assert reloads == 0, backend_cls.name  # seeded once, at construction
    _varied(played["sequential"])
    assert played["reactor"] == played["sequential"]
    assert played["ale-vector"] == played["sequential"]
    # the probe sees a seeded reset where there is one: the paper's Ray baseline, on every step
    backend = SequentialBackend()
    backend.start(env_factory("ALE/Pong-v5", seeded_reset=True), 3)
    try:
        assert _measured_rounds(backend, rom_loads, rounds=1, k=2)[1] == 3 * 2
    finally:
        backend.shutdown()


def test_atari_observations_match_the_vector_references():
    reference = _rewards(SequentialBackend, "ALE/Pong-v5", rounds=2, k=5, method=STEP_OBSERVED)
    assert len({fingerprint for _, _, fingerprint in reference[-1]}) == 3  # the envs' frames differ
    assert _rewards(AleVector, "ALE/Pong-v5", rounds=2, k=5, method=STEP_OBSERVED) == reference
    on_reactor = _rewards(ReactorBackend, "ALE/Pong-v5", rounds=2, k=5, threads=2, method=STEP_OBSERVED)
    assert on_reactor == reference


def test_an_ale_seed_the_vector_env_cannot_take_is_refused():
    assert ale_seed(SEED) == SEED
    for seed in (-1, 2**31):
        with pytest.raises(ValueError, match=f"0 <= seed < 2\\*\\*31, not {seed}"):
            ale_seed(seed)
    backend = AleVector()
    try:
        with pytest.raises(ValueError, match=f"not {2**31}"):  # env 1 of 2 would get 2**31
            backend.start(env_factory("ALE/Pong-v5", seed=2**31 - 1), 2)
    finally:
        backend.shutdown()


def test_sync_vector_backend_steps_every_env():
    results = _rewards(GymSyncVector, "CartPole-v1", rounds=4, k=7)
    assert [[steps for steps, _ in r] for r in results] == [[7, 7, 7]] * 4


def test_async_vector_backend_sees_what_the_workers_see_and_leaves_no_process():
    import psutil

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    asynchronous = _rewards(GymAsyncVector, "Blackjack-v1", rounds=3, k=20, method=STEP_OBSERVED)
    reference = _rewards(SequentialBackend, "Blackjack-v1", rounds=3, k=20, method=STEP_OBSERVED)
    _varied(reference)
    assert asynchronous == reference
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
    assert gym.applies_to(point, GymSyncVector, "quick") and not gym.applies_to(point, AleVector, "quick")
    assert atari.applies_to(atari.grid("quick")[0], AleVector, "quick")
    assert not atari.applies_to(atari.grid("quick")[0], GymSyncVector, "quick")
    seeded = [p for p in atari.grid("quick") if p["variant"] == "seeded-reset"]
    assert seeded
    assert all(
        atari.applies_to(p, BACKENDS["ray"], "quick") and not atari.applies_to(p, ReactorBackend, "quick")
        for p in seeded
    )


def test_a_paper_profile_only_backend_is_planned_in_the_paper_profile_only():
    """gym-async-vector (a process per env) declares ``paper_profile_only``: the plan honours it."""
    planned = {profile: {c.backend for c in build_plan("gym", profile, ["gym-async-vector"], 1)}
               for profile in ("quick", "paper")}  # fmt: skip
    assert planned == {"quick": set(), "paper": {"gym-async-vector"}}


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
