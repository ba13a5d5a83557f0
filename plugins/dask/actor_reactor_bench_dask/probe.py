"""``python -m actor_reactor_bench_dask.probe ADDRESS``: connects a Dask client, in a process of its own.

Run with a deadline by ``DaskBackend.check_cluster``, so that a bad address costs seconds and no
client thread lives in the harness's process. Prints ``dask N`` (N workers) or ``not dask: reason``.
"""

from __future__ import annotations

import sys

TIMEOUT_S = 5


def probe(address: str) -> str:
    from distributed import Client

    try:
        with Client(address, timeout=TIMEOUT_S) as client:
            return f"dask {len(client.scheduler_info()['workers'])}"
    except Exception as error:
        text = str(error).strip().splitlines()
        return f"not dask: {text[0][:200] if text else type(error).__name__}"


if __name__ == "__main__":
    print(probe(sys.argv[1]), flush=True)
