"""The ``dask`` backend of actor-reactor-bench, as a plugin distribution (``backend.DaskBackend``)."""
