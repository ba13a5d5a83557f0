"""Execution backends: one module per backend, all behind the interface in ``backends.base``."""
