"""The RTI's logic and the federate graph, without processes: which grants are sent when, how a
zero-delay cycle is processed jointly, how a stop is agreed, and when a federation starves."""

from __future__ import annotations

from backends.reactor import msec
from backends.reactor.federation import protocol as P
from backends.reactor.federation.graph import FederateGraph
from backends.reactor.federation.rti import RTI
from backends.reactor.federation.tags import FOREVER, compose, delay_offset, delayed, latest_before


def test_tag_offsets_of_delays_compose_like_lf_after_delays():
    assert delay_offset(None) == (0, 0)
    assert delay_offset(0) == (0, 1)
    assert delay_offset(msec(2)) == (msec(2), 0)
    assert delayed((msec(1), 3), delay_offset(None)) == (msec(1), 3)
    assert delayed((msec(1), 3), delay_offset(0)) == (msec(1), 4)
    assert delayed((msec(1), 3), delay_offset(msec(2))) == (msec(3), 0)  # a time delay resets microsteps
    assert compose(delay_offset(0), delay_offset(msec(2))) == (msec(2), 0)
    assert compose(delay_offset(msec(2)), delay_offset(0)) == (msec(2), 1)
    assert latest_before((msec(1), 0)) < (msec(1), 0) == latest_before((msec(1), 1))
    assert delayed(FOREVER, (5, 0)) == FOREVER


def test_groups_are_the_zero_delay_cycles_and_upstream_carries_least_offsets():
    # 0 <-> 1 with zero delay (a cycle), 1 -> 2 zero delay, 2 -> 0 after 1 ms, 3 -> 2 after 0
    graph = FederateGraph(4, [(0, 1, None), (1, 0, None), (1, 2, None), (2, 0, msec(1)), (3, 2, 0)])
    assert sorted(graph.groups) == [[0, 1], [2], [3]]
    cycle = graph.group_of[0]
    assert graph.group_of[1] == cycle and graph.is_cycle_group(cycle)
    assert not graph.is_cycle_group(graph.group_of[2])
    assert dict(graph.upstream[cycle]) == {2: (msec(1), 0), 3: (msec(1), 0)}
    # node 2 hears from the cycle at once, from 3 a microstep later, and from itself via 0 and 1
    assert dict(graph.upstream[graph.group_of[2]]) == {0: (0, 0), 1: (0, 0), 3: (0, 1), 2: (msec(1), 0)}
    assert graph.downstream_groups[3] == sorted([cycle, graph.group_of[2]])


class Recorder:
    def __init__(self):
        self.sent: list = []

    def __call__(self, node, record):
        self.sent.append((node, record))

    def take(self) -> list:
        sent, self.sent = self.sent, []
        return sent


def chain_rti(**kw) -> tuple[RTI, Recorder]:
    """0 -> 1 (zero delay): a source and a sink, each a group of one."""
    sent = Recorder()
    return RTI(FederateGraph(2, [(0, 1, None)]), sent, stop_tag=None, keepalive=False, **kw), sent


def test_a_source_is_granted_forever_and_its_sink_up_to_just_before_the_source_next_event():
    rti, sent = chain_rti()
    rti.report(0, None, (0, 0), 0)
    assert (0, (P.TAG, FOREVER)) in sent.take()
    rti.report(1, None, (0, 0), 0)
    assert sent.take() == []  # the source may still send at (0, 0)
    rti.report(0, (0, 0), (msec(5), 0), 0)
    assert sent.take() == [(1, (P.TAG, latest_before((msec(5), 0))))]


def test_a_message_in_flight_holds_back_grants_until_its_receiver_acknowledges_it():
    rti, sent = chain_rti()
    rti.report(0, None, (0, 0), 0)
    rti.report(1, None, None, 0)
    sent.take()
    rti.message(1, (msec(1), 0))
    rti.report(0, (msec(1), 0), None, 0)  # the source is done: only the message keeps 1 busy
    assert sent.take() == [(1, (P.TAG, FOREVER))]
    rti.report(1, None, None, 0)  # a stale report, written before the message arrived
    assert not rti.idle()  # the message still counts as an event of node 1
    rti.report(1, (msec(1), 0), None, 1)
    assert rti.idle()


def test_the_members_of_a_zero_delay_cycle_get_one_joint_provisional_grant_per_tag():
    sent = Recorder()
    rti = RTI(FederateGraph(2, [(0, 1, None), (1, 0, None)]), sent, stop_tag=None, keepalive=True)
    start = [(0, (P.PTAG, (0, 0))), (1, (P.PTAG, (0, 0)))]
    rti.report(1, None, None, 0)  # node 0 has not reported yet: it may have events at the start tag
    assert sent.take() == start
    rti.report(0, (0, 0), (msec(1), 0), 0)
    assert sent.take() == []  # node 1 is still in the joint tag
    rti.report(1, (0, 0), None, 0)  # no event of its own: it processes the next tag with its partner
    assert sent.take() == [(0, (P.PTAG, (msec(1), 0))), (1, (P.PTAG, (msec(1), 0)))]
    rti.report(1, (msec(1), 0), None, 0)
    rti.report(0, (msec(1), 0), (msec(2), 0), 0)
    assert sent.take() == [(0, (P.PTAG, (msec(2), 0))), (1, (P.PTAG, (msec(2), 0)))]


def test_a_stop_is_agreed_at_the_largest_proposal_and_granted_to_all():
    sent = Recorder()
    rti = RTI(FederateGraph(3, []), sent, stop_tag=(msec(100), 0), keepalive=True)
    rti.request_stop(0, (msec(2), 1))
    assert sorted(sent.take()) == [(1, (P.STOP_REQUEST, (msec(2), 1))), (2, (P.STOP_REQUEST, (msec(2), 1)))]
    rti.stop_reply(1, (msec(2), 1))
    assert sent.take() == []
    rti.stop_reply(2, (msec(7), 1))  # node 2 was already past the requested tag
    granted = [r for r in sent.take() if r[1][0] == P.STOP_GRANTED]
    assert granted == [(n, (P.STOP_GRANTED, (msec(7), 1))) for n in range(3)]
    assert rti.stop_tag == (msec(7), 1)


def test_a_stop_later_than_the_timeout_is_the_timeout():
    sent = Recorder()
    rti = RTI(FederateGraph(2, []), sent, stop_tag=(msec(5), 0), keepalive=True)
    rti.request_stop(0, (msec(9), 1))
    assert sent.take() == [(0, (P.STOP_GRANTED, (msec(5), 0)))]


def test_a_federation_that_runs_out_of_events_stops_at_the_next_microstep_after_the_latest_tag():
    rti, sent = chain_rti()
    rti.allow_starvation = True
    rti.report(0, (msec(3), 0), None, 0)
    rti.report(1, (msec(3), 0), None, 0)
    assert (0, (P.STOP_GRANTED, (msec(3), 1))) in sent.take()
    assert rti.stop_tag == (msec(3), 1)


def test_physical_actions_bound_the_nodes_downstream_by_the_clock():
    now = [(msec(4), 0)]
    sent = Recorder()
    rti = RTI(
        FederateGraph(2, [(0, 1, None)]),
        sent,
        stop_tag=None,
        keepalive=True,
        physical_floor=lambda node: now[0],
        physical_nodes=frozenset({0}),
    )
    rti.report(0, (0, 0), None, 0)
    rti.report(1, None, (msec(10), 0), 0)
    # a physical event could still come at 4 ms: node 1 may go up to just before, not to its 10 ms
    assert sent.take() == [(1, (P.TAG, latest_before((msec(4), 0))))]
    assert rti.physical_waiting()
    now[0] = (msec(11), 0)
    rti.evaluate_all()
    assert sent.take() == [(1, (P.TAG, latest_before((msec(11), 0))))]
