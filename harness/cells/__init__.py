"""Running cells: what the parent (the runner) and a cell's own process say to each other.

The protocol between them lives in ``harness.cells.protocol``, the one module both sides import, so that
neither spells the other's keys.
"""

from .protocol import PROTOCOL_VERSION, CellResult, CellSpec, ProtocolMismatch

__all__ = ["PROTOCOL_VERSION", "CellResult", "CellSpec", "ProtocolMismatch"]
