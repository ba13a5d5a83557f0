"""The ``pykka`` backend of actor-reactor-bench, as a plugin distribution (``backend.PykkaBackend``)."""
