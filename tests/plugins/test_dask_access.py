"""Another local user cannot use a cell's private Dask cluster: the scheduler and the workers speak
TLS only and accept only clients holding the cell's certificate, whose files only the cell's user can
read. Without that, any local user could run code as the harness's user (root for ``make test``).

Each test starts the cluster as this process's user and probes it from a process running as
``OTHER_UID``: a plain TCP client and a TLS client with a certificate of its own must be refused,
and the same process given the cell's certificate must get in (so a refusal is told from a broken
set-up). The test-host cluster's processes get the same certificate (``tests/plugins/test_dask_hosts.py``).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import OTHER_UID, make_uid_worker, run_as_other_user, skip_unless_another_user_can_import

CONNECT_TIMEOUT_S = 20
"""How long each probe's client tries to connect (a refusal may take all of it)."""
PROBE_TIMEOUT_S = 180


@pytest.fixture(autouse=True, scope="module")
def _another_user_can_run_dask() -> None:
    skip_unless_another_user_can_import("distributed")


PROBE = r"""
import asyncio, json, os, sys
from distributed import Client
from distributed.core import rpc
from distributed.security import Security

request = json.loads(sys.stdin.read())


def attempt(address, security):
    try:
        with Client(address, security=security, timeout=request["timeout"]) as client:
            return {"uid": client.run_on_scheduler(os.getuid)}
    except Exception as error:
        return {"refused": f"{type(error).__name__}: {error}"[:300]}


async def identity(address, security):
    args = security.get_connection_args("client") if security else {}
    async with rpc(address, connection_args=args, timeout=request["timeout"]) as server:
        return await server.identity()


def answers(address, security):
    try:
        return asyncio.run(identity(address, security))["type"]
    except Exception as error:
        return f"refused: {type(error).__name__}: {error}"[:300]


def plain(address):
    return "tcp://" + address.split("://", 1)[1]


def readable(path):
    try:
        open(path, "rb").close()
        return True
    except OSError:
        return False


scheduler, servers = request["scheduler"], request["servers"]
report = {"uid": os.getuid()}
if request["credentials"] is None:
    own = Security.temporary()
    report["plain"] = attempt(plain(scheduler), None)
    report["own_certificate"] = attempt(scheduler, own)
    report["servers_plain"] = [answers(plain(address), None) for address in servers]
    report["servers_own_certificate"] = [answers(address, own) for address in servers]
else:
    certificate, key = request["credentials"]
    cell = Security(
        require_encryption=True, tls_ca_file=certificate, tls_client_cert=certificate, tls_client_key=key
    )
    report["cell"] = attempt(scheduler, cell)
    report["servers_cell"] = [answers(address, cell) for address in servers]
    report["readable"] = [readable(path) for path in request["files"]]
print(json.dumps(report), flush=True)
"""


def probe_cluster(
    scheduler: str, servers: list[str], credentials: tuple[str, str] | None = None, files: list[str] = ()
) -> dict:
    """What a client as ``OTHER_UID`` gets from the scheduler (``run_on_scheduler``) and from the
    other servers (workers, nannies: an answer to ``identity``): without credentials, or with the
    cell's certificate and key (handed over in its input, as it cannot read their files)."""
    request = {
        "scheduler": scheduler,
        "servers": servers,
        "timeout": CONNECT_TIMEOUT_S,
        "credentials": credentials,
        "files": files,
    }
    done = run_as_other_user(PROBE, json.dumps(request), timeout=PROBE_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["uid"] == OTHER_UID
    return report


def test_another_user_cannot_run_code_in_the_private_cluster(tmp_path: Path):
    from actor_reactor_bench_dask.backend import DaskBackend

    from backends.base import BackendOptions

    scratch = tmp_path / "cell"
    scratch.mkdir(mode=0o700)
    backend = DaskBackend(BackendOptions(threads=1, scratch_dir=str(scratch)))
    try:
        backend.start(make_uid_worker, 2)
        assert backend.call_all("uid") == [os.getuid()] * 2
        scheduler = backend._client.scheduler.address
        workers = backend._client.scheduler_info()["workers"]
        servers = [*workers, *(info["nanny"] for info in workers.values() if info.get("nanny"))]
        assert len(servers) == 2 * len(workers)  # every worker has its nanny

        without = probe_cluster(scheduler, servers)
        assert "refused" in without["plain"], without
        assert "refused" in without["own_certificate"], without
        for answer in without["servers_plain"] + without["servers_own_certificate"]:
            assert answer.startswith("refused"), without

        credentials = backend.credentials
        files = [credentials.certificate, credentials.key]
        for path in files:
            assert path.parent.parent == scratch  # in the cell's private folder, nowhere shared
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(credentials.folder.stat().st_mode) == 0o700
        pems = (files[0].read_text(), files[1].read_text())
        with_them = probe_cluster(scheduler, servers, pems, [str(path) for path in files])
        assert with_them["cell"] == {"uid": os.getuid()}, with_them  # reachable, and it works
        assert with_them["servers_cell"] == ["Worker"] * len(workers) + ["Nanny"] * len(workers)
        assert with_them["readable"] == [False, False]  # but the other user cannot read the files
    finally:
        backend.shutdown()
    assert not credentials.folder.exists()  # the key goes with the cluster
