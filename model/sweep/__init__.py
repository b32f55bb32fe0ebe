"""Batch sensitivity sweeps: many what-if cases of one workbook, solved in parallel, resumable.

One module a job: :mod:`.design` (the definition and the cases), :mod:`.worker` (one case -> a
record), :mod:`.execution` (backends, signals, :func:`run_sweep`, the command), :mod:`.store` (records
on disk, by hash), :mod:`.analysis` (case table, tornado, Sobol', Morris), :mod:`.output` (workbook,
CSV/Parquet, figures). Their public names are importable from ``model.sweep``.

Definition
----------
The inputs to vary are the rows of the optional ``sensitivity`` sheet of the case workbook (or of a
separate CSV/xlsx file given with ``--definition``), schema :data:`SENSITIVITY`::

    address                        operation  low   high  steps  design
    settings.discount_rate         =          0.05  0.11  3      oat
    facilities[*].capex_usd_per_module  *=    0.8   1.2

``design`` is one of ``oat`` (one at a time: ``steps`` values of each row, the others at their
workbook values), ``grid`` (full factorial of every row's ``steps`` values), ``lhs`` (Latin
hypercube), ``sobol`` (Saltelli/Sobol' sampling, first-order and total indices) or ``morris``
(elementary effects). The first row's design applies to all (blank cells inherit it; a different
one is an error). Each case is a list of override strings (``model.overrides`` syntax) applied to
the workbook; the base case (no override) is always case 0.

Execution
---------
Each worker is a long-lived process that reads nothing: it receives the parsed workbook once, has
the modules imported once, and solves with HiGHS ``threads=1``; for every case it applies the
overrides, validates, rebuilds the Pyomo model and solves it through :func:`model.pipeline.solve_case`,
the path ``run`` takes. Workers return small KPI records, never models. Backends: a local
``ProcessPoolExecutor`` (default, ``--workers N``), an existing Dask cluster (``--scheduler``), or
the calling process (``workers=0``, for debugging).

Every finished case is written at once, atomically, to ``<output stem>_cases/<hash>.json``; the hash
covers the workbook's content (all sheets but ``sensitivity``), the case's overrides, the model and
solver versions and the solver settings, so a re-run skips what is done (``--fresh`` recomputes).
A failing, infeasible or invalid case is recorded with its reason and never stops the sweep.
Ctrl-C / SIGTERM stops submitting, stops the workers and leaves only complete files behind.
"""

from __future__ import annotations

from .design import (  # noqa: F401
    Case, DEFAULT_SAMPLES, DEFAULT_SEED, DEFAULT_STEPS, DESIGNS, Design, Factor, MAX_CASES,
    MAX_DEFINITION_BYTES, MAX_DEFINITION_ROWS, MORRIS_LEVELS, RECORD_VERSION, SAMPLED, SENSITIVITY,
    definition_sheet, design_matrix, make_cases, n_design_cases, parse_definition, read_definition_file,
)
from .store import (  # noqa: F401
    CaseStore, RunSpec, atomic_write_bytes, case_hash, workbook_content_sha256,
)
from .worker import (  # noqa: F401
    CaseRunner, OK, kpis,
)
from .execution import (  # noqa: F401
    SweepResult, default_output, prepare_sweep, run_sweep, run_sweep_cli,
)
from .analysis import (  # noqa: F401
    BASE_COLUMNS, PENALTY_SWING_SHARE, RECORD_COST, TAIL_COLUMNS, analyse, case_table, tornado_label,
    tornado_table,
)
from .output import (  # noqa: F401
    build_workbook, csv_safe, summary_sections, write_figures, write_outputs_all,
)
