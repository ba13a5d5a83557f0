"""The results contract (DESIGN.md §5): one package owns the CSV's schema, the parser of a row's
point, the writer and the readers; everything else imports it from here.

For analysis, results load as a typed DataFrame (summary samples; ``curves=True`` for curve points)::

    from harness.results import load
    samples = load(["results/reference/all-quick.csv"])
    samples.groupby(["workload", "backend", "metric"])["value"].median()
"""

from .frame import load
from .point import CURVE, SAMPLE, Params, is_curve, params_of, point_name
from .reader import (
    RUNS,
    check_results_header,
    finished_cells,
    newest_run,
    read_header,
    read_rows,
)
from .schema import (
    BASE_COLUMNS,
    CELL_COLUMNS,
    INTERRUPTED,
    METADATA_COLUMNS,
    SCHEMA_VERSION,
    STATUSES,
    columns_for,
    is_failure,
    is_interrupted,
    version_of,
)
from .writer import ResultWriter

__all__ = [
    "BASE_COLUMNS",
    "CELL_COLUMNS",
    "CURVE",
    "INTERRUPTED",
    "METADATA_COLUMNS",
    "RUNS",
    "SAMPLE",
    "SCHEMA_VERSION",
    "STATUSES",
    "Params",
    "ResultWriter",
    "check_results_header",
    "columns_for",
    "finished_cells",
    "is_curve",
    "is_failure",
    "is_interrupted",
    "load",
    "newest_run",
    "params_of",
    "point_name",
    "read_header",
    "read_rows",
    "version_of",
]
