"""Worker groups and the training pipeline as xronos programs, driven one logical tag per operation.

xronos runs a program inside ``execute()`` until no event is left, and a ``PhysicalEvent`` (the way
to inject work from outside) silently turns fast mode off. So the program drives itself: a driver
reactor's programmable timer fires a tag, its reaction takes the next command from a queue (waiting
for the harness, which runs on another thread), broadcasts it, and the reaction that gathers the
replies hands them back through a second queue and schedules the next tag. ``execute()`` runs on a
thread of its own; the harness thread only puts commands and takes results. The two queue handoffs
per operation are the price of driving xronos from outside; they are inside the measured round.

Reactions of one reactor run in declaration order: a reaction that gathers what another reaction of
the same reactor caused must be declared after it (else validation reports a cycle); the rollouts'
``receive_weights`` is declared after ``collect`` so that, within one tag, they collect with the old
weights and then take the learner's new ones.

Rounds are ``TAG_STEP`` apart in logical time (the gather schedules the next tag that far ahead), so
the pipelined variant's ``replay.minibatch -> learner.minibatch`` is a connection delayed by
``TAG_STEP``: last round's minibatch arrives with this round's command, and the learner reacts to the
command as the rollouts do. xronos runs the reactions on one thread, so the two stages do not overlap
here; the program is the same as the in-house runtime's.
"""

from __future__ import annotations

import datetime
import functools
import queue
import signal
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from backends.base import WorkerFailed
from backends.xronos.micro import _new_environment, _require_xronos

TAG_STEP = datetime.timedelta(microseconds=1)
STOP = object()
"""The command that ends the program: the driver does not schedule another tag."""
POLL_S = 0.5


class _Failure:
    """A worker's exception carried back to the harness thread as a result."""

    def __init__(self, error: BaseException):
        self.error = error


def _guarded(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as error:
        return _Failure(error)


def _learn(worker: Any, minibatch: Any, weights: Any, report: Any) -> None:
    """The learner's update, its outputs set (or the upstream or its own failure sent as the report)."""
    outcome = minibatch if isinstance(minibatch, _Failure) else _guarded(lambda: worker.update(minibatch))
    if isinstance(outcome, _Failure):
        report.set(outcome)
        return
    weights.set(outcome[0])
    report.set(outcome[1])


@functools.cache
def _classes() -> SimpleNamespace:
    xronos = _require_xronos()
    from xronos import experimental as xe

    class Driver(xronos.Reactor):  # type: ignore[misc, valid-type]
        """Fires one tag per command; ``gather`` returns the replies and schedules the next tag."""

        out = xronos.OutputPortDeclaration[object]()
        tick = xronos.ProgrammableTimerDeclaration[object]()

        def __init__(
            self,
            width: int,
            commands: queue.SimpleQueue,
            results: queue.SimpleQueue,
            running: threading.Event,
        ):
            super().__init__()
            self.commands, self.results, self.running = commands, results, running
            self.ins = [xe.InputPort[object](f"in{i}", self) for i in range(width)]

        @xronos.reaction
        def on_startup(self, ctx: Any) -> Callable[[], None]:
            ctx.add_trigger(self.startup)
            first = ctx.add_effect(self.tick)
            running = self.running

            def handler() -> None:
                running.set()
                first.schedule(None)

            return handler

        @xronos.reaction
        def dispatch(self, ctx: Any) -> Callable[[], None]:
            ctx.add_trigger(self.tick)
            out = ctx.add_effect(self.out)
            commands = self.commands

            def handler() -> None:
                command = commands.get()
                if command is not STOP:
                    out.set(command)

            return handler

        @xronos.reaction
        def gather(self, ctx: Any) -> Callable[[], None]:
            trigs = [ctx.add_trigger(port) for port in self.ins]
            again = ctx.add_effect(self.tick)
            results = self.results

            def handler() -> None:
                results.put([t.get() for t in trigs])
                again.schedule(None, TAG_STEP)

            return handler

    class Host(xronos.Reactor):  # type: ignore[misc, valid-type]
        """Owns one worker, built inside the reactor, and runs the broadcast method on it."""

        inp = xronos.InputPortDeclaration[object]()
        out = xronos.OutputPortDeclaration[object]()

        def __init__(self, factory: Callable[..., Any], index: int):
            super().__init__()
            self.worker = factory(index)

        @xronos.reaction
        def call(self, ctx: Any) -> Callable[[], None]:
            inp = ctx.add_trigger(self.inp)
            out = ctx.add_effect(self.out)
            worker = self.worker

            def handler() -> None:
                method, arg = inp.get()
                out.set(_guarded(lambda: getattr(worker, method)(arg)))

            return handler

    class Rollout(xronos.Reactor):  # type: ignore[misc, valid-type]
        go = xronos.InputPortDeclaration[object]()
        weights = xronos.InputPortDeclaration[object]()
        batch = xronos.OutputPortDeclaration[object]()

        def __init__(self, factory: Callable[[int], Any], index: int):
            super().__init__()
            self.worker = factory(index)
            self.current: Any = None

        @xronos.reaction
        def collect(self, ctx: Any) -> Callable[[], None]:
            ctx.add_trigger(self.go)
            batch = ctx.add_effect(self.batch)
            return lambda: batch.set(_guarded(lambda: self.worker.collect(self.current)))

        @xronos.reaction
        def receive_weights(self, ctx: Any) -> Callable[[], None]:
            weights = ctx.add_trigger(self.weights)

            def handler() -> None:
                self.current = weights.get()

            return handler

    class Replay(xronos.Reactor):  # type: ignore[misc, valid-type]
        minibatch = xronos.OutputPortDeclaration[object]()

        def __init__(self, factory: Callable[[], Any], width: int):
            super().__init__()
            self.worker = factory()
            self.ins = [xe.InputPort[object](f"batch{i}", self) for i in range(width)]

        @xronos.reaction
        def sample(self, ctx: Any) -> Callable[[], None]:
            trigs = [ctx.add_trigger(port) for port in self.ins]
            minibatch = ctx.add_effect(self.minibatch)

            def handler() -> None:
                batches = [t.get() for t in trigs]
                failed = next((b for b in batches if isinstance(b, _Failure)), None)
                minibatch.set(failed or _guarded(lambda: self.worker.store_and_sample(batches)))

            return handler

    class Learner(xronos.Reactor):  # type: ignore[misc, valid-type]
        minibatch = xronos.InputPortDeclaration[object]()
        weights = xronos.OutputPortDeclaration[object]()
        report = xronos.OutputPortDeclaration[object]()

        def __init__(self, factory: Callable[[], Any]):
            super().__init__()
            self.worker = factory()

        @xronos.reaction
        def update(self, ctx: Any) -> Callable[[], None]:
            minibatch = ctx.add_trigger(self.minibatch)
            weights = ctx.add_effect(self.weights)
            report = ctx.add_effect(self.report)

            def handler() -> None:
                _learn(self.worker, minibatch.get(), weights, report)

            return handler

    class PipelinedLearner(xronos.Reactor):  # type: ignore[misc, valid-type]
        """Reacts to the round's command; last round's minibatch (delayed) is absent in round 1."""

        go = xronos.InputPortDeclaration[object]()
        minibatch = xronos.InputPortDeclaration[object]()
        weights = xronos.OutputPortDeclaration[object]()
        report = xronos.OutputPortDeclaration[object]()

        def __init__(self, factory: Callable[[], Any]):
            super().__init__()
            self.worker = factory()

        @xronos.reaction
        def update(self, ctx: Any) -> Callable[[], None]:
            go = ctx.add_trigger(self.go)
            minibatch = ctx.add_trigger(self.minibatch)
            weights = ctx.add_effect(self.weights)
            report = ctx.add_effect(self.report)

            def handler() -> None:
                if not go.is_present():  # the last round's minibatch arriving after the last command
                    return
                _learn(self.worker, minibatch.get() if minibatch.is_present() else None, weights, report)

            return handler

    return SimpleNamespace(
        Driver=Driver,
        Host=Host,
        Rollout=Rollout,
        Replay=Replay,
        Learner=Learner,
        PipelinedLearner=PipelinedLearner,
    )


class DrivenProgram:
    """A xronos program running on its own thread, one tag per ``round(command)``."""

    def __init__(self) -> None:
        self.xronos = _require_xronos()
        self.env = _new_environment(self.xronos)
        self.commands: queue.SimpleQueue = queue.SimpleQueue()
        self.results: queue.SimpleQueue = queue.SimpleQueue()
        self.running = threading.Event()
        self._thread: threading.Thread | None = None
        self._crash: BaseException | None = None

    def worker_group(self, factory: Callable[..., Any], n_workers: int) -> None:
        cls = _classes()
        driver = self.env.create_reactor(
            "driver", cls.Driver, n_workers, self.commands, self.results, self.running
        )
        for index in range(n_workers):
            host = self.env.create_reactor(f"host{index}", cls.Host, factory, index)
            self.env.connect(driver.out, host.inp)
            self.env.connect(host.out, driver.ins[index])

    def pipeline(self, spec: Any) -> None:
        cls = _classes()
        driver = self.env.create_reactor("driver", cls.Driver, 1, self.commands, self.results, self.running)
        replay = self.env.create_reactor("replay", cls.Replay, spec.replay, spec.n_rollouts)
        learner_cls = cls.PipelinedLearner if spec.pipelined else cls.Learner
        learner = self.env.create_reactor("learner", learner_cls, spec.learner)
        for index in range(spec.n_rollouts):
            rollout = self.env.create_reactor(f"rollout{index}", cls.Rollout, spec.rollout, index)
            self.env.connect(driver.out, rollout.go)
            self.env.connect(rollout.batch, replay.ins[index])
            self.env.connect(learner.weights, rollout.weights)
        if spec.pipelined:
            self.env.connect(driver.out, learner.go)
            self.env.connect(replay.minibatch, learner.minibatch, delay=TAG_STEP)
        else:
            self.env.connect(replay.minibatch, learner.minibatch)
        self.env.connect(learner.report, driver.ins[0])

    def start(self) -> None:
        """Starts ``execute()`` and returns once the program runs.

        ``execute()`` resets SIGINT to the default action (the process would die on Ctrl-C instead of
        the harness recording an interrupted cell), so the handler in place before is put back once
        the program's startup reaction has run.
        """
        in_main = threading.current_thread() is threading.main_thread()
        sigint = signal.getsignal(signal.SIGINT) if in_main else None
        self._thread = threading.Thread(target=self._execute, name="xronos-execute", daemon=True)
        self._thread.start()
        while not self.running.wait(POLL_S):
            if not self._thread.is_alive():
                raise RuntimeError(f"the xronos program did not start: {self._crash!r}") from self._crash
        if sigint is not None:
            signal.signal(signal.SIGINT, sigint)

    def _execute(self) -> None:
        try:
            self.env.execute()
        except BaseException as error:
            self._crash = error

    def round(self, command: Any, workers: bool = True) -> list[Any]:
        """Runs one tag with ``command`` broadcast; returns the gathered values in worker order.

        A failure among them is raised: as ``WorkerFailed`` naming the worker when the values are a
        worker group's replies, as the stage's own error when it is the pipeline's one report."""
        self.commands.put(command)
        while True:
            try:
                values = self.results.get(timeout=POLL_S)
                break
            except queue.Empty:
                if self._thread is None or not self._thread.is_alive():
                    raise RuntimeError(f"the xronos program stopped: {self._crash!r}") from self._crash
        for index, value in enumerate(values):
            if isinstance(value, _Failure):
                if workers:
                    raise WorkerFailed(index, value.error) from value.error
                raise value.error
        return values

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self.commands.put(STOP)
            thread.join(timeout=30)
