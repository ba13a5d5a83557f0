"""Checks a Ray cluster address before any cell runs, so a typo costs one line, not a timeout per cell
(``RayBackend.check_cluster``; the harness turns the error into its one-line usage error).

``ray.init`` against an address where nothing listens keeps retrying for about a minute, in every
cell, and against something that is not Ray fails each cell after about 21 s. So the harness checks
the address once: its form (``HOST:PORT``, ``[IPv6]:PORT``, host names as DNS allows them), that
something accepts TCP there, and that a Ray GCS answers there (``backends.ray.probe``); only then
does a cell connect.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import re
import socket
import subprocess
import sys
from pathlib import Path

from backends.base import ClusterAddressError

CONNECT_TIMEOUT_S = 3.0
PROTOCOL_TIMEOUT_S = 8.0
"""How long ``backends.ray.probe`` may take: a GCS answers in about 0.3 s here (the probe's start
included), one across a slow network in a few seconds."""
ROOT = Path(__file__).resolve().parents[2]
HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
MAX_HOST_NAME = 253


def parse(address: str, origin: str = "--ray-address") -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPV6]:PORT`` -> (host, port); an optional ``ray://`` prefix is refused:
    that is Ray Client, not the GCS address a driver connects to."""
    text = address.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep or not host or "://" in host:
        raise ClusterAddressError(f"{origin} {address!r}: expected HOST:PORT of a Ray head node (GCS port)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ClusterAddressError(f"{origin} {address!r}: {host!r} is not an IPv6 address") from None
    elif ":" in host:
        raise ClusterAddressError(
            f"{origin} {address!r}: write an IPv6 address in brackets, as [{host}]:{port_text}"
        )
    else:
        _check_host_name(host, address, origin)
    try:
        port = int(port_text)
    except ValueError:
        raise ClusterAddressError(f"{origin} {address!r}: port {port_text!r} is not a number") from None
    if not 0 < port < 65536:
        raise ClusterAddressError(f"{origin} {address!r}: port {port} is out of range 1..65535")
    return host, port


def _check_host_name(host: str, address: str, origin: str) -> None:
    try:
        ipaddress.IPv4Address(host)
        return
    except ValueError:
        pass
    if len(host) > MAX_HOST_NAME:
        raise ClusterAddressError(f"{origin} {address!r}: a host name has at most {MAX_HOST_NAME} characters")
    for label in host.rstrip(".").split("."):
        if not HOST_LABEL.match(label):
            shown = label if len(label) <= 20 else label[:17] + "..."
            raise ClusterAddressError(
                f"{origin} {address!r}: {shown!r} is not a host name label "
                "(1-63 letters, digits or inner hyphens)"
            )


def is_loopback(host: str) -> bool:
    """Whether every address the host resolves to is a loopback one (unresolvable: not loopback)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


def check_cluster(address: str, origin: str = "--ray-address") -> list[str]:
    """Refuses (one line) an address where no Ray GCS answers; warns when it is not on this machine."""
    host, port = parse(address, origin)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except (OSError, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise ClusterAddressError(f"{origin} {address}: no Ray cluster answers there ({reason})") from None
    problem = _gcs_problem(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    if problem:
        raise ClusterAddressError(f"{origin} {address}: {problem}")
    if not is_loopback(host):
        return [f"{origin} {address} is not on this machine: cells send their work and data there"]
    return []


def _gcs_problem(address: str) -> str | None:
    """Why the listener at the address is not a Ray GCS, or None when it answered as one."""
    if importlib.util.find_spec("ray") is None:  # Ray's backends are unavailable and say so per cell
        return None
    try:
        answer = subprocess.run(
            [sys.executable, "-m", "backends.ray.probe", address],
            capture_output=True,
            text=True,
            timeout=PROTOCOL_TIMEOUT_S,
            cwd=ROOT,
        ).stdout.strip()
    except subprocess.TimeoutExpired:
        return (
            f"something accepts connections there but does not answer Ray's protocol "
            f"within {PROTOCOL_TIMEOUT_S:g} s"
        )
    if answer == "ray":
        return None
    return f"it does not answer as a Ray cluster ({answer.removeprefix('not ray: ') or 'no answer'})"
