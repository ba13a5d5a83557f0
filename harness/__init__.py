"""Actor-vs-reactor benchmarking harness: plan cells, run each in a fresh process, store tidy CSVs.

Public entry points are the CLI (``python -m harness``), :func:`harness.cli.main`, and
:func:`harness.results.load` (a run's CSVs as a typed DataFrame). The subpackages are layers, each
importing only those below it (``tests/test_layers.py``): results, analysis, figures and report,
cells (running them), cli; conformance is the kit backend authors run; tools are build scripts.
"""

__version__ = "0.1.0"
