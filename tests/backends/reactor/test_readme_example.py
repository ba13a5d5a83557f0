"""Runs the seed program of backends/reactor/README.md, extracted from the README itself."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

import backends.reactor

README = Path(backends.reactor.__file__).with_name("README.md")


def readme_program() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    programs = [block for block in blocks if "class RolloutReactor" in block]
    assert len(programs) == 1, "the README should hold exactly one seed program"
    return programs[0]


def load(name: str = "readme_example") -> dict:
    namespace: dict = {"__name__": name}
    exec(compile(readme_program(), str(README), "exec"), namespace)
    return namespace


def test_the_seed_program_uses_the_constructs_it_illustrates():
    program = readme_program()
    assert 'self.bank(RolloutReactor, N_ROLLOUTS, "rollout"' in program  # a main reactor contains it
    assert 'env.create(Seed, "seed")' in program
    assert 'self.input("trajectories", N_ROLLOUTS)' in program
    assert "broadcast=True, delay=msec(1)" in program
    assert load()["N_ROLLOUTS"] == 6


@pytest.mark.timeout(60)
def test_the_seed_program_runs_as_a_script_and_prints_its_summary(capsys):
    load("__main__")  # runs main() through its `if __name__ == "__main__"` guard
    out = capsys.readouterr().out
    assert out == "5 rounds at t=5 ms, mean rewards: 0.62 0.62 0.72 0.81 0.88\n"
    assert out.strip() in README.read_text()  # the README quotes what it prints


@pytest.mark.timeout(60)
def test_the_seed_program_gives_the_same_history_for_every_worker_count(capsys):
    main = load()["main"]
    before = {t for t in threading.enumerate() if t.name.startswith("reactor-worker-")}
    reference = main(workers=1, rounds=6)
    assert len(reference) == 6
    assert all(0.0 <= r <= 1.0 for r in reference)
    for workers in (2, 4, 6):
        assert main(workers=workers, rounds=6) == reference
    assert {t for t in threading.enumerate() if t.name.startswith("reactor-worker-")} <= before
    assert capsys.readouterr().out.count("6 rounds at t=6 ms") == 4
