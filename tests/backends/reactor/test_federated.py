"""Federated execution: the same program over F federate processes gives what it gives in one process
(traces, digests, order), for every partition, F and W; the driver pattern of the harness; stop,
timeout and starvation agreed through the RTI; hierarchy; the TCP transport and command start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest

from backends.reactor import (
    AssemblyError,
    CycleError,
    Environment,
    Federation,
    Reactor,
    ReactorError,
    msec,
)
from backends.reactor.federation import leftovers, shm
from tests.backends.reactor import federated_programs as fp

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[3]


def federate_processes() -> list[psutil.Process]:
    """Live federate processes started by this test process (multiprocessing's resource tracker,
    also a child, is not one of them)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            command = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "resource_tracker" not in command and child.is_running() and child.status() != "zombie":
            found.append(child)
    return found


def own_leftovers() -> set[str]:
    """Segments and socket folders of this process's federations: the only ones a test here judges.
    Another process's federation (a test run beside this one, say) is not this test's leftover."""
    return set(leftovers.owned_by(os.getpid()))


@pytest.fixture(autouse=True)
def nothing_left_behind():
    before = {p.pid for p in federate_processes()}
    owned_before = own_leftovers()
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and {p.pid for p in federate_processes()} - before:
        time.sleep(0.05)
    assert {p.pid for p in federate_processes()} - before == set(), "a federate process was left running"
    left = own_leftovers() - owned_before
    assert left == set(), f"shared-memory segments or socket folders were left: {sorted(left)}"


NEIGHBOUR = """
import sys
import numpy as np
from tests.backends.reactor import federated_programs as fp
if __name__ == "__main__":
    env, driver = fp.driven(2, 1, 2)
    print("started", flush=True)
    for line in sys.stdin:  # one round per line, each holding a new segment until the next
        fp.round_(env, driver, "copy", np.zeros(int(line)))
        print(env.federation.prefix, flush=True)
    env.stop()
"""


@pytest.fixture(scope="module")
def neighbour() -> Iterator[subprocess.Popen]:
    """A federation in another process, alive across this module's tests, as one of a test running
    beside them; it makes a round (and shared memory) whenever told."""
    process = subprocess.Popen(
        [sys.executable, "-c", NEIGHBOUR],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "started"  # its federates run before any test's
        yield process
    finally:
        process.stdin.close()
        process.wait(30)


def test_a_federation_of_another_process_is_not_a_leftover_of_this_test(neighbour):
    """Its segments appear during this test and outlive it: the autouse check must not count them
    (it once failed a test here because another process's federation had segments at the time)."""
    sizes = (1 << 18, 1 << 20)  # two sizes: the second needs a new segment of the neighbour's pool
    for size in sizes:
        neighbour.stdin.write(f"{size}\n")
        neighbour.stdin.flush()
        prefix = neighbour.stdout.readline().strip()
    assert len(shm.leftovers(prefix)) >= 2 and prefix.startswith(f"rf{neighbour.pid}-")


# ----- determinism ---------------------------------------------------------------------------------


def test_the_pipeline_with_a_zero_delay_cycle_is_identical_for_every_federate_and_worker_count():
    reference = fp.pipeline(workers=1)
    assert len(reference) == fp.ROUNDS  # four learner reports and the summaries at the stop tag
    assert [entry[0] for entry in reference[:-1]] == [(msec(r), 2) for r in range(fp.ROUNDS - 1)]
    summaries = reference[-1][2]
    assert [s[0] for s in summaries] == list(range(fp.WIDTH))
    assert len({s[1] for s in summaries}) == fp.WIDTH  # every rollout's log differs: not vacuous
    for federates in (1, 2, 4):
        for workers in (1, 2):
            assert fp.pipeline(workers=workers, federates=federates) == reference, (federates, workers)


@pytest.mark.parametrize(
    "placement",
    [
        {"replay": 0, "learner": 1},  # the cycle runs through three federates and the RTI's process
        {"replay": 1, "learner": 1, "rollout": [0, 0, 0, 1, 1, 1]},  # only the driver stays here
        {"rollout[2]": None, "rollout[5]": None},  # two members stay in the RTI's process
    ],
)
def test_the_pipeline_is_identical_for_other_partitions(placement):
    reference = fp.pipeline(workers=1)
    assert fp.pipeline(workers=2, federates=2, placement=placement) == reference


def test_a_delayed_broadcast_without_a_cycle_is_identical_over_federates():
    reference = fp.delayed_broadcast(workers=1)
    assert len(reference) == 4
    for federates in (1, 2):
        assert fp.delayed_broadcast(workers=2, federates=federates) == reference


# ----- the driver pattern of the harness -----------------------------------------------------------


@pytest.mark.parametrize(("federates", "workers"), [(2, 1), (2, 2), (4, 1)])
def test_the_driver_pattern_runs_one_tag_per_round_with_workers_built_in_their_federates(federates, workers):
    env, driver = fp.driven(8, workers=workers, federates=federates)
    try:
        pids = fp.round_(env, driver, "where")
        assert len(set(pids)) == federates and os.getpid() not in pids
        assert pids == [pids[i % federates] for i in range(8)]  # round-robin placement
        reference_env, reference = fp.driven(8)
        for k in range(1, 4):
            expected = fp.round_(reference_env, reference, "step", k)
            assert fp.round_(env, driver, "step", k) == expected
        reference_env.stop()
    finally:
        env.stop()
    assert driver.shutdowns == 1
    env.stop()  # idempotent
    assert driver.shutdowns == 1


def test_a_broadcast_goes_into_shared_memory_once_and_every_worker_reads_it_read_only():
    env, driver = fp.driven(16, federates=2)
    try:
        pool = env.federation.pool
        payload = np.arange(1 << 20, dtype=np.int64)  # 8 MiB
        results = fp.round_(env, driver, "copy", payload)
        assert results == [(i, (1 << 20) - 1, False) for i in range(16)]  # in order, read-only views
        assert pool.bytes_written == payload.nbytes  # one write for 16 workers in 2 federates
        small = fp.round_(env, driver, "copy", np.arange(16))
        assert [r[1] for r in small] == [15] * 16 and pool.bytes_written == payload.nbytes  # inline
        for _ in range(3):
            fp.round_(env, driver, "copy", payload)
        assert pool.segments == 1  # released after each round and reused, never a second segment
    finally:
        env.stop()


def test_an_idle_federation_burns_no_cpu_between_rounds():
    """No polling: between rounds every process of the federation sleeps in the kernel."""
    env, driver = fp.driven(4, federates=2)
    try:
        for _ in range(20):
            fp.round_(env, driver, "step", 1)
        processes = [psutil.Process(p.pid) for p in env.federation.processes.values()]
        here = psutil.Process()

        def cpu() -> float:
            return sum(sum(p.cpu_times()[:2]) for p in [here, *processes])

        before = cpu()
        time.sleep(1.0)
        used = cpu() - before
        assert used < 0.1, used  # CPU seconds in one second of idling, all processes (polling: ~1 s)
    finally:
        env.stop()


# ----- stop, timeout, starvation -------------------------------------------------------------------


def test_a_stop_requested_in_a_federate_is_agreed_and_every_federate_shuts_down_at_it():
    reference = fp.tickers(4, stopper=2, timeout=msec(20), clocked=True)
    assert reference.final == ((msec(2), 1), [(i, 3, (msec(2), 1)) for i in range(4)])
    for _ in range(3):
        federated = fp.tickers(4, federates=2, stopper=2, timeout=msec(20), clocked=True)
        assert (federated.final, federated.seen) == (reference.final, reference.seen)


def test_federates_running_ahead_agree_on_the_largest_proposal_as_lf_does():
    """Free-running tickers (no upstream) may be past the requested tag when the request reaches
    them: no federate goes back, so the common stop tag is the largest proposal."""
    tally = fp.tickers(4, federates=2, stopper=2, timeout=msec(50))
    stop_tag, logs = tally.final
    assert stop_tag >= (msec(2), 1)
    assert [log[2] for log in logs] == [stop_tag] * 4  # everyone ran shutdown at the same tag
    assert {log[1] for log in logs} == {stop_tag[0] // msec(1) + 1}  # and ticked up to it


def test_the_timeout_stops_every_federate_at_the_same_tag():
    tally = fp.tickers(4, federates=2, timeout=msec(5))
    assert tally.final == ((msec(5), 0), [(i, 6, (msec(5), 0)) for i in range(4)])


@pytest.mark.parametrize("federates", [None, 1])
def test_a_starving_federation_with_a_timeout_ends_at_the_next_microstep_without_waiting(federates):
    start = time.perf_counter()
    last = fp.starving(federates=federates, timeout=msec(2000), fast=False)
    assert last.seen == [((msec(k), 0), k) for k in (1, 2, 3)]
    assert last.ended == [(msec(3), 1)]
    assert time.perf_counter() - start < 1.5  # the 2 s timeout was not waited for


def test_a_program_with_every_reactor_in_federates_runs_to_its_end():
    env = Environment(federates=Federation(2, placement={"chain": [0], "last": 1}))
    env.bank(fp.Chain, 1, "chain", 3)
    last = env.create(fp.Last, "last")
    with pytest.raises(AttributeError, match=r"last \(Last\) runs in federate 1: its attribute 'seen'"):
        _ = last.seen
    env.connect(env.reactors[0].out, last.inp)
    env.run()
    stats = env.federation.stats
    assert sorted(stats) == [0, 1]
    assert stats[1]["reactions"] == 4  # three values and the shutdown reaction


# ----- hierarchy ---------------------------------------------------------------------------------


def test_the_seed_program_with_a_main_reactor_runs_federated_with_the_same_history():
    from tests.backends.reactor import seed_program

    reference = seed_program.main(workers=1, rounds=5)
    assert len(reference) == 5
    assert seed_program.main(workers=2, rounds=5, federates=2) == reference
    assert seed_program.main(workers=1, rounds=5, federates=3) == reference


def test_sending_inside_to_a_contained_reactor_in_a_federate():
    from tests.backends.reactor.test_hierarchy import SendingInside

    env = Environment(timeout=msec(3000), federates=Federation(1, placement={"main.p": 0}))
    main = env.create(SendingInside, "main")
    assert repr(main.p) == "<Printer main.p in federate 0>"
    env.run()  # the printer raises (in its federate) if a value were missing or out of order
    assert main.count == 4
    assert env.federation.stats[0]["reactions"] == 4  # its four checks ran in its federate


def test_connections_through_a_container_whose_child_runs_in_a_federate():
    from tests.backends.reactor.test_hierarchy import Counter, Sink, Wrapper

    def program(federates):
        env = Environment(federates=federates)
        source = env.create(Counter, "source")
        wrapped = env.create(Wrapper, "wrapped")  # inp -> inner.inp, inner.out -> out
        sink = env.create(Sink, "sink")
        env.connect(source.out, wrapped.inp)
        env.connect(wrapped.out, sink.inp, delay=msec(10))
        env.run()
        return sink.seen

    reference = program(None)
    assert reference == [((msec(10 + k), 0), 2 * (k + 1)) for k in range(3)]
    assert program(Federation(1, placement={"wrapped.inner": 0})) == reference


def test_a_container_here_with_its_bank_in_federates_broadcasts_in_gathers_out_and_reads_it():
    from tests.backends.reactor.test_hierarchy import Counter, Gather, Scatter

    def program(federates):
        env = Environment(federates=federates)
        source = env.create(Counter, "source", 2)
        scatter = env.create(Scatter, "scatter")  # its bank of workers is spread round-robin
        gather = env.create(Gather, "gather", Scatter.WIDTH)
        env.connect(source.out, scatter.inp)
        env.connect(scatter.out, gather.ins)
        env.run()
        return gather.seen, scatter.sums, [m.fqn for m in scatter.workers]

    reference = program(None)
    federated = program(2)
    assert federated == reference
    assert reference[:2] == ([[2] * 4, [4] * 4], [8, 16])


# ----- transports and start methods ------------------------------------------------------------------


def test_the_tcp_transport_on_loopback_sends_large_values_inline():
    env = Environment(federates=Federation(2, transport="tcp"))
    driver = env.create(fp.Commander, "driver", 4)
    hosts = env.bank(fp.Host, 4, "host", fp.make_worker)
    env.connect(driver.out, hosts.port("inp"), broadcast=True)
    env.connect(hosts.port("out"), driver.replies)
    env.start()
    try:
        assert env.federation.address.startswith("tcp:127.0.0.1:")
        assert env.federation.pool is None  # between hosts: no shared memory
        payload = np.arange(300_000, dtype=np.int64)
        assert fp.round_(env, driver, "copy", payload) == [(i, 299_999, False) for i in range(4)]
    finally:
        env.stop()


def test_federates_started_as_python_m_processes():
    reference = fp.delayed_broadcast(workers=1, rounds=2)
    assert fp.delayed_broadcast(federates=Federation(2, start_method="command"), rounds=2) == reference


# ----- mistakes ----------------------------------------------------------------------------------


class Local(Reactor):
    """Defined in a function's scope below: cannot be built in a federate."""


def test_mistakes_are_reported_naming_the_reactor_and_leave_nothing_running():
    env = Environment(federates=2)
    with pytest.raises(AssemblyError, match=r"worker: to run in a federate, its class .* picklable"):
        env.bank(fp.Host, 2, "worker", lambda i: None)

    env = Environment(federates=2)
    with pytest.raises(ReactorError, match=r"building host\[1\] in federate 1 failed: ValueError: worker 1"):
        env.bank(fp.Host, 2, "host", fp.fragile_worker)

    env = Environment(federates=Federation(2, placement={"driver": 0}))
    with pytest.raises(
        ReactorError, match=r"driver\.command: a physical action must be in the RTI's process"
    ):
        env.create(fp.Commander, "driver", 1)

    with pytest.raises(ReactorError, match=r"placement of host\[1\]: 5 is not a federate in 0\.\.1"):
        Environment(federates=Federation(2, placement={"host": [0, 5]})).bank(
            fp.Host, 2, "host", fp.make_worker
        )

    env = Environment(federates=2)
    a = env.bank(fp.Mapper, 2, "a")
    b = env.bank(fp.Mapper, 2, "b")
    env.connect(a.port("result"), b.port("params"))
    env.connect(b.port("result"), a.port("params"))
    with pytest.raises(CycleError, match=r"zero-delay cycle: (a|b)\[0\]\.compute -> (b|a)\[0\]\.compute"):
        env.run()


def test_an_abandoned_federated_program_releases_its_processes_on_close():
    with Environment(federates=2) as env:
        env.bank(fp.Mapper, 4, "mapper")
        assert len(env.federation.processes) == 2
        assert all(p.alive() for p in env.federation.processes.values())
    assert not any(p.alive() for p in env.federation.processes.values())
    assert shm.leftovers(env.federation.prefix) == []
