"""The certificate a cell's own Dask cluster demands of every connection: TLS both ways, one key.

A Dask scheduler or worker runs whatever a connected client sends it (``run_on_scheduler``, any
task), so one that accepts plain TCP, even on loopback only, lets every local user run code as the
harness's user. The cell's clusters (the private ``LocalCluster`` and the one on test hosts) therefore
use a self-signed certificate of their own, made per cluster by ``Security.temporary()``: it is the
only certificate authority every process trusts and every role's certificate, so a peer gets in only
if it holds this cluster's key, and a plain TCP client is not answered at all.

The certificate and key are files, 0600 in a 0700 folder of the cell's private scratch folder,
removed with the cluster: the test hosts' scheduler and workers are programs of their own that read
them from files (``--tls-*``), and in memory they would not stay out of shared places either
(distributed writes an in-memory key to a folder in the shared temporary folder each time it builds
a TLS context). A cluster given with ``--dask-address`` is the user's, with the user's security.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backends.base import write_secret

FOLDER = "dask-tls-"
"""How the name of a credentials folder begins."""
PROTOCOL = "tls"


@dataclass(frozen=True)
class ClusterCredentials:
    """One cluster's certificate and key, in ``folder``; ``create``, then ``remove`` with the cluster."""

    folder: Path

    @property
    def certificate(self) -> Path:
        return self.folder / "cluster.crt"

    @property
    def key(self) -> Path:
        return self.folder / "cluster.key"

    @classmethod
    def create(cls, scratch_dir: str | None) -> ClusterCredentials:
        """A new certificate and key, in a new 0700 folder of ``scratch_dir`` (None: of the
        temporary folder, for a backend used outside a cell), one per cluster."""
        from distributed.security import Security

        folder = Path(tempfile.mkdtemp(prefix=FOLDER, dir=scratch_dir))
        temporary = Security.temporary()
        credentials = cls(folder)
        write_secret(credentials.certificate, temporary.tls_ca_file)
        write_secret(credentials.key, temporary.tls_client_key)
        return credentials

    def security(self) -> Any:
        """The ``distributed.security.Security`` of every role in this process: the client, and the
        scheduler and workers that a ``LocalCluster`` passes it on to."""
        from distributed.security import Security

        certificate, key = str(self.certificate), str(self.key)
        return Security(
            require_encryption=True,
            tls_ca_file=certificate,
            **{f"tls_{role}_cert": certificate for role in ("client", "scheduler", "worker")},
            **{f"tls_{role}_key": key for role in ("client", "scheduler", "worker")},
        )

    def arguments(self) -> list[str]:
        """The options that make a ``dask scheduler`` or ``dask worker`` process use them, TLS only."""
        certificate = str(self.certificate)
        return [
            "--protocol", PROTOCOL,
            "--tls-ca-file", certificate,
            "--tls-cert", certificate,
            "--tls-key", str(self.key),
        ]  # fmt: skip

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
