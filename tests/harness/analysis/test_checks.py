"""``harness.analysis.checks``: which cells did unequal work or got different results, within one run and one
parameter point; ``run``, ``check`` and ``report`` all ask it."""

from __future__ import annotations

from harness.analysis.checks import RESULTS, WORK, mismatches
from tests.harness.sample_rows import row


def _cells(**by_backend: dict) -> list[dict]:
    """Two repeats of one collectives cell per backend, each with the columns given for it."""
    return [row(backend=b, repeat=r, **fields) for b, fields in by_backend.items() for r in range(2)]


def test_equal_work_and_results_are_no_mismatch():
    rows = _cells(ray={"work": 8, "result_digest": "d"}, reactor={"work": 8, "result_digest": "d"})
    assert mismatches(rows, {"ray", "reactor"}) == []


def test_unequal_work_names_each_backend_with_what_it_did():
    rows = _cells(ray={"work": 8}, reactor={"work": 4}, pykka={"work": 8})
    (found,) = mismatches(rows, set())
    assert found.column == WORK and found.run_id == "r1"
    assert found.message == (
        "unequal work at collectives[n_actors=16,object_bytes=1024,variant=copy]: "
        "pykka=['8'], ray=['8'], reactor=['4']"
    )
    assert found.splits("reactor", "ray") and found.splits("pykka", "reactor")
    assert not found.splits("pykka", "ray")  # these two did the same work: their ratio stands
    assert found.involves("ray") and not found.splits("ray", "ray")


def test_repeats_of_one_backend_that_disagree_split_its_every_pair():
    rows = _cells(ray={"work": 8}, reactor={"work": 8})
    rows[-1]["work"] = 9  # reactor's second repeat
    (found,) = mismatches(rows, set())
    assert found.splits("reactor", "reactor") and found.splits("reactor", "ray")
    assert not found.splits("ray", "ray")


def test_digests_are_compared_among_the_backends_asked_by_default_all_of_them():
    rows = _cells(ray={"result_digest": "a"}, reactor={"result_digest": "a"}, other={"result_digest": "b"})
    assert mismatches(rows, {"ray", "reactor"}) == []
    (found,) = mismatches(rows, {"ray", "reactor", "other"})
    assert found.column == RESULTS and found.message.startswith("different results at collectives[")
    # a vector reference seeds and steps the workers' environments exactly: it is a peer, not exempt
    vector = _cells(sequential={"result_digest": "a"}, **{"ale-vector": {"result_digest": "b"}})
    (found,) = mismatches(vector)
    assert found.column == RESULTS and found.involves("ale-vector")


def test_runs_and_points_are_compared_apart():
    one = _cells(ray={"work": 8}, reactor={"work": 8})
    other_run = [{**r, "run_id": "r2", "work": 4} for r in one]  # another run: other sizes may apply
    other_point = [{**r, "param_n_actors": 2, "work": 2} for r in one]
    failed = [{**r, "status": "error", "work": 1} for r in one]  # no ok row: nothing it did is compared
    assert mismatches(one + other_run + other_point + failed, set()) == []
