"""Another local user cannot reach a cell's private Ray instance, whatever the harness's environment.

The instance runs in token mode with a token of its own, in a 0600 file of the cell's scratch
folder (``backends.ray.token``). Ray's default alone (token mode with ``~/.ray/auth_token``) holds
only while nothing turns it off and the home folder is closed to others: each test starts the
instance from a driver whose environment breaks one of those, and probes its GCS from a process
running as ``OTHER_UID`` that uses any token it can read (the driver's ``~/.ray/auth_token`` and the
cell's token file) or none; it must be refused, and the same process given the cell's token must
get in (so a refusal is told from a broken set-up).

The probe calls the GCS, not ``ray.init``: another user cannot attach a driver to the node anyway
(its sockets are in the cell's 0700 session folder), but the GCS and every other Ray server listen
on TCP, and the GCS's key-value store holds the pickled functions the workers run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    OTHER_UID,
    ROOT,
    run_as_other_user,
    skip_unless_another_user_can_import,
)

pytestmark = pytest.mark.slow

GCS_TIMEOUT_S = 60
PROBE_TIMEOUT_S = 180
DRIVER_TIMEOUT_S = 600


@pytest.fixture(autouse=True, scope="module")
def _another_user_can_run_ray() -> None:
    skip_unless_another_user_can_import("ray")


PROBE = r"""
import json, os, sys

request = json.loads(sys.stdin.read())
token, used = request["token"], "given"
if token is None:
    used = None
    for path in request["readable"]:
        try:
            token, used = open(path).read().strip(), path
            break
        except OSError:
            continue
if token is not None:
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token)
from ray._raylet import GcsClient

report = {"uid": os.getuid(), "token": used}
try:
    gcs = GcsClient(address=request["gcs"], cluster_id=request["cluster_id"])
    report["keys"] = len(gcs.internal_kv_keys(b"", None, timeout=request["timeout"]))
except Exception as error:
    report["refused"] = f"{type(error).__name__}: {error}"[:300]
print(json.dumps(report), flush=True)
"""


def probe_ray(gcs: str, cluster_id: str, token: str | None = None, readable: list[str] = ()) -> dict:
    """What a client as ``OTHER_UID`` gets from the GCS at ``gcs`` (of cluster ``cluster_id``, so
    that only the token decides): with ``token``, else with the first of the ``readable`` token
    files it can read, else with none."""
    request = {
        "gcs": gcs,
        "cluster_id": cluster_id,
        "token": token,
        "readable": list(readable),
        "timeout": GCS_TIMEOUT_S,
    }
    done = run_as_other_user(PROBE, json.dumps(request), timeout=PROBE_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["uid"] == OTHER_UID
    return report


DRIVER = r"""
import json, os, sys
import ray
from backends.base import BackendOptions
from backends.ray.backend import RayBackend
from tests.backends.ray import test_ray_access as t
from tests.conftest import make_uid_worker

scratch = sys.argv[1]
backend = RayBackend(BackendOptions(threads=1, scratch_dir=scratch))
report = {}
try:
    backend.start(make_uid_worker, 1)
    report["workers"] = backend.call_all("uid")
    gcs = ray.get_runtime_context().gcs_address
    cluster = ray._private.worker.global_worker.node.cluster_id.hex()
    token_file = os.path.join(scratch, "ray-token")
    default_file = os.path.expanduser("~/.ray/auth_token")
    report["without"] = t.probe_ray(gcs, cluster, readable=[default_file, token_file])
    if os.path.exists(token_file):
        report["mode"] = oct(os.stat(token_file).st_mode & 0o777)
        with open(token_file) as file:
            report["with"] = t.probe_ray(gcs, cluster, token=file.read().strip())
finally:
    backend.shutdown()
report["left"] = sorted(name for name in os.listdir(scratch) if name != "ray")
print("REPORT " + json.dumps(report), flush=True)
"""


def _drive(env: dict[str, str]) -> dict[str, Any]:
    """Runs the driver (a private instance, then the probes) with ``env`` over ours; its report."""
    with tempfile.TemporaryDirectory(prefix="ray-access-") as scratch:
        done = subprocess.run(
            [sys.executable, "-c", DRIVER, scratch],
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=DRIVER_TIMEOUT_S,
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[0].removeprefix("REPORT "))


def _refused_without_and_open_with_the_token(report: dict[str, Any]) -> None:
    assert report["workers"] == [os.getuid()]
    without = report["without"]
    assert without.get("refused", "").startswith("AuthenticationError"), without
    assert without["token"] is None, without  # it could read neither token file
    assert report.get("mode") == "0o600", report  # the cell's token file
    with_it = report["with"]
    assert "refused" not in with_it and with_it["token"] == "given" and with_it["keys"] > 0, with_it
    assert report["left"] == []  # the token went with the instance


def test_auth_mode_disabled_in_the_environment_does_not_open_the_private_instance():
    """``RAY_AUTH_MODE=disabled`` (for a token-less cluster of the user's own) would make Ray start
    the private instance without authentication."""
    _refused_without_and_open_with_the_token(_drive({"RAY_AUTH_MODE": "disabled"}))


@pytest.fixture
def open_home() -> Iterator[Path]:
    """A home folder any user can enter (0755, in /tmp: pytest's own folders are closed to others)."""
    home = Path(tempfile.mkdtemp(prefix="ray-access-home-", dir="/tmp"))
    home.chmod(0o755)
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_a_home_folder_others_can_read_does_not_open_the_private_instance(open_home: Path):
    """With Ray's default the token would be ``~/.ray/auth_token``, which Ray creates 0644: in a home
    folder others can enter, any local user could read it. The instance must not use it, nor create it."""
    _refused_without_and_open_with_the_token(_drive({"HOME": str(open_home)}))
    assert not (open_home / ".ray").exists()
