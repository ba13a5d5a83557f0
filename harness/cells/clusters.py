"""Existing clusters a run may use: one ``run`` option per ``Backend.cluster_option`` (``--ray-address``,
a plugin's ``--dask-address``), defaulting to the framework's own environment variable.

An address is checked (``Backend.check_cluster``) before any cell runs, and only when a planned cell
uses it: a ``RAY_ADDRESS`` left in the environment does not concern a run without Ray backends.
"""

from __future__ import annotations

import argparse
import os
import sys

from backends.base import Backend, ClusterAddressError
from harness import registry
from harness.errors import UsageError

from .plan import Cell


def _by_option() -> dict[str, list[type[Backend]]]:
    options: dict[str, list[type[Backend]]] = {}
    for cls in registry.BACKENDS.values():
        if cls.cluster_option:
            options.setdefault(cls.cluster_option, []).append(cls)
    return options


def _dest(option: str) -> str:
    return "cluster_" + option.replace("-", "_")


def add_options(parser: argparse.ArgumentParser) -> None:
    for option, classes in _by_option().items():
        names = ", ".join(cls.name for cls in classes)
        variable = classes[0].cluster_variable
        default = f"; default ${variable}" if variable else ""
        parser.add_argument(f"--{option}", dest=_dest(option), metavar="ADDRESS",
                            help=f"run {names} on this existing cluster{default}, else a private one per "
                            "cell")  # fmt: skip


def addresses(args: argparse.Namespace, planned: list[Cell]) -> dict[str, str]:
    """cluster option -> address, for the options the planned cells use; each address checked."""
    used = {registry.BACKENDS[c.backend].cluster_option for c in planned} - {None}
    chosen: dict[str, str] = {}
    for option, classes in _by_option().items():
        if option not in used:
            continue
        given = getattr(args, _dest(option), None)
        variable = classes[0].cluster_variable
        address = given or (os.environ.get(variable) if variable else None)
        if not address:
            continue
        origin = f"--{option}" if given else f"${variable}"
        try:
            warnings = classes[0].check_cluster(address, origin)
        except ClusterAddressError as error:
            raise UsageError(str(error)) from None
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        chosen[option] = address
    return chosen
