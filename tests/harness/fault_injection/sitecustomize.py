"""Faults injected into a real CLI run from outside the product code
(tests/harness/cells/test_reliability.py).

A test prepends this folder to PYTHONPATH; every Python process of the run then imports this module at
start-up (the harness, each cell, Ray's daemons and workers: they all inherit the environment), and
the variables below decide what it changes in that process. Nothing happens when none is set.

- ``HARNESS_FAULT_LOG``: a file each process appends its pid and command line to (proves the hooks ran)
- ``HARNESS_FAULT_RAY_CALL_DELAY_S``: a Ray worker actor sleeps this long before each ``call``
- ``HARNESS_FAULT_REACTOR_CALL_DELAY_S``: a reactor host reaction sleeps this long before each call
- ``HARNESS_FAULT_REACTOR_FAIL_AT``: the Nth reactor host reaction of a process raises ``RuntimeError``
- ``HARNESS_FAULT_DASK_CALL_DELAY_S``: a Dask actor (the dask plugin's ``Host``) sleeps this long before
  each ``call``
- ``HARNESS_FAULT_DASK_FAIL_AT``: the Nth ``call`` of a Dask actor in a worker process raises
- ``HARNESS_FAULT_DASK_CALL_MARK``: a file a Dask actor creates as its ``call`` starts (a test that kills a
  worker mid-round waits for it: on a busy machine, no fixed sleep tells when the rounds have begun)
- ``HARNESS_FAULT_AVAILABLE_BYTES``: ``psutil.virtual_memory().available`` reports this many bytes
- ``HARNESS_FAULT_NONFINITE_METRIC``: a workload that measures this metric records ``inf`` instead
- ``HARNESS_FAULT_REACTOR_ROLLOUT_DELAY_S``: a reactor pipeline's rollout reaction sleeps this long
- ``HARNESS_FAULT_RESULTS_STALL``: ``CELL:ROW``, the harness stalls while it writes the CELL-th cell's
  rows to its results file, as it turns that cell's ROW-th row into text, after creating the file
  ``HARNESS_FAULT_RESULTS_STALL_MARK``: a test that waits for the file kills it inside that write
- ``HARNESS_FAULT_REACTOR_EXTRA_WORK``: in a process where the ``reactor`` backend starts, its workers do
  one unit of work more than asked, and say so: an env worker steps once more per round, an agent
  acts twice per call, a rollout collects one step more per round
- ``HARNESS_FAULT_REACTOR_REVERSED``: in a process where the ``reactor`` backend starts, its results
  come back in reverse worker order (``call_all``), and its replay stores the rollouts' batches in
  reverse order: the same work, other results
"""

from __future__ import annotations

import functools
import itertools
import os
import threading
import time

FAULT_MESSAGE = "injected fault in reactor call"
STALL_S = 600
"""How long a stalled write waits for the test's kill (bounded, so that a test that dies first leaves
no process hanging for ever)."""


def _log_start() -> None:
    with open("/proc/self/cmdline", "rb") as handle:
        cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    with open(os.environ["HARNESS_FAULT_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {cmdline}\n")


def _delay_ray_calls(seconds: float) -> None:
    from backends.ray import backend as ray_backend

    original = ray_backend._Host.call

    @functools.wraps(original)
    def call(self, method, arg):
        time.sleep(seconds)
        return original(self, method, arg)

    ray_backend._Host.call = call


def _patch_reactor_calls(seconds: float, fail_at: int) -> None:
    from backends import reactor_backend

    original = reactor_backend._Host.call
    counter = itertools.count(1)
    lock = threading.Lock()

    @functools.wraps(original)
    def call(self):
        with lock:
            number = next(counter)
        if number == fail_at:
            raise RuntimeError(f"{FAULT_MESSAGE} #{number}")
        time.sleep(seconds)
        return original(self)

    reactor_backend._Host.call = call


def _delay_reactor_rollouts(seconds: float) -> None:
    from backends import reactor_backend

    original = reactor_backend._Rollout.collect

    @functools.wraps(original)
    def collect(self):
        time.sleep(seconds)
        return original(self)

    reactor_backend._Rollout.collect = collect


def _patch_dask_calls(seconds: float, fail_at: int, mark: str) -> None:
    from actor_reactor_bench_dask import backend

    original = backend.Host.call
    counter = itertools.count(1)

    @functools.wraps(original)
    def call(self, method, arg):
        if mark:
            with open(mark, "a"):
                pass
        if next(counter) == fail_at:
            raise RuntimeError(f"{FAULT_MESSAGE} (dask actor)")
        time.sleep(seconds)
        return original(self, method, arg)

    backend.Host.call = call


def _fake_available_memory(available: int) -> None:
    import psutil

    original = psutil.virtual_memory

    @functools.wraps(original)
    def virtual_memory():
        return original()._replace(available=available)

    psutil.virtual_memory = virtual_memory


def _nonfinite_metric(name: str) -> None:
    from workloads import base

    original = base.Measurement.add

    @functools.wraps(original)
    def add(self, metric, value, unit):
        return original(self, metric, float("inf") if metric == name else value, unit)

    base.Measurement.add = add


def _stall_results_write(where: str, mark: str) -> None:
    """Stalls inside ``ResultWriter.write`` of one cell at one row: patched where every value of a row
    becomes text (``results._cell_text``), so that the stall is in the middle of that cell's rows
    whichever way the writer hands them to the file."""
    from harness.results import writer as results

    cell, row = (int(part) for part in where.split(":"))
    calls = itertools.count(1)
    state = {"armed": False, "values": 0, "stall_at": 0}
    write, cell_text = results.ResultWriter.write, results._cell_text

    @functools.wraps(write)
    def counted_write(self, rows):
        state["armed"], state["values"] = next(calls) == cell, 0
        state["stall_at"] = (row - 1) * len(self.columns) + 1  # the first value of that row
        return write(self, rows)

    @functools.wraps(cell_text)
    def stalling_cell_text(value):
        if state["armed"]:
            state["values"] += 1
            if state["values"] == state["stall_at"]:
                with open(mark, "w"):
                    pass
                time.sleep(STALL_S)
        return cell_text(value)

    results.ResultWriter.write = counted_write
    results._cell_text = stalling_cell_text


def _extra_work() -> None:
    """Patches the worker classes of this process (called when its reactor backend starts)."""
    from workloads import envs
    from workloads.multi_agent import workload as multi_agent
    from workloads.training import pipeline_workers

    run = envs.EnvWorker._run

    @functools.wraps(run)
    def one_more_step(self, steps, observe):
        return run(self, steps + 1, observe)

    act = multi_agent.AgentPolicy.act

    @functools.wraps(act)
    def act_twice(self, joint_obs):
        act(self, joint_obs)
        return act(self, joint_obs)

    build_rollout = pipeline_workers.RolloutWorker.__init__

    @functools.wraps(build_rollout)
    def collect_one_more(self, *args, **kwargs):
        build_rollout(self, *args, **kwargs)
        self.steps += 1

    envs.EnvWorker._run = one_more_step
    multi_agent.AgentPolicy.act = act_twice
    pipeline_workers.RolloutWorker.__init__ = collect_one_more


def _reversed() -> None:
    """Patches this process's reactor backend and replay buffer (called when its reactor backend starts)."""
    from backends import reactor_backend
    from workloads.training import pipeline_workers

    call_all = reactor_backend.ReactorBackend.call_all

    @functools.wraps(call_all)
    def in_reverse(self, method, arg=None):
        return call_all(self, method, arg)[::-1]

    store_and_sample = pipeline_workers.ReplayBuffer.store_and_sample

    @functools.wraps(store_and_sample)
    def store_in_reverse(self, batches):
        return store_and_sample(self, batches[::-1])

    reactor_backend.ReactorBackend.call_all = in_reverse
    pipeline_workers.ReplayBuffer.store_and_sample = store_in_reverse


def _when_the_reactor_starts(patch) -> None:
    """Runs ``patch`` once, when a reactor backend of this process starts (a group or a pipeline), so
    that only the reactor's cells are changed: every cell is a process of its own."""
    from backends import reactor_backend

    cls = reactor_backend.ReactorBackend
    patched = []

    def wrap(original):
        @functools.wraps(original)
        def start(self, *args, **kwargs):
            if not patched:
                patch()
                patched.append(True)
            return original(self, *args, **kwargs)

        return start

    cls.start = wrap(cls.start)
    cls.start_pipeline = wrap(cls.start_pipeline)


def _install() -> None:
    env = os.environ
    if env.get("HARNESS_FAULT_LOG"):
        _log_start()
    if env.get("HARNESS_FAULT_RAY_CALL_DELAY_S"):
        _delay_ray_calls(float(env["HARNESS_FAULT_RAY_CALL_DELAY_S"]))
    if env.get("HARNESS_FAULT_REACTOR_CALL_DELAY_S") or env.get("HARNESS_FAULT_REACTOR_FAIL_AT"):
        _patch_reactor_calls(
            float(env.get("HARNESS_FAULT_REACTOR_CALL_DELAY_S") or 0),
            int(env.get("HARNESS_FAULT_REACTOR_FAIL_AT") or 0),
        )
    if env.get("HARNESS_FAULT_REACTOR_ROLLOUT_DELAY_S"):
        _delay_reactor_rollouts(float(env["HARNESS_FAULT_REACTOR_ROLLOUT_DELAY_S"]))
    if env.get("HARNESS_FAULT_DASK_CALL_DELAY_S") or env.get("HARNESS_FAULT_DASK_FAIL_AT"):
        _patch_dask_calls(
            float(env.get("HARNESS_FAULT_DASK_CALL_DELAY_S") or 0),
            int(env.get("HARNESS_FAULT_DASK_FAIL_AT") or 0),
            env.get("HARNESS_FAULT_DASK_CALL_MARK", ""),
        )
    if env.get("HARNESS_FAULT_AVAILABLE_BYTES"):
        _fake_available_memory(int(env["HARNESS_FAULT_AVAILABLE_BYTES"]))
    if env.get("HARNESS_FAULT_NONFINITE_METRIC"):
        _nonfinite_metric(env["HARNESS_FAULT_NONFINITE_METRIC"])
    if env.get("HARNESS_FAULT_RESULTS_STALL"):
        _stall_results_write(env["HARNESS_FAULT_RESULTS_STALL"], env["HARNESS_FAULT_RESULTS_STALL_MARK"])
    if env.get("HARNESS_FAULT_REACTOR_EXTRA_WORK"):
        _when_the_reactor_starts(_extra_work)
    if env.get("HARNESS_FAULT_REACTOR_REVERSED"):
        _when_the_reactor_starts(_reversed)


_install()
