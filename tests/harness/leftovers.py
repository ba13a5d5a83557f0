"""What a run's processes left on disk under their own names, for tests that cut a run (kill -9, a
timeout) and must judge only what that run made on a machine other runs share."""

from __future__ import annotations

from backends.reactor.federation import leftovers as federation_leftovers
from harness.cells import reaper, semaphores


def named_after(pids: set[int]) -> list[str]:
    """Files named after any of ``pids``: federations' shared memory and socket folders,
    multiprocessing's semaphores, and cells' scratch folders (named after their harness)."""
    found = []
    for pid in pids:
        found += federation_leftovers.owned_by(pid) + semaphores.owned_by(pid)
        found += [str(p) for p in reaper.scratch_base().glob(f"{reaper.SCRATCH_PREFIX}{pid}-*")]
    return sorted(found)
