"""Experiment families: each module declares its parameter grids and metrics and drives backends.

Workloads see only the backend interface of ``backends.base`` (DESIGN.md §2), never a concrete backend.
"""
