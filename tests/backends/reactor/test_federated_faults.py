"""Faults in a federation: a federate whose reaction raises, one killed with kill -9 (idle or in the
middle of a round, owning shared memory), and the death of the process that started them. Each stops
the federation with one error naming the federate and its reactors, and leaves no process and no
shared-memory segment behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from backends.reactor import FederateDied, FederateReactionFailed, Federation, ReactionFailed
from backends.reactor.federation import leftovers, shm
from tests.backends.reactor import federated_programs as fp
from tests.backends.reactor.test_federated import nothing_left_behind  # noqa: F401 - the autouse fixture applies here too

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.timeout(120)


def test_a_reaction_raising_in_a_federate_stops_the_federation_naming_federate_reactor_and_reaction():
    env, driver = fp.driven(8, 1, 2, "boom")
    assert len(fp.round_(env, driver, "step", 1)) == 8
    with pytest.raises(FederateReactionFailed) as info:
        fp.round_(env, driver, "boom")
    error = info.value
    assert isinstance(error, ReactionFailed)  # what single-process callers already catch
    assert (error.federate, error.reactor, error.reaction) == (1, "host[3]", "call")
    assert isinstance(error.__cause__, ValueError) and str(error.__cause__) == "worker 3 exploded"
    assert "reaction 'call' of reactor 'host[3]' in federate 1 raised at tag" in str(error)
    assert "ValueError: worker 3 exploded" in str(error)
    assert driver.shutdowns == 1  # the RTI's process stopped cleanly too
    env.stop()  # after a failure: releases everything, raises nothing more
    assert not any(p.alive() for p in env.federation.processes.values())


def test_a_reaction_raising_in_the_rti_process_stops_the_federates_too():
    env, driver = fp.driven(4, 1, Federation(2, placement={"host[3]": None}), "boom")
    processes = list(env.federation.processes.values())
    with pytest.raises(ReactionFailed) as info:
        fp.round_(env, driver, "boom")
    assert not isinstance(info.value, FederateReactionFailed)  # it happened here, not in a federate
    assert (info.value.reactor, info.value.reaction) == ("host[3]", "call")
    env.stop()
    assert not any(p.alive() for p in processes)


def test_a_federate_killed_between_rounds_is_named_at_the_next_round():
    env, driver = fp.driven(4, 1, 2)
    try:
        fp.round_(env, driver, "step", 1)
        victim = env.federation.processes[0]
        os.kill(victim.pid, signal.SIGKILL)
        with pytest.raises(FederateDied) as info:
            for _ in range(50):  # the death may be noticed before or during the next round
                fp.round_(env, driver, "step", 1)
        message = str(info.value)
        assert info.value.federate == 0 and info.value.reactors == ["host[0]", "host[2]"]
        assert "federate 0 (reactors host[0], host[2]) died" in message
        assert "killed by signal 9 (SIGKILL)" in message
    finally:
        env.stop()


def test_a_federate_killed_in_a_round_while_owning_shared_memory_leaves_no_segment():
    env, driver = fp.driven(4, 1, 2)
    prefix = env.federation.prefix
    try:
        big = fp.round_(env, driver, "copy", np.arange(1 << 18, dtype=np.int64))  # 2 MiB each way
        assert [r[1] for r in big] == [(1 << 18) - 1] * 4
        payload = np.zeros(1 << 18)
        fp.round_(env, driver, "copy", payload)
        assert shm.leftovers(prefix)  # the RTI's pool holds a segment now
        with pytest.raises(FederateDied, match=r"federate 1 \(reactors host\[1\], host\[3\]\) died"):
            fp.round_(env, driver, "die")
    finally:
        env.stop()
    assert shm.leftovers(prefix) == []


def test_federates_die_with_the_process_that_started_them():
    """kill -9 of the RTI's process: the kernel (PR_SET_PDEATHSIG) ends its federates, and their
    shared memory goes with multiprocessing's resource tracker."""
    program = textwrap.dedent(
        """
        import json, sys, time
        import numpy as np
        from tests.backends.reactor import federated_programs as fp
        if __name__ == "__main__":
            env, driver = fp.driven(4, 1, 2)
            fp.round_(env, driver, "copy", np.zeros(1 << 18))
            pids = [p.pid for p in env.federation.processes.values()]
            print(json.dumps({"pids": pids, "prefix": env.federation.prefix}), flush=True)
            time.sleep(60)
        """
    )
    starter = subprocess.Popen(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(starter.stdout.readline())
        federates = [psutil.Process(pid) for pid in info["pids"]]
        assert all(p.is_running() for p in federates)
        starter.kill()
        starter.wait(10)
        _, alive = psutil.wait_procs(federates, timeout=10)
        assert alive == [], f"federates outlived the process that started them: {alive}"
        deadline = time.monotonic() + 10
        while shm.leftovers(info["prefix"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert shm.leftovers(info["prefix"]) == []
    finally:
        starter.kill()
        starter.wait(10)


def test_what_an_rti_process_killed_with_its_helpers_left_is_named_after_it_and_swept():
    """kill -9 of the RTI's process group (its federates and multiprocessing's resource tracker too,
    as a harness kills a cut cell): nothing unlinks its segments or removes its socket folder, so
    they carry its pid; ``sweep_orphans`` removes them, and never what a live federation holds."""
    program = textwrap.dedent(
        """
        import json, time
        import numpy as np
        from tests.backends.reactor import federated_programs as fp
        if __name__ == "__main__":
            env, driver = fp.driven(4, 1, 2)
            fp.round_(env, driver, "copy", np.zeros(1 << 18))
            print(json.dumps({"prefix": env.federation.prefix}), flush=True)
            time.sleep(60)
        """
    )
    starter = subprocess.Popen(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    env, driver = fp.driven(2, 1, 2)  # a live federation of this process, holding a segment
    try:
        info = json.loads(starter.stdout.readline())
        fp.round_(env, driver, "copy", np.zeros(1 << 18))
        mine = leftovers.owned_by(os.getpid())
        assert any(Path(p).name.startswith(env.federation.prefix + "_") for p in mine)
        os.killpg(starter.pid, signal.SIGKILL)
        starter.wait(10)
        time.sleep(1.0)  # nothing would remove them now; give it the chance anyway
        left = leftovers.owned_by(starter.pid)
        segments = [Path(p).name for p in left if p.startswith(shm.SHM_DIR + "/")]
        folders = [Path(p) for p in left if not p.startswith(shm.SHM_DIR + "/")]
        assert segments and all(name.startswith(info["prefix"] + "_") for name in segments), left
        assert [f.name.startswith(f"reactor-rti-{starter.pid}-") for f in folders] == [True], left
        assert (folders[0] / "rti.sock").exists()

        assert sorted(leftovers.sweep_orphans([starter.pid])) == left
        assert leftovers.owned_by(starter.pid) == []
        assert leftovers.owned_by(os.getpid()) == mine  # a live owner's are never touched
        assert leftovers.sweep_orphans([os.getpid()]) == []
        assert len(fp.round_(env, driver, "copy", np.zeros(1 << 18))) == 2  # and still work
    finally:
        env.stop()
        if starter.poll() is None:
            os.killpg(starter.pid, signal.SIGKILL)
            starter.wait(10)
        leftovers.sweep_orphans([starter.pid])
