"""Checks a ``--ray-address`` before any cell runs, so a typo costs one line, not a timeout per cell.

``ray.init`` against an address where nothing listens keeps retrying for about a minute, in every
cell; a TCP connect to the GCS port tells the user at once.
"""

from __future__ import annotations

import socket

from .errors import UsageError

CONNECT_TIMEOUT_S = 3.0


def parse(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (an optional ``ray://`` prefix is not supported: that is Ray Client, not a driver)."""
    host, sep, port_text = address.strip().rpartition(":")
    if not sep or not host or "://" in host:
        raise UsageError(f"--ray-address {address!r}: expected HOST:PORT of a Ray head node (GCS port)")
    try:
        port = int(port_text)
    except ValueError:
        raise UsageError(f"--ray-address {address!r}: port {port_text!r} is not a number") from None
    if not 0 < port < 65536:
        raise UsageError(f"--ray-address {address!r}: port {port} is out of range 1..65535")
    return host, port


def check_reachable(address: str) -> None:
    host, port = parse(address)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise UsageError(f"--ray-address {address}: no Ray cluster answers there ({reason})") from None
