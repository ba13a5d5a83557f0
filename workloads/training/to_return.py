"""Training that learns: wall time until the seed's dataflow has trained a policy to a target return.

The pipeline of ``workloads.training.q_learning`` (rollouts -> replay -> learner -> weights back), with the
Double DQN recipe of ``workloads.training.recipes``, runs round after round until the mean return of the last
20 finished episodes reaches the target (CartPole-v1: 475 in ``quick``; 50 in ``smoke``). Two graph
variants (``backends.base.PipelineSpec``): ``sync`` (round r's rollouts use the weights of round
r-1's update) and ``pipelined`` (the update runs beside the next rollouts, on weights one round
older). Every backend runs the same graph of a variant, so with one seed the curve, the round of
arrival and the final weights' digest are identical on every backend; only the time differs.

``time_to_return_s`` is the wall time of the rounds up to and including the one whose report first
shows the target (start-up is ``startup_s``, apart; there is no warm-up, since dropping rounds would
change the run: the rounds before learning starts, at most the first few, are the cheap ones). A
pipelined round's report is its learner's, which trained on the previous round's batches, so it
shows the episodes up to that round: arrival is seen one round late (under 1% of the rounds to 475).

The budget (``max_env_steps``) bounds the work: only the whole rounds that fit in it run
(``Recipe.max_rounds``), so an ok row never reports more env steps than the budget. A run that misses
the target within its budget (saying how many env steps it did; none when one round is larger than
the budget), or whose weights go NaN or infinite, is an error (``MeasurementFailed``) whose curve is
kept.
"""

from __future__ import annotations

import collections
import functools
import math
import time
from typing import ClassVar

from backends.base import PIPELINE_VARIANTS, Backend, PipelineSpec
from workloads.base import (
    SERIES_PARAMETERS,
    BadOption,
    Measurement,
    MeasurementFailed,
    Objective,
    Parameter,
    Params,
    Workload,
    work_of,
)
from workloads.training import recipes
from workloads.training.pipeline_workers import RoundReport
from workloads.training.q_learning import STAGE_BYTES

POINTS = {
    "smoke": [{"env_id": "CartPole-v1", "workers": 4, "seed": 0, "target": 50.0}],
    "quick": [{"env_id": "CartPole-v1", "workers": 16, "seed": 0, "target": 475.0}],
    "paper": [{"env_id": "CartPole-v1", "workers": 16, "seed": s, "target": 475.0} for s in range(4)],
}
"""Grid points per profile, each run in both variants: ``quick`` one seed, ``paper`` three more."""
BUDGET_ENV_STEPS = {"smoke": 20_000, "quick": 300_000, "paper": 300_000}
"""Env steps a run may take before it counts as failed (the recipe reached 475 within 195k on 16 of
16 runs tried, seeds 0-7 in both variants; 50 within 4.1k with 4 workers)."""
CURVE_POINTS = 100
"""About this many points of a budget's curve are recorded (every ceil(rounds / 100)-th round, and
the round of arrival), which keeps a run's CSV small while the figures stay smooth."""


class TrainingDiverged(MeasurementFailed):
    """The learner's weights or loss became NaN or infinite."""


class TargetNotReached(MeasurementFailed):
    """The budget ran out before the mean return reached the target."""


def pipeline_spec(recipe: recipes.Recipe, variant: str) -> PipelineSpec:
    """The graph of one cell; picklable, since Ray builds each stage inside its actor."""
    return PipelineSpec(
        rollout=functools.partial(recipes.rollout, recipe),
        n_rollouts=recipe.workers,
        replay=functools.partial(recipes.replay, recipe),
        learner=functools.partial(recipes.learner, recipe),
        variant=variant,
    )


class TrainingReturn(Workload):
    name = "training-return"
    objectives = (Objective("time_to_return_s"), Objective("round_ms"))
    gated = True
    figure_module = "harness.figures.training"
    report_module = "harness.report.training"
    report_order = 41
    suite = "training-return"
    also_in = ("training",)
    description = (
        "Double DQN on CartPole-v1 until the mean of the last 20 episodes reaches the target, "
        "variants sync and pipelined (16 rollouts x 16 steps, 64 gradient steps per round)"
    )
    operations = frozenset({"pipeline"})
    repeats: ClassVar[dict[str, int]] = {"smoke": 1, "quick": 2, "paper": 3}
    options = ("variant", *recipes.OPTIONS)
    parameters = (
        Parameter("variant", str, "sync, or pipelined (the learner overlaps the next rollouts)"),
        *(Parameter(name, kind, "a recipe field") for name, (kind, _, _) in recipes.OPTIONS.items()),
        *(p for p in SERIES_PARAMETERS if p.name in ("round", "env_steps")),
    )
    metrics = (
        ("time_to_return_s", "s"),
        ("rounds_to_return", "rounds"),
        ("env_steps_to_return", "steps"),
        ("grad_steps_to_return", "steps"),
        ("round_ms", "ms"),
        ("rollout_ms", "ms"),
        ("learn_ms", "ms"),
    )

    def grid(self, profile: str) -> list[Params]:
        return [{**point, "variant": variant} for point in POINTS[profile] for variant in PIPELINE_VARIANTS]

    def with_options(self, params: Params, options: dict[str, str]) -> Params:
        updated = dict(params)
        for name, text in options.items():
            if name == "variant":
                if text not in PIPELINE_VARIANTS:
                    raise BadOption(f"variant {text!r}; choose from {', '.join(PIPELINE_VARIANTS)}")
                updated[name] = text
            else:
                updated[name] = recipes.parse_option(name, text)
        return updated

    def recipe(self, params: Params, profile: str) -> recipes.Recipe:
        budget = {} if "max_env_steps" in params else {"max_env_steps": BUDGET_ENV_STEPS[profile]}
        return recipes.recipe_for(params, **budget)

    def n_workers(self, params: Params) -> int:
        return int(params["workers"])

    def start(self, backend: Backend, params: Params) -> bool:
        # The stages do not depend on the budget (only ``measure`` does), so the default one serves.
        backend.start_pipeline(pipeline_spec(recipes.recipe_for(params), params["variant"]))
        return True

    def peak_memory_bytes(self, params: Params, backend: type[Backend]) -> int:
        # every rollout worker, the replay and the learner: their state and the backend's overhead
        return (int(params["workers"]) + 2) * (STAGE_BYTES + backend.worker_memory_bytes)

    def measure(self, backend: Backend, params: Params, profile: str) -> Measurement:
        recipe = self.recipe(params, profile)
        window: collections.deque[float] = collections.deque(maxlen=recipe.window)
        m = Measurement()
        missed = (
            f"did not reach a mean return of {recipe.target:g} over the last {recipe.window} episodes "
            f"within {recipe.max_env_steps} env steps"
        )
        if recipe.max_rounds == 0:
            raise TargetNotReached(
                f"{missed}: a round takes {recipe.env_steps_per_round} ({recipe.workers} rollouts x "
                f"{recipe.steps_per_round} steps), so none was run (0 env steps done)",
                m,
            )
        stride = max(1, math.ceil(recipe.max_rounds / CURVE_POINTS))
        elapsed = rollout = learn = 0.0
        best = -math.inf
        for number in range(1, recipe.max_rounds + 1):
            started = time.perf_counter()
            report = backend.pipeline_round()
            elapsed += time.perf_counter() - started
            m.rounds = number
            rollout += report.rollout_s
            learn += report.learn_s
            if not report.finite:
                raise TrainingDiverged(
                    f"diverged at round {number}: NaN or infinite weights or loss after "
                    f"{report.grad_steps} gradient steps",
                    m,
                )
            window.extend(report.episode_returns)
            mean = math.fsum(window) / len(window) if window else math.nan
            reached = len(window) == recipe.window and mean >= recipe.target
            if reached or number % stride == 0:
                _curve_point(m, number, report, elapsed, mean)
            if len(window) == recipe.window:
                best = max(best, mean)
            if reached:
                m.add("time_to_return_s", elapsed, "s")
                m.add("rounds_to_return", number, "rounds")
                m.add("env_steps_to_return", report.env_steps, "steps")
                m.add("grad_steps_to_return", report.grad_steps, "steps")
                m.add("round_ms", elapsed / number * 1e3, "ms")
                m.add("rollout_ms", rollout / number * 1e3, "ms")
                m.add("learn_ms", learn / number * 1e3, "ms")
                m.extra["result_digest"] = report.weights_digest
                # the whole run's, as the replay and the learner counted them: its length is its result
                m.work = work_of(env_steps=report.env_steps, grad_steps=report.grad_steps)
                return m
        shown = f"{best:.1f}" if math.isfinite(best) else "none"
        done = m.rounds * recipe.env_steps_per_round
        raise TargetNotReached(f"{missed} ({done} env steps done in {m.rounds} rounds; best {shown})", m)


def _curve_point(m: Measurement, number: int, report: RoundReport, elapsed: float, mean: float) -> None:
    """One point of the learning curve, placed by round and by the env steps behind its episodes."""
    at = {"round": number, "env_steps": report.env_steps}
    m.add_point(at, "elapsed_s", elapsed, "s")
    if math.isfinite(report.loss):
        m.add_point(at, "loss", report.loss, "1")
    if math.isfinite(mean):
        m.add_point(at, "episode_return", mean, "1")
