"""The before/after comparison on synthetic rows: verdicts only where the interval allows, rates the
right way round, different work refused, and which side of a same-run ratio moved."""

from harness.analysis.compare import FASTER, NO_CHANGE, SLOWER, compare
from tests.harness.sample_rows import repeats, row
from workloads.base import Objective

TIMES = {"collectives": (Objective("round_ms"),)}


def _scaled(rows, backend, factor, **fields):
    return [{**r, "value": r["value"] * factor, **fields} if r["backend"] == backend else r for r in rows]


def _as_text(rows):
    """Rows as a CSV gives them: every value a string."""
    return [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]


def _by_backend(result):
    return {c.backend: c for c in result.changes}


def test_a_slowed_backend_is_slower_and_the_other_is_no_change():
    before = repeats(3)
    after = _scaled(repeats(3, run_id="r2"), "reactor", 2.0)
    changes = _by_backend(compare(_as_text(before), _as_text(after), TIMES))
    assert changes["reactor"].verdict == SLOWER
    assert (
        changes["reactor"].change.interval == "range (min-max)"
        and 1.9 < changes["reactor"].change.median < 2.1
    )
    assert changes["ray"].verdict == NO_CHANGE
    assert changes["reactor"].slower_than(0.5) and not changes["reactor"].slower_than(1.5)


def test_five_repeats_give_a_bootstrap_interval():
    after = _scaled(repeats(5, run_id="r2"), "ray", 0.5)
    changes = _by_backend(compare(_as_text(repeats(5)), _as_text(after), TIMES))
    assert changes["ray"].change.interval == "95% bootstrap interval" and changes["ray"].verdict == FASTER


def test_an_overlapping_interval_gives_no_verdict_and_min_speed_raises_the_bar():
    before = repeats(3)
    after = _scaled(repeats(3, run_id="r2"), "reactor", 1.005)  # inside the repeats' 2% spread
    assert _by_backend(compare(_as_text(before), _as_text(after), TIMES))["reactor"].verdict == NO_CHANGE
    slower = _scaled(repeats(3, run_id="r2"), "reactor", 1.3)
    assert _by_backend(compare(_as_text(before), _as_text(slower), TIMES))["reactor"].verdict == SLOWER
    judged = compare(_as_text(before), _as_text(slower), TIMES, min_speed=0.5)
    assert _by_backend(judged)["reactor"].verdict == NO_CHANGE


def test_a_rate_going_up_is_faster():
    rates = {"collectives": (Objective("round_ms", higher_is_better=True),)}
    after = _scaled(repeats(3, run_id="r2"), "reactor", 2.0)
    change = _by_backend(compare(_as_text(repeats(3)), _as_text(after), rates))["reactor"]
    assert change.verdict == FASTER and 0.45 < change.change.median < 0.55


def test_different_work_is_refused_and_unshared_points_are_listed():
    before = [*repeats(3, work=100), row(param_n_actors=4, repeat=0, work=1)]
    after = [*repeats(3, run_id="r2", work=200), row(param_n_actors=8, repeat=0, run_id="r2", work=1)]
    result = compare(_as_text(before), _as_text(after), TIMES)
    assert result.changes == []
    assert len(result.refused) == 1 and "different work (before 100, after 200)" in result.refused[0]
    assert [p for p in result.only_before if "n_actors=4" in p] == result.only_before != []
    assert [p for p in result.only_after if "n_actors=8" in p] == result.only_after != []


def test_unequal_work_within_a_run_is_refused():
    after = [{**r, "work": 5 if r["backend"] == "reactor" else 6} for r in repeats(3, run_id="r2")]
    result = compare(_as_text(repeats(3, work=6)), _as_text(after), TIMES)
    assert result.changes == [] and "unequal work within the after run" in result.refused[0]


def test_the_same_column_says_whether_results_were_equal():
    before = repeats(3, work=6, result_digest="d1")
    same = compare(_as_text(before), _as_text(repeats(3, run_id="r2", work=6, result_digest="d1")), TIMES)
    assert {c.same for c in same.changes} == {"work+results"}
    split = [{**r, "result_digest": "d2"} if r["backend"] == "ray" else r
             for r in repeats(3, run_id="r2", work=6, result_digest="d1")]  # fmt: skip
    differ = compare(_as_text(before), _as_text(split), TIMES)
    assert {c.same for c in differ.changes} == {"NO: results differ after"}
    assert {c.same for c in compare(_as_text(repeats(3)), _as_text(repeats(3)), TIMES).changes} == {"work"}


def test_a_same_run_ratio_names_the_side_that_moved():
    after = _scaled(repeats(3, run_id="r2"), "ray", 0.5)  # reactor/ray got worse: ray got faster
    (move,) = compare(_as_text(repeats(3)), _as_text(after), TIMES).ratios
    assert (move.subject, move.reference) == ("reactor", "ray")
    assert move.moved == "ray faster" and move.after > 1.9 * move.before


def test_a_backend_that_failed_in_one_run_is_not_compared():
    after = [{**r, "status": "error", "value": "", "error": "boom"} if r["backend"] == "reactor" else r
             for r in repeats(3, run_id="r2")]  # fmt: skip
    result = compare(_as_text(repeats(3)), _as_text(after), TIMES)
    assert [c.backend for c in result.changes] == ["ray"]
    assert len(result.not_compared) == 1 and "reactor round_ms: error: boom (after)" in result.not_compared[0]
