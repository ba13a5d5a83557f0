"""``list``: suites, workloads with their parameter grids, backends and whether they can run here."""

from __future__ import annotations

import argparse

from workloads.base import PROFILES

from . import interpreters, registry


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "list", help="show suites, workloads, parameter grids and backends", description=__doc__
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print("Suites:")
    for suite, workloads in registry.SUITES.items():
        print(f"  {suite:<12} {', '.join(workloads)}")
    print("\nWorkloads (parameter grid per profile):")
    for workload in registry.WORKLOADS.values():
        runs_on = ", ".join(registry.backends_for(workload))
        print(f"  {workload.name}: {workload.description}")
        print(f"    metrics: {', '.join(m for m, _ in workload.metrics)}; backends: {runs_on}")
        for profile in PROFILES:
            grid = workload.grid(profile)
            print(f"    {profile} ({len(grid)} points):")
            for params in grid:
                print("      " + " ".join(f"{k}={v}" for k, v in params.items()))
    print("\nBackends:")
    for name, cls in registry.BACKENDS.items():
        reason = registry.availability(name)
        state = "available" if reason is None else f"unavailable: {reason}"
        if reason is None and cls.interpreter is not None:
            state += f" (cells run under {interpreters.executable(cls.interpreter)})"
        print(f"  {name:<12} {state}\n               {cls.description}")
    return 0
