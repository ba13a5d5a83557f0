"""The cell protocol: the spec the parent hands a cell's process, and the result that process hands back.

Both cross a process boundary as JSON (the spec on the cell's stdin, the result in a file in its scratch
folder), and the two processes may run different interpreters (a ``-ft`` backend's cells run under
free-threaded 3.13t) or, on test hosts, a different copy of the project. One module owns both sides, so
the writer and the reader cannot drift apart, and every message carries ``PROTOCOL_VERSION``: a reader
refuses a message of another version with a one-line reason instead of misreading it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

from backends.base import Host

PROTOCOL_VERSION = 1
# History of the cell protocol (raise the version whenever a field is added, removed, renamed or
# changes meaning, and say what changed here):
#
# - 1: first versioned protocol. CellSpec (workload, params, backend, profile, threads, processes,
#      cluster_address, scratch, hosts, host_namespaces) and CellResult (status, error, metadata,
#      metrics, series, startup_s, rounds, warmup, work, result_digest, cpu_util, other_cpu_pct,
#      idle_cpu_util, threads, processes, cluster_address, worker_nodes) replace the dictionaries
#      the runner and the cell process spelled each on its own side.

VERSION_KEY = "protocol"
"""The key of the version in every message (the only key not a field of the dataclass)."""

Metric = tuple[float, str]
"""A measured value and its unit."""
SeriesPoint = tuple[dict[str, Any], str, float, str]
"""A point of a curve inside one cell: (extra parameters, metric, value, unit)."""


class ProtocolMismatch(ValueError):
    """A message the other side wrote in another protocol version, or with fields this side does not
    know: the parent and the cell process do not run the same harness."""


_Message = TypeVar("_Message", "CellSpec", "CellResult")


def _encode(message: CellSpec | CellResult) -> str:
    # NaN and inf stay as JSON's NaN/Infinity: the parent must see a non-finite measurement to refuse it
    return json.dumps({VERSION_KEY: PROTOCOL_VERSION, **dataclasses.asdict(message)})


def _decode(cls: type[_Message], text: str) -> dict[str, Any]:
    """The fields of a ``cls`` message, after checking its version and its field names."""
    what = "cell spec" if cls is CellSpec else "cell result"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProtocolMismatch(f"the {what} is not JSON ({error})") from None
    if not isinstance(data, dict):
        raise ProtocolMismatch(f"the {what} is not a JSON object")
    version = data.pop(VERSION_KEY, None)
    if version != PROTOCOL_VERSION:
        raise ProtocolMismatch(
            f"the {what} speaks cell protocol version {version}, this harness version {PROTOCOL_VERSION}: "
            "the parent and the cell process run different copies of the harness"
        )
    unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ProtocolMismatch(f"the {what} has fields this harness does not know: {', '.join(unknown)}")
    return data


@dataclass(frozen=True)
class CellSpec:
    """What a cell's process is asked to run: written by the runner, read by ``harness.cells.cell``."""

    workload: str
    params: dict[str, Any]
    backend: str
    profile: str
    threads: int
    processes: int = 1
    cluster_address: str | None = None
    """The existing cluster the backend runs on (``BackendOptions.cluster_address``), or None."""
    scratch: str | None = None
    """The cell's own scratch folder, removed with the cell (``BackendOptions.scratch_dir``)."""
    hosts: tuple[Host, ...] = ()
    """The test hosts of a multi-host cell; host 0 runs the cell's process."""
    host_namespaces: tuple[str, ...] = ()
    """The hosts' network namespaces, whose traffic the cell counts (``harness.cells.wire_window``)."""

    def to_json(self) -> str:
        return _encode(self)

    @classmethod
    def from_json(cls, text: str) -> CellSpec:
        """Raises ``ProtocolMismatch`` for a spec of another protocol version."""
        data = _decode(cls, text)
        data["hosts"] = tuple(
            Host(h["name"], h["address"], tuple(h["command"])) for h in data.get("hosts", ())
        )
        data["host_namespaces"] = tuple(data.get("host_namespaces", ()))
        return cls(**data)


@dataclass
class CellResult:
    """What a cell did: written by ``harness.cells.cell`` (or by the runner for a cell that never reported:
    unavailable, skipped, timed out, died), read by the runner, which makes the cell's rows of it."""

    status: str
    """``ok``, ``error``, ``unavailable``, ``skipped`` or ``timeout``."""
    error: str = ""
    """One line saying why the status is not ``ok`` (blank when it is)."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """The cell process's facts (``harness.cells.metadata.process_metadata``); empty if it never reported."""
    metrics: dict[str, Metric] = field(default_factory=dict)
    series: list[SeriesPoint] = field(default_factory=list)
    startup_s: float | None = None
    """How long the backend's start-up took, where the workload starts it apart from its rounds."""
    rounds: int | None = None
    warmup: int | None = None
    work: int | str | None = None
    result_digest: str | None = None
    cpu_util: float | None = None
    other_cpu_pct: float | None = None
    idle_cpu_util: float | None = None
    """CPU used by a backend that polls while idle, over an idle window after the measured rounds."""
    threads: int | None = None
    processes: int | None = None
    cluster_address: str | None = None
    worker_nodes: int | None = None

    def to_json(self) -> str:
        return _encode(self)

    @classmethod
    def from_json(cls, text: str) -> CellResult:
        """Raises ``ProtocolMismatch`` for a result of another protocol version."""
        data = _decode(cls, text)
        data["metrics"] = {metric: (value, unit) for metric, (value, unit) in data.get("metrics", {}).items()}
        data["series"] = [(at, metric, value, unit) for at, metric, value, unit in data.get("series", [])]
        return cls(**data)
