"""The transport without a federation: frames over a socket pair (small, large, split), values with
out-of-band buffers inline or in shared memory, and the segments' release, reuse and cleanup."""

from __future__ import annotations

import socket
import threading

import numpy as np
import pytest

from backends.reactor.federation import codec, shm
from backends.reactor.federation.shm import Attachments, SegmentPool
from backends.reactor.federation.wire import FrameSocket


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    left, right = FrameSocket(a), FrameSocket(b)
    yield left, right
    left.close()
    right.close()


def receive(frames: FrameSocket, count: int) -> list:
    got: list = []
    while len(got) < count:
        assert frames.wait_readable(5)
        got.extend(frames.read())
    return got


def test_frames_keep_their_order_and_large_buffers_arrive_without_a_pickle_copy(pair):
    left, right = pair
    big = np.arange(3 << 20, dtype=np.uint8)  # larger than the socket buffer: written in pieces
    sender = threading.Thread(
        target=lambda: (
            [left.send([(1, i, "x" * i)]) for i in range(50)]
            + [left.send([(2, codec.encode(big, 1, None, 1024))])]
        )
    )
    sender.start()
    frames = receive(right, 51)
    sender.join()
    assert [f[0][1] for f in frames[:50]] == list(range(50))
    value = codec.decode(frames[50][0][1], None)
    assert np.array_equal(value, big) and not value.flags.writeable


def test_small_arrays_stay_in_the_pickle_and_large_ones_go_to_one_segment_for_all_readers():
    pool = SegmentPool("rftest" + str(id(object()))[-6:], owner=0)
    try:
        small = codec.encode(np.arange(100), 3, pool, codec.DEFAULT_THRESHOLD)
        assert small[1] == () and pool.bytes_written == 0
        big = np.arange(1 << 17, dtype=np.float64)  # 1 MiB
        payload = codec.encode((big, "meta", big[::2].copy()), 3, pool, codec.DEFAULT_THRESHOLD)
        assert [b[0] for b in payload[1]] == ["s", "s"] and pool.segments == 2
        readers = [Attachments() for _ in range(3)]
        values = [codec.decode(payload, r) for r in readers]
        for value in values:
            assert np.array_equal(value[0], big) and value[1] == "meta"
            assert not value[0].flags.writeable
            with pytest.raises(ValueError):
                value[0][0] = 1.0
        kept = values[0][0][10:20]  # reader 0 keeps a view of the first array
        del value, values
        released = [r.sweep() for r in readers]
        assert [sorted(len(v) for v in r.values()) for r in released] == [[1], [2], [2]]
        for r in released:
            for names in r.values():
                pool.release(names)
        again = codec.encode(big[::2].copy(), 1, pool, codec.DEFAULT_THRESHOLD)
        assert pool.segments == 2  # the free one was reused
        assert kept[0] == 10.0  # the kept view still reads its own segment
        del kept
        assert sum(len(v) for v in readers[0].sweep().values()) == 1
        assert again[1][0][2] in {b[2] for b in payload[1]}
    finally:
        pool.close()
    assert shm.leftovers(pool.prefix) == []


def test_sweep_removes_every_segment_of_a_prefix():
    prefix = "rfsweep" + str(id(object()))[-6:]
    pool = SegmentPool(prefix, owner=2)
    pool.put(memoryview(bytes(1 << 16)), 1)
    pool.put(memoryview(bytes(1 << 16)), 1)
    assert len(shm.leftovers(prefix)) == 2
    assert len(shm.sweep(prefix)) == 2
    assert shm.leftovers(prefix) == []
    pool.close()  # the pool's own unlink finds nothing: no error
