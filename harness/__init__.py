"""Actor-vs-reactor benchmarking harness: plan cells, run each in a fresh process, store tidy CSVs.

Public entry points are the CLI (``python -m harness``) and :func:`harness.cli.main`; the modules
behind it each do one job (plan, run, results, stats, plots).
"""

__version__ = "0.1.0"
