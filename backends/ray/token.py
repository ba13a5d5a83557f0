"""A token of its own for every Ray cluster the ``ray`` backends start (Ray's token authentication).

Ray 2.60 turns token mode on for a new local instance unless ``RAY_AUTH_MODE`` says otherwise, with
the token of ``~/.ray/auth_token``, which it creates (mode 0644) when missing. A cell's private
instance that relied on that default would be open to every local user wherever the harness's
environment has ``RAY_AUTH_MODE=disabled`` (as for a cluster of the user's own without tokens) or
the home folder is readable by others (0755 homes are common), and it would write into the user's
home. So the private instance, like the cluster on test hosts, always runs in token mode with a
token of its own: 64 random hex digits in a 0600 file of the cell's private scratch folder
(``RAY_AUTH_TOKEN_PATH``), never the user's. A client without it is refused by every Ray server
(the GCS, raylets, workers, agents). An existing cluster (``--ray-address``) keeps the user's token.

Ray's processes read the mode and the token from the environment they start with, and Ray's core
caches both in this process, so ``enter`` sets both variables and refreshes the caches before
``ray.init``; ``leave`` puts the driver's own values back.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

from backends.base import write_secret

FILE_NAME = "ray-token"
AUTH_VARIABLES = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_TOKEN")
"""What decides a Ray process's token; ``RAY_AUTH_TOKEN`` (a token in the environment) would win
over the file, so the cluster's processes and the driver run without it."""


class ClusterToken:
    """One cluster's token file, in ``folder`` (None: a private folder of its own, removed by
    ``remove``); ``write`` before the cluster starts, ``remove`` once it is gone."""

    def __init__(self, folder: str | os.PathLike[str] | None):
        self._own_folder = folder is None
        self.folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="ray-token-"))
        self.path = self.folder / FILE_NAME
        self._saved: dict[str, str | None] | None = None

    def write(self) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_secret(self.path, secrets.token_hex(32))

    def environment(self) -> dict[str, str | None]:
        """The variables a process of the cluster, or its driver, runs with (None: unset)."""
        return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(self.path), "RAY_AUTH_TOKEN": None}

    def enter(self, also: dict[str, str | None] | None = None) -> None:
        """Makes this process (and what it starts) use the token, and ``also`` these variables;
        remembers the values they replace for ``leave``."""
        wanted = {**self.environment(), **(also or {})}
        if self._saved is None:
            self._saved = {name: os.environ.get(name) for name in wanted}
        set_environment(wanted)
        _refresh()

    def leave(self) -> None:
        """Puts back what ``enter`` replaced (safe without ``enter`` and twice)."""
        saved, self._saved = self._saved, None
        if saved is not None:
            set_environment(saved)
            _refresh()

    def remove(self) -> None:
        """Deletes the token file (and the folder, if it is the token's own)."""
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        else:
            self.path.unlink(missing_ok=True)


def _refresh() -> None:
    """Makes Ray's core in this process read the mode and the token again (as Ray does itself when
    it turns token mode on for a new local instance)."""
    from ray._raylet import AuthenticationTokenLoader, Config

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


def set_environment(values: dict[str, str | None]) -> None:
    """Sets variables of this process's environment (None: removes one)."""
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
