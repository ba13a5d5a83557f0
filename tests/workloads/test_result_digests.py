"""Result digests cover what varies, and work is what the workers did (DESIGN.md §6.3).

Controls in the spirit of tests/backends/reactor/test_determinism.py: a digest that cannot tell two runs
apart compares nothing, so each workload's smoke digest must stay the same when the run is repeated
and change when the worker order is permuted or a seed shifted. And a workload's ``work`` must be
counted by whoever did the work: a backend whose workers did more must report more.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import pytest

from backends.base import EnvironmentFactory, PipelineSpec
from backends.sequential import SequentialBackend
from harness.registry import WORKLOADS
from tests.harness.broken_backends import ExtraStepBackend
from workloads.base import work_of, work_per_round
from workloads.envs import env_factory
from workloads.multi_agent import workload as multi_agent
from workloads.training import pipeline_workers, recipes
from workloads.training import q_learning as training
from workloads.training import to_return as training_return


def _measured(workload_name: str, params: dict[str, Any], start: Any, backend: Any = None) -> Any:
    """The workload's smoke measurement on a backend (default: sequential) that ``start`` started."""
    backend = backend or SequentialBackend()
    start(backend)
    try:
        return WORKLOADS[workload_name].measure(backend, params, "smoke")
    finally:
        backend.shutdown()


def _reversed(factory: Any, n: int) -> Any:
    """Builds worker i as the factory's worker n-1-i: the same workers in the other order."""
    return lambda index: factory(n - 1 - index)


def _first_from(first: Any, factory: Any) -> Any:
    """Builds worker 0 with ``first``, the others with ``factory``."""
    return lambda index: (first if index == 0 else factory)(index)


@pytest.mark.parametrize("workload_name", ["gym", "atari"])
def test_the_sampling_digest_changes_with_the_worker_order_and_the_seeds(workload_name):
    workload = WORKLOADS[workload_name]
    (params,) = workload.grid("smoke")
    n, factory = int(params["n_envs"]), workload.factory(params)

    def digest(factory: EnvironmentFactory) -> str:
        return _measured(workload_name, params, lambda b: b.start(factory, n)).extra["result_digest"]

    reference = digest(factory)
    assert digest(workload.factory(params)) == reference  # deterministic
    order = EnvironmentFactory(factory.env_id, factory.seed, _reversed(factory, n))
    assert digest(order) != reference
    assert digest(env_factory(params["env_id"], seed=factory.seed + 1)) != reference


def test_the_multi_agent_digest_changes_with_the_agent_order_and_the_seed(monkeypatch):
    (params,) = WORKLOADS["multi-agent"].grid("smoke")
    n, factory = int(params["n_agents"]), WORKLOADS["multi-agent"].factory(params)

    def digest(factory: Any) -> str:
        return _measured("multi-agent", params, lambda b: b.start(factory, n)).extra["result_digest"]

    def swapped_weights(index: int) -> multi_agent.AgentPolicy:
        """Agent ``index`` with its own row of the observation but the other agent's weights (of 2)."""
        policy = factory(index)
        policy.params = factory(1 - index).params
        return policy

    reference = digest(factory)
    assert digest(factory) == reference
    assert digest(_reversed(factory, n)) != reference
    assert n == 2 and digest(swapped_weights) != reference  # each agent's weights are its own seed's
    monkeypatch.setattr(multi_agent, "SEED", multi_agent.SEED + 1)  # the policies' and the env's
    assert digest(WORKLOADS["multi-agent"].factory(params)) != reference


def test_the_training_digest_changes_with_the_rollout_order_and_the_seed():
    (params,) = WORKLOADS["training"].grid("smoke")
    n = int(params["workers"])
    spec = training.pipeline_spec(params["env_id"], n, int(params["minibatch"]))

    def digest(spec: PipelineSpec) -> str:
        return _measured("training", params, lambda b: b.start_pipeline(spec)).extra["result_digest"]

    def first_env_twice(index: int) -> pipeline_workers.RolloutWorker:
        """Rollout ``index``, whose environment starts as rollout 0's (seeded with its seed)."""
        rollout = spec.rollout(index)
        rollout.obs = pipeline_workers.encode(rollout.env.reset(seed=training.SEED)[0])
        return rollout

    reference = digest(spec)
    assert digest(spec) == reference
    assert digest(dataclasses.replace(spec, rollout=_reversed(spec.rollout, n))) != reference
    shifted = functools.partial(pipeline_workers.RolloutWorker, params["env_id"], training.SEED + 1)
    assert digest(dataclasses.replace(spec, rollout=shifted)) != reference
    # each rollout's environment is seeded on its own: starting them all as rollout 0's changes the run
    assert digest(dataclasses.replace(spec, rollout=first_env_twice)) != reference


def test_the_training_return_digest_changes_with_the_rollout_order_and_the_seed():
    params = next(p for p in WORKLOADS["training-return"].grid("smoke") if p["variant"] == "sync")
    n = int(params["workers"])

    def measured(params: dict[str, Any], order: Any = None) -> Any:
        spec = training_return.pipeline_spec(recipes.recipe_for(params), params["variant"])
        spec = dataclasses.replace(spec, rollout=order(spec.rollout, n)) if order else spec
        return _measured("training-return", params, lambda b: b.start_pipeline(spec))

    reference = measured(params).extra["result_digest"]
    assert measured(params).extra["result_digest"] == reference
    assert measured(params, _reversed).extra["result_digest"] != reference
    assert measured({**params, "seed": params["seed"] + 1}).extra["result_digest"] != reference


def test_work_per_round_is_exact():
    assert work_per_round(30, 15) == 2
    assert work_per_round(31, 15) == "31/15"  # never rounded to 2
    assert work_of(env_steps=200, grad_steps="3/2") == "env_steps=200 grad_steps=3/2"
    with pytest.raises(ValueError):
        work_per_round(1, 0)


def test_sampling_work_is_the_steps_the_workers_report():
    (params,) = WORKLOADS["gym"].grid("smoke")
    n, k = int(params["n_envs"]), int(params["steps_per_round"])
    factory = WORKLOADS["gym"].factory(params)
    assert _measured("gym", params, lambda b: b.start(factory, n)).work == n * k
    extra = _measured("gym", params, lambda b: b.start(factory, n), ExtraStepBackend())
    assert extra.work == n * (k + 1)  # its workers stepped once more per round, and said so


class _OneAgentActsTwice(SequentialBackend):
    """Asks agent 0 for its action twice each step (and uses the second answer)."""

    def call_all(self, method: str, arg: Any = None) -> list[Any]:
        if method == "act":
            self._workers[0].act(arg)
        return super().call_all(method, arg)


def test_multi_agent_work_is_the_agent_steps_the_agents_counted():
    (params,) = WORKLOADS["multi-agent"].grid("smoke")
    n, factory = int(params["n_agents"]), WORKLOADS["multi-agent"].factory(params)
    assert _measured("multi-agent", params, lambda b: b.start(factory, n)).work == n
    twice = _measured("multi-agent", params, lambda b: b.start(factory, n), _OneAgentActsTwice())
    assert twice.work == n + 1


class _TwoUpdates(pipeline_workers.Learner):
    """Takes two gradient steps per round on the same minibatch."""

    def update(self, minibatch: pipeline_workers.Batch) -> Any:
        super().update(minibatch)
        return super().update(minibatch)


def test_training_work_is_what_the_replay_stored_and_the_learner_did():
    (params,) = WORKLOADS["training"].grid("smoke")
    n = int(params["workers"])
    spec = training.pipeline_spec(params["env_id"], n, int(params["minibatch"]))
    steps = pipeline_workers.STEPS_PER_ROUND

    def work(spec: PipelineSpec) -> Any:
        return _measured("training", params, lambda b: b.start_pipeline(spec)).work

    assert work(spec) == work_of(env_steps=n * steps, grad_steps=1)
    longer = functools.partial(
        pipeline_workers.RolloutWorker, params["env_id"], training.SEED, steps=steps + 1
    )
    one_longer = dataclasses.replace(spec, rollout=_first_from(longer, spec.rollout))
    assert work(one_longer) == work_of(env_steps=n * steps + 1, grad_steps=1)
    obs_dim, n_actions = pipeline_workers.env_shape(params["env_id"])
    two = functools.partial(_TwoUpdates, obs_dim, n_actions, training.SEED)
    assert work(dataclasses.replace(spec, learner=two)) == work_of(env_steps=n * steps, grad_steps=2)


def test_training_return_work_is_what_the_run_did_until_its_target():
    params = next(p for p in WORKLOADS["training-return"].grid("smoke") if p["variant"] == "sync")
    recipe = recipes.recipe_for(params)
    spec = training_return.pipeline_spec(recipe, params["variant"])
    m = _measured("training-return", params, lambda b: b.start_pipeline(spec))
    env_steps, grad_steps = m.metrics["env_steps_to_return"][0], m.metrics["grad_steps_to_return"][0]
    assert m.work == work_of(env_steps=int(env_steps), grad_steps=int(grad_steps))
    assert env_steps == m.rounds * recipe.env_steps_per_round  # sync: each report saw its own round
    longer = functools.partial(
        recipes.rollout, dataclasses.replace(recipe, steps_per_round=recipe.steps_per_round + 1)
    )
    one_longer = dataclasses.replace(spec, rollout=_first_from(longer, spec.rollout))
    assert _measured("training-return", params, lambda b: b.start_pipeline(one_longer)).work != m.work
