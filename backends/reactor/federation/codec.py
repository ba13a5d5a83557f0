"""Values on the wire: pickle protocol 5, large buffers out of band, in shared memory when local.

A payload is ``(data, buffers)``: the pickle stream, and one entry per out-of-band buffer, either a
shared-memory reference ``("s", owner, name, size)`` or the buffer itself, which the frame then
carries raw after its body (sockets between hosts). Buffers below the threshold stay in the pickle
stream, where small arrays cost less than any indirection. A value goes to every federate that reads
it at one tag as the same payload, so it is pickled and written to shared memory once.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

from .shm import Attachments, SegmentPool

Payload = tuple[bytes, tuple[Any, ...]]

DEFAULT_THRESHOLD = 64 * 1024
"""Buffers of at least this many bytes go out of band (to shared memory when the transport has it)."""


def encode(value: Any, readers: int, pool: SegmentPool | None, threshold: int) -> Payload:
    """The payload of ``value`` for ``readers`` receiving federates."""
    buffers: list[Any] = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        raw = buffer.raw()
        if raw.nbytes < threshold:
            return True  # in band
        if pool is not None:
            name, size = pool.put(raw, readers)
            buffers.append(("s", pool.owner, name, size))
        else:
            buffers.append(buffer)
        return False

    data = pickle.dumps(value, protocol=5, buffer_callback=out_of_band)
    return data, tuple(buffers)


def decode(payload: Payload, attachments: Attachments | None) -> Any:
    """The value of ``payload``; shared-memory buffers become read-only views of the segments."""
    data, buffers = payload
    if not buffers:
        return pickle.loads(data)
    views = []
    for buffer in buffers:
        if isinstance(buffer, tuple):
            _, owner, name, size = buffer
            if attachments is None:
                raise RuntimeError(f"shared-memory value {name} on a transport without shared memory")
            views.append(attachments.view(owner, name, size))
        else:
            views.append(memoryview(buffer).toreadonly())
    return pickle.loads(data, buffers=views)


def forwardable(payload: Payload) -> Payload:
    """A received payload made picklable again (raw buffers arrive as memoryviews) for forwarding."""
    data, buffers = payload
    if not any(isinstance(b, memoryview) for b in buffers):
        return payload
    return data, tuple(pickle.PickleBuffer(b) if isinstance(b, memoryview) else b for b in buffers)


def shared_names(payload: Payload) -> list[tuple[int, str]]:
    """(owner, segment) of the shared-memory buffers of ``payload``."""
    return [(b[1], b[2]) for b in payload[1] if isinstance(b, tuple)]


Decoder = Callable[[Payload], Any]
