"""Framed records over stream sockets (Unix or TCP): one frame per write, large buffers zero-copy.

A frame is ``[u64 length][u32 body length][u32 n][n x u64 buffer lengths][body][buffers...]``: the body
is the pickled list of records and the buffers are the out-of-band buffers of that pickle, written
straight from the arrays that own them (``sendmsg`` gathers the parts) and read straight into one
allocation that the decoded arrays then use. Sockets are non-blocking on both sides: the RTI's
process never blocks on a write (a slow reader cannot stall the federation), and a federate waits
with ``select`` so it can also keep a deadline.
"""

from __future__ import annotations

import errno
import hmac
import pickle
import select
import socket
import struct
import time
from collections import deque
from typing import Any

HANDSHAKE = b"RFED"
TOKEN_BYTES = 32
_LENGTH = struct.Struct("<Q")
_PREFIX = struct.Struct("<II")
_SCRATCH = 1 << 16
_IOV_MAX = 512


class ConnectionLost(EOFError):
    """The other side closed the connection (or died)."""


def encode_frame(records: list[tuple[Any, ...]]) -> list[Any]:
    """The parts of one frame, ready for ``sendmsg``."""
    oob: list[pickle.PickleBuffer] = []
    body = pickle.dumps(records, protocol=5, buffer_callback=lambda b: oob.append(b))
    raws = [b.raw() for b in oob]
    lengths = [r.nbytes for r in raws]
    prefix = _PREFIX.pack(len(body), len(lengths)) + struct.pack(f"<{len(lengths)}Q", *lengths)
    total = len(prefix) + len(body) + sum(lengths)
    return [_LENGTH.pack(total) + prefix, body, *raws]


def decode_frame(frame: memoryview) -> list[tuple[Any, ...]]:
    body_length, count = _PREFIX.unpack_from(frame, 0)
    offset = _PREFIX.size
    lengths = struct.unpack_from(f"<{count}Q", frame, offset)
    offset += 8 * count
    body = frame[offset : offset + body_length]
    offset += body_length
    buffers = []
    for length in lengths:
        buffers.append(frame[offset : offset + length].toreadonly())
        offset += length
    return pickle.loads(body, buffers=buffers)


class FrameSocket:
    """One end of a framed connection over a non-blocking stream socket."""

    def __init__(self, sock: socket.socket):
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self._scratch = bytearray(_SCRATCH)
        self._view = memoryview(self._scratch)
        self._start = 0
        self._end = 0
        self._big: bytearray | None = None
        self._big_filled = 0
        self._out: deque[memoryview] = deque()
        self.frames_sent = 0
        self.bytes_sent = 0
        self.frames_received = 0
        self.bytes_received = 0

    def fileno(self) -> int:
        return self.sock.fileno()

    # ----- writing ---------------------------------------------------------------------------------

    def queue(self, records: list[tuple[Any, ...]]) -> None:
        for part in encode_frame(records):
            view = memoryview(part)
            if view.nbytes:
                self._out.append(view.cast("B") if view.format != "B" or view.ndim != 1 else view)
        self.frames_sent += 1

    @property
    def pending(self) -> bool:
        return bool(self._out)

    def write(self) -> bool:
        """Writes what the socket takes now; True when nothing is left."""
        out = self._out
        while out:
            parts = [out[i] for i in range(min(len(out), _IOV_MAX))]
            try:
                sent = self.sock.sendmsg(parts)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError as error:
                if error.errno in (errno.EPIPE, errno.ECONNRESET):
                    raise ConnectionLost(str(error)) from error
                raise
            self.bytes_sent += sent
            while sent:
                head = out[0]
                if sent >= head.nbytes:
                    sent -= head.nbytes
                    out.popleft()
                else:
                    out[0] = head[sent:]
                    sent = 0
        return True

    def send(self, records: list[tuple[Any, ...]], deadline: float | None = None) -> None:
        """Queues a frame and writes everything queued, waiting for the socket when it is full."""
        self.queue(records)
        self.drain(deadline)

    def drain(self, deadline: float | None = None) -> None:
        while not self.write():
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            _, writable, _ = select.select([], [self.sock], [], timeout)
            if not writable and deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError("the other side stopped reading")

    # ----- reading ---------------------------------------------------------------------------------

    def read(self) -> list[list[tuple[Any, ...]]]:
        """Every complete frame that has arrived (reads until the socket has nothing more)."""
        frames: list[list[tuple[Any, ...]]] = []
        while True:
            if self._big is not None:
                try:
                    got = self.sock.recv_into(memoryview(self._big)[self._big_filled :])
                except (BlockingIOError, InterruptedError):
                    return frames
                if not got:
                    raise ConnectionLost("connection closed")
                self.bytes_received += got
                self._big_filled += got
                if self._big_filled == len(self._big):
                    frame, self._big = self._big, None
                    frames.append(decode_frame(memoryview(frame)))
                    self.frames_received += 1
                continue
            if self._end == len(self._scratch):
                self._compact()
            try:
                got = self.sock.recv_into(self._view[self._end :])
            except (BlockingIOError, InterruptedError):
                return frames
            if not got:
                raise ConnectionLost("connection closed")
            self.bytes_received += got
            self._end += got
            self._parse(frames)

    def _parse(self, frames: list[list[tuple[Any, ...]]]) -> None:
        view = self._view
        while self._end - self._start >= _LENGTH.size:
            (total,) = _LENGTH.unpack_from(view, self._start)
            begin = self._start + _LENGTH.size
            available = self._end - begin
            if available >= total:
                frames.append(decode_frame(memoryview(bytes(view[begin : begin + total]))))
                self.frames_received += 1
                self._start = begin + total
                continue
            if total > len(self._scratch) - _LENGTH.size:
                self._big = bytearray(total)
                self._big[:available] = view[begin : self._end]
                self._big_filled = available
                self._start = self._end = 0
            break
        if self._start == self._end:
            self._start = self._end = 0

    def _compact(self) -> None:
        remaining = self._end - self._start
        self._scratch[:remaining] = self._scratch[self._start : self._end]
        self._start, self._end = 0, remaining

    def wait_readable(self, timeout: float | None) -> bool:
        readable, _, _ = select.select([self.sock], [], [], timeout)
        return bool(readable)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def client_handshake(sock: socket.socket, token: bytes, index: int, timeout: float) -> None:
    """The federate's first bytes: magic, token and index; then the RTI's acknowledgement."""
    sock.settimeout(timeout)
    sock.sendall(HANDSHAKE + token + struct.pack("<i", index))
    reply = _recv_exact(sock, 4)
    if reply != b"OK\0\0":
        raise ConnectionRefusedError("the RTI refused this federate")


def server_handshake(sock: socket.socket, token: bytes, timeout: float) -> int:
    """Checks a connecting federate's token before anything is unpickled; returns its index."""
    sock.settimeout(timeout)
    hello = _recv_exact(sock, len(HANDSHAKE) + TOKEN_BYTES + 4)
    if hello[:4] != HANDSHAKE or not hmac.compare_digest(hello[4 : 4 + TOKEN_BYTES], token):
        raise ConnectionRefusedError("bad handshake")
    (index,) = struct.unpack("<i", hello[-4:])
    sock.sendall(b"OK\0\0")
    return index


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionLost("closed during the handshake")
        data.extend(chunk)
    return bytes(data)
