"""Batch sensitivity sweeps: many what-if cases of one workbook, solved in parallel, resumable.

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
Each worker process reads nothing: it receives the parsed workbook once, builds the base model
and hands it to one persistent HiGHS instance (:class:`model.highs_direct.HighsDirect`, threads=1);
for every case it applies the overrides, validates, rebuilds the Pyomo model (the formulation folds
the data into coefficients; ~20 ms on the base case), and HiGHS gets only the numbers that
changed. Workers return small KPI records, never models. Backends: a local
``ProcessPoolExecutor`` (default, ``--workers N``), an existing Dask cluster (``--scheduler``), or
the calling process (``workers=0``, for debugging).

Every finished case is written at once, atomically, to ``<output stem>_cases/<hash>.json``; the hash
covers the workbook's content (all sheets but ``sensitivity``), the case's overrides, the model and
solver versions and the solver settings, so a re-run skips what is done (``--fresh`` recomputes).
A failing, infeasible or invalid case is recorded with its reason and never stops the sweep.
Ctrl-C / SIGTERM stops submitting, stops the workers and leaves only complete files behind.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import signal
import socket
import sys
import threading
import time
import warnings
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from . import MODEL_VERSION, __version__
from . import schema as S
from .errors import InputError, ModelError, Problem
from .output_schema import KPI_YEARS  # plus the last horizon year
from .xlsx_util import atomic_write
from .workbook import RawSheet, RawWorkbook, normalise

# --------------------------------------------------------------------------- definition schema
DESIGNS = ("oat", "grid", "lhs", "sobol", "morris")
SAMPLED = ("lhs", "sobol", "morris")
DEFAULT_SAMPLES = {"lhs": 64, "sobol": 32, "morris": 10}
MORRIS_LEVELS = 4
DEFAULT_STEPS = S.SENSITIVITY.column("steps").default
DEFAULT_SEED = 20260
MAX_CASES = 100_000
RECORD_VERSION = 1

SENSITIVITY = S.SENSITIVITY

_OPS = {"=": "=", "set": "=", "*=": "*=", "scale": "*=", "+=": "+=", "add": "+="}
MAX_DEFINITION_BYTES = 2 * 2**20
MAX_DEFINITION_ROWS = 1000


@dataclass(frozen=True)
class Factor:
    """One varied input."""

    address: str
    op: str
    low: float
    high: float
    steps: int
    integer: bool  # values are rounded to whole numbers (whole-number column with = or +=)
    row: int  # where it was defined (Excel/CSV row)

    @property
    def label(self) -> str:
        """Column name of the varied value in the results (``address op``)."""
        return f"{self.address} {self.op}"

    def value(self, x: float) -> float | int:
        if self.integer:
            return int(round(x))
        return float(format(float(x), ".10g"))  # stable text, hence stable hashes

    def override(self, v: float | int) -> str:
        return f"{self.address}{self.op}{_num_text(v)}"

    def grid_values(self) -> list:
        n = self.steps
        vals = [self.value(self.low + (self.high - self.low) * i / (n - 1)) for i in range(n)]
        return list(dict.fromkeys(vals))  # whole-number factors may collapse to fewer values (linear, not quadratic)


@dataclass(frozen=True)
class Design:
    kind: str
    factors: tuple[Factor, ...]
    source: str  # sheet or file the definition came from
    samples: int | None = None  # base samples of a sampled design
    seed: int = DEFAULT_SEED

    def problem(self) -> dict:
        """The SALib problem dictionary."""
        return {"num_vars": len(self.factors), "names": [f.label for f in self.factors],
                "bounds": [[f.low, f.high] for f in self.factors]}


@dataclass(frozen=True)
class Case:
    index: int
    overrides: tuple[str, ...]
    values: tuple[tuple[str, float], ...] = ()  # (factor label, value)


def _num_text(v) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return format(float(v), ".10g")


# --------------------------------------------------------------------------- reading the definition
def definition_sheet(raw: RawWorkbook) -> RawSheet | None:
    return raw.sheet(SENSITIVITY.name)


def read_definition_file(path: str | os.PathLike) -> RawSheet:
    """The definition rows of a CSV file (header row first) or of an xlsx file's ``sensitivity``
    sheet (its first sheet when there is none)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(Problem(path.name, None, None, f"definition file not found: {path}"))
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from .workbook import read_workbook

        wb = read_workbook(path)
        sh = wb.sheet(SENSITIVITY.name) or next(iter(wb.sheets.values()), None)
        if sh is None:
            raise InputError(Problem(path.name, None, None, "the workbook has no sheet"))
        if wb.problems:
            raise InputError(list(wb.problems))
        return sh
    if suffix not in (".csv", ".txt"):
        raise InputError(Problem(path.name, None, None, "a sweep definition must be a .csv or .xlsx file"))
    import csv

    size = path.stat().st_size
    if size > MAX_DEFINITION_BYTES:
        raise InputError(Problem(path.name, None, None, f"file is {size} bytes; the limit is {MAX_DEFINITION_BYTES}"))
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(Problem(path.name, None, None, "the file is not UTF-8 text; save it as 'CSV UTF-8'"))
    if "\x00" in text:
        raise InputError(Problem(path.name, None, None, "the file is not a text (CSV) file"))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    header: tuple[str, ...] | None = None
    rows, excel_rows = [], []
    for r, values in enumerate(csv.reader(text.splitlines(), dialect), start=1):
        values = [v.strip() if v.strip() else None for v in values]
        if all(v is None for v in values):
            continue
        if header is None:
            header = tuple("" if v is None else v for v in values)
            header_row = r
            continue
        if len(rows) >= MAX_DEFINITION_ROWS:
            raise InputError(Problem(path.name, r, None, f"more than {MAX_DEFINITION_ROWS} rows"))
        values = (values + [None] * len(header))[: len(header)]
        rows.append(tuple(values))
        excel_rows.append(r)
    if header is None:
        raise InputError(Problem(path.name, None, None, "the file is empty"))
    return RawSheet(path.name, header, tuple(rows), tuple(excel_rows), header_row)


def _target_column(ov) -> S.Column | None:
    """The schema column an override writes (None for sheets outside the core schema)."""
    if ov.sheet == "settings":
        try:
            return S.SETTINGS.column(normalise(ov.keys[0]))
        except (KeyError, IndexError):
            return None
    sheet = S.SHEETS_BY_NAME.get(ov.sheet)
    if sheet is None:
        return None
    try:
        return sheet.column(ov.column)
    except KeyError:
        return None


def parse_definition(sheet: RawSheet, raw: RawWorkbook, *, samples: int | None = None,
                     seed: int = DEFAULT_SEED) -> Design:
    """Validate the definition rows against :data:`SENSITIVITY` and against the workbook (every
    address must apply); all problems at once, each naming sheet, row and column."""
    from .data import check_bounds, coerce
    from .overrides import Override, apply_overrides_logged

    name = sheet.name
    problems: list[Problem] = []
    present = [normalise(h) for h in sheet.header]
    for c in SENSITIVITY.columns:
        if present.count(c.name) > 1:
            problems.append(Problem(name, sheet.header_row, c.name, "column appears twice in the header row"))
        elif c.required and c.name not in present:
            problems.append(Problem(name, sheet.header_row, c.name, "required column is missing from the header row"))
    if problems:
        raise InputError(problems)
    recs = list(sheet.records())
    if not recs:
        raise InputError(Problem(name, None, None, "no rows: list at least one input to vary"))

    design: str | None = None
    design_row = None
    factors: list[Factor] = []
    seen: dict[str, int] = {}
    for r, rec in recs:
        typed: dict[str, Any] = {}
        ok = True
        for col in SENSITIVITY.columns:
            v = rec.get(col.name)
            try:
                v = coerce(v, col.kind)
            except Exception as exc:  # model.data._Bad: a planner-readable reason
                problems.append(Problem(name, r, col.name, str(exc)))
                ok = False
                continue
            if v is None:
                if col.required:
                    problems.append(Problem(name, r, col.name, "required value is blank"))
                    ok = False
                continue
            msg = check_bounds(col, v)
            if msg:
                problems.append(Problem(name, r, col.name, msg))
                ok = False
                continue
            typed[col.name] = v
        d = typed.get("design")
        if d is not None:
            d = normalise(d)
            if d not in DESIGNS:
                problems.append(Problem(name, r, "design", f"unknown design '{typed['design']}'; use one of "
                                                           + ", ".join(DESIGNS)))
                ok = False
            elif design is None:
                design, design_row = d, r
            elif d != design:
                problems.append(Problem(name, r, "design", f"design '{d}' differs from '{design}' on row {design_row}; "
                                                           "all rows must use one design (blank = the first row's)"))
                ok = False
        elif design is None and ok:
            design, design_row = "oat", r
        op = None
        if "operation" in typed:
            op = _OPS.get(normalise(typed["operation"]))
            if op is None:
                problems.append(Problem(name, r, "operation", f"unknown operation '{typed['operation']}'; "
                                                              "use = (set), *= (scale) or += (add)"))
                ok = False
        if not ok or op is None:
            continue
        address = typed["address"]
        low, high = typed["low"], typed["high"]
        if not high > low:
            problems.append(Problem(name, r, "high", f"high ({high:g}) must be greater than low ({low:g})"))
            continue
        try:
            ov = Override(address=address, op=op, value=low, origin=f"sheet '{name}', row {r}")
        except ValueError as exc:
            problems.append(Problem(name, r, "address", str(exc)))
            continue
        ident = f"{ov.sheet}|{','.join(ov.keys)}|{ov.column}"
        if ident in seen:
            problems.append(Problem(name, r, "address", f"{address} is already varied on row {seen[ident]}"))
            continue
        seen[ident] = r
        col = _target_column(ov)
        integer = False
        if col is not None:
            if col.kind in ("bool", "text"):
                problems.append(Problem(name, r, "address", f"{address} is a {'true/false' if col.kind == 'bool' else 'text'} "
                                                            "column; only numbers can be swept"))
                continue
            if col.kind == "int":
                if op == "*=":
                    problems.append(Problem(name, r, "operation", f"{address} takes whole numbers; use = or += "
                                                                  "(values are rounded), not *="))
                    continue
                integer = True
        # every address must resolve on the workbook (at both ends): problems point at this row
        bad = None
        for v in (low, high):
            try:
                apply_overrides_logged(raw, [Override(address=address, op=op, value=int(round(v)) if integer else v,
                                                      origin=f"sheet '{name}', row {r}")])
            except InputError as exc:
                bad = "; ".join(p.message for p in exc.problems)
                break
        if bad:
            problems.append(Problem(name, r, "address", bad))
            continue
        if integer and int(round(low)) == int(round(high)):
            problems.append(Problem(name, r, "high", f"{address} takes whole numbers and low/high round to the same "
                                                     f"value ({int(round(low))})"))
            continue
        factors.append(Factor(address=address, op=op, low=float(low), high=float(high),
                              steps=int(typed.get("steps", DEFAULT_STEPS)), integer=integer, row=r))
    design = design or "oat"
    if samples is not None:
        if design not in SAMPLED:
            problems.append(Problem(name, design_row, "design", f"--samples applies to the {', '.join(SAMPLED)} designs, "
                                                                f"not to '{design}'"))
        elif samples < 2:
            problems.append(Problem(name, design_row, "design", f"--samples must be at least 2, not {samples}"))
        elif design == "sobol" and samples & (samples - 1):
            p = 1 << max(1, samples.bit_length() - 1)
            problems.append(Problem(name, design_row, "design", f"sobol sampling needs --samples to be a power of 2 "
                                                                f"(e.g. {p} or {2 * p}), not {samples}"))
    if problems:
        raise InputError(problems)
    d = Design(kind=design, factors=tuple(factors), source=name,
               samples=(samples or DEFAULT_SAMPLES[design]) if design in SAMPLED else None, seed=seed)
    n = n_design_cases(d)
    if n > MAX_CASES:
        raise InputError(Problem(name, design_row, "steps" if design == "grid" else "design",
                                 f"the {design} design makes {n:,} cases; the limit is {MAX_CASES:,}"))
    return d


def n_design_cases(d: Design) -> int:
    k = len(d.factors)
    if d.kind == "oat":
        return sum(len(f.grid_values()) for f in d.factors)
    if d.kind == "grid":
        return math.prod(len(f.grid_values()) for f in d.factors)
    if d.kind == "lhs":
        return d.samples
    if d.kind == "sobol":
        return d.samples * (k + 2)
    return d.samples * (k + 1)  # morris


# --------------------------------------------------------------------------- cases
def design_matrix(d: Design):
    """The raw sample matrix (rows = cases 1..N, unrounded) of a sampled design; None otherwise."""
    import numpy as np

    if d.kind not in SAMPLED:
        return None
    problem = d.problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if d.kind == "lhs":
            from SALib.sample import latin

            return np.asarray(latin.sample(problem, d.samples, seed=d.seed))
        if d.kind == "sobol":
            from SALib.sample import sobol

            return np.asarray(sobol.sample(problem, d.samples, calc_second_order=False, seed=d.seed))
        from SALib.sample import morris

        return np.asarray(morris.sample(problem, d.samples, num_levels=MORRIS_LEVELS, seed=d.seed))


def make_cases(d: Design) -> list[Case]:
    """Case 0 is the base case (no override); then the design's cases in a fixed order."""
    cases = [Case(0, ())]

    def add(pairs):
        cases.append(Case(len(cases), tuple(f.override(v) for f, v in pairs),
                          tuple((f.label, v) for f, v in pairs)))

    if d.kind == "oat":
        for f in d.factors:
            for v in f.grid_values():
                add([(f, v)])
    elif d.kind == "grid":
        for combo in itertools.product(*(f.grid_values() for f in d.factors)):
            add(list(zip(d.factors, combo)))
    else:
        for row in design_matrix(d):
            add([(f, f.value(x)) for f, x in zip(d.factors, row)])
    return cases


# --------------------------------------------------------------------------- hashing
def workbook_content_sha256(raw: RawWorkbook, exclude: Iterable[str] = (SENSITIVITY.name,)) -> str:
    """sha256 of every sheet's cells (with their Excel rows), sheets named in ``exclude`` left out:
    editing the sweep definition does not invalidate cases already solved."""
    skip = {normalise(x) for x in exclude}
    h = hashlib.sha256()
    for key in sorted(raw.sheets):
        if key in skip:
            continue
        sh = raw.sheets[key]
        blob = [sh.name, list(sh.header), [list(r) for r in sh.rows], list(sh.excel_rows), sh.header_row,
                list(sh.merged), [list(x) for x in sh.formula_cells], sh.complete]
        h.update(json.dumps(blob, default=repr, ensure_ascii=True).encode())
        h.update(b"\x00")
    for p in raw.problems:
        h.update(str(p).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs besides the workbook; the fields that shape a result are hashed."""

    inputs_sha256: str
    mip_rel_gap: float | None = None  # None: the case's settings sheet
    time_limit_s: float | None = None
    warm_start: bool = False
    incremental: bool = True  # measurement switch; results do not depend on it
    kpi_years: tuple[int, ...] = KPI_YEARS

    def result_fields(self) -> dict:
        from .solve import solver_version

        return {"record_version": RECORD_VERSION, "inputs": self.inputs_sha256, "model_version": MODEL_VERSION,
                "battery_plan": __version__, "solver": "highs", "solver_version": solver_version(),
                "threads": 1, "mip_rel_gap": self.mip_rel_gap, "time_limit_s": self.time_limit_s,
                "warm_start": self.warm_start, "kpi_years": list(self.kpi_years)}

    @property
    def key(self) -> str:
        return hashlib.sha256(json.dumps([self.result_fields(), self.incremental], sort_keys=True).encode()).hexdigest()


def case_hash(spec: RunSpec, overrides: Sequence[str]) -> str:
    blob = json.dumps({**spec.result_fields(), "overrides": list(overrides)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


# --------------------------------------------------------------------------- the worker side
FAILED = ("infeasible", "unbounded", "time_limit_no_solution", "error", "invalid_input", "verify_failed")
OK = ("optimal", "time_limit_feasible")


def _kpi_years(data, years: Sequence[int]) -> list[int]:
    out = [y for y in years if y in data.years]
    if data.years[-1] not in out:
        out.append(data.years[-1])
    return out


def kpis(results, years: Sequence[int]) -> dict:
    """Small, flat KPIs of one solved case: the planner's KPIs of :func:`model.kpis.kpis`."""
    from .kpis import kpis as planner_kpis

    return planner_kpis(results, years)


class CaseRunner:
    """One per worker process: the workbook, a persistent HiGHS instance, and the case loop."""

    def __init__(self, raw: RawWorkbook, spec: RunSpec):
        from .highs_direct import HighsDirect
        from .solve import SolverOptions

        self.raw = raw
        self.spec = spec
        self.solver = HighsDirect(SolverOptions(threads=1), incremental=spec.incremental, warm_start=spec.warm_start)
        self.where = f"{socket.gethostname()}:{os.getpid()}"
        self.n_solved = 0
        try:  # build the base model once and hand it to HiGHS: the cases then only update numbers
            from .data import build_case
            from .formulation import build_model

            self.solver.load(build_model(build_case(raw)))
        except Exception:  # a base case that does not build is reported by the cases themselves
            pass

    def run(self, overrides: Sequence[str]) -> dict:
        """One case as a record: :func:`model.pipeline.prepare_case` and :func:`model.pipeline.solve_case`
        (with this worker's HiGHS instance), then the KPIs; any failure becomes the record's status."""
        from .pipeline import Timer, prepare_case, solve_case

        t0 = time.perf_counter()
        c0 = time.process_time()
        rec: dict[str, Any] = {"record_version": RECORD_VERSION, "overrides": list(overrides), "status": "error",
                               "message": "", "objective_npv_usd": None, "best_bound_usd": None, "mip_gap": None,
                               "unmet_gwh_total": None, "highs_seconds": None, "highs_cpu_seconds": None,
                               "kpi": {}, "worker": self.where}
        times: dict[str, float] = {}
        try:
            t = time.perf_counter()
            try:
                data, _ = prepare_case(self.raw, list(overrides))
            except InputError as exc:
                rec["status"] = "invalid_input"
                rec["message"] = "; ".join(str(p) for p in exc.problems)[:2000]
                return rec
            times["prepare"] = time.perf_counter() - t
            timer = Timer(times)
            try:
                results = solve_case(data, time_limit_s=self.spec.time_limit_s, mip_rel_gap=self.spec.mip_rel_gap,
                                     threads=1, timer=timer, solver=self.solver)
            except ModelError as exc:  # the plan fails the independent check: no figures of it are kept
                rec["status"] = "verify_failed"
                rec["message"] = f"independent check failed: {exc}"[:2000]
                return rec
            finally:
                if "solve" in times:  # this worker's HiGHS instance solved the case
                    self.n_solved += 1
                    st = self.solver.last
                    times["compile"] = st.compile_seconds
                    times["update"] = st.update_seconds
                    rec.update(highs_seconds=st.highs_seconds, highs_cpu_seconds=st.highs_cpu_seconds,
                               solve_mode=st.mode, warm_start=st.warm)
            info = results.solve
            rec.update(status=info.status, message=info.message or "", objective_npv_usd=info.objective,
                       best_bound_usd=info.bound, mip_gap=info.mip_gap)
            if info.has_solution:
                t = time.perf_counter()
                rec["unmet_gwh_total"] = float(results.tables["demand"]["unmet_gwh"].sum())
                rec["kpi"] = kpis(results, self.spec.kpi_years)
                notes = [n for n in results.notes if not str(n).startswith("independent check passed")]
                if notes:
                    rec["message"] = "; ".join(notes)[:2000]
                times["post"] = time.perf_counter() - t
            elif not rec["message"]:
                rec["message"] = {"infeasible": "no plan meets every constraint (infeasible)",
                                  "unbounded": "the objective is unbounded",
                                  "time_limit_no_solution": "time limit reached before any plan was found"
                                  }.get(info.status, info.termination)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # any failure becomes a record: the sweep goes on
            rec["status"] = "error"
            rec["message"] = f"{type(exc).__name__}: {exc}"[:2000]
        finally:
            rec["seconds"] = {k: round(v, 6) for k, v in times.items()}
            rec["case_seconds"] = time.perf_counter() - t0
            rec["cpu_seconds"] = time.process_time() - c0
        return rec


# process-pool worker state
_RUNNER: CaseRunner | None = None


def _pool_init(raw: RawWorkbook, spec: RunSpec, main_pid: int | None = None) -> None:
    """Initializer of every pool worker: Ctrl-C is the parent's business; the worker dies with the
    sweep's main process (``kill -9`` included); build the base model once."""
    global _RUNNER
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # pragma: no cover
        pass
    from .isolate import set_parent_death_signal

    set_parent_death_signal()  # the direct parent (fork server) dying kills the worker at once
    if main_pid:
        _start_watchdog(main_pid)
    _RUNNER = CaseRunner(raw, spec)


def _start_watchdog(main_pid: int, every_s: float = 0.5) -> None:
    """A daemon thread that ends this worker within ``every_s`` once the sweep's main process is gone
    (its parent is the fork server, so PR_SET_PDEATHSIG alone does not cover the main process)."""
    def watch():
        while True:
            time.sleep(every_s)
            if not _alive(main_pid):
                os._exit(3)
    threading.Thread(target=watch, name="battery-plan-watchdog", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pid reused by another user's process: ours is gone
        return False
    try:  # a zombie (killed, not yet reaped) is gone too
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return True


def _pool_task(overrides: Sequence[str]) -> dict:
    return _RUNNER.run(overrides)


# Dask worker state: one runner per (workbook, settings), built on the first task of the process;
# one solve at a time per process (HiGHS is not thread-safe across instances of one process).
_DASK_RUNNERS: dict[str, CaseRunner] = {}
_DASK_LOCK = threading.Lock()


def _dask_task(raw: RawWorkbook, spec: RunSpec, overrides: Sequence[str]) -> dict:
    with _DASK_LOCK:
        runner = _DASK_RUNNERS.get(spec.key)
        if runner is None:
            if len(_DASK_RUNNERS) >= 2:
                _DASK_RUNNERS.clear()
            runner = _DASK_RUNNERS[spec.key] = CaseRunner(raw, spec)
        return runner.run(overrides)


# --------------------------------------------------------------------------- the store
def atomic_write_bytes(path: Path, write: Callable[[Any], None]) -> Path:
    """Write through ``write(fileobj)`` atomically (the project's one atomic writer)."""
    return atomic_write(path, write)


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalars
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class CaseStore:
    """One JSON file per finished case, named by its hash, written atomically."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def path(self, h: str) -> Path:
        return self.folder / f"{h}.json"

    def get(self, h: str) -> dict | None:
        p = self.path(h)
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(rec, dict) or rec.get("hash") != h or rec.get("record_version") != RECORD_VERSION \
                or not isinstance(rec.get("status"), str):
            return None
        return rec

    def put(self, h: str, rec: dict) -> None:
        data = json.dumps(_jsonable({**rec, "hash": h}), indent=1, sort_keys=True, allow_nan=False).encode()
        atomic_write_bytes(self.path(h), lambda fh: fh.write(data))


# --------------------------------------------------------------------------- backends
def _error_record(overrides, message: str) -> dict:
    return {"record_version": RECORD_VERSION, "overrides": list(overrides), "status": "error", "message": message,
            "objective_npv_usd": None, "best_bound_usd": None, "mip_gap": None, "unmet_gwh_total": None,
            "highs_seconds": None, "highs_cpu_seconds": None, "kpi": {}, "seconds": {}, "case_seconds": None,
            "cpu_seconds": None, "worker": ""}


#: imported once by the fork server, so that each worker starts warm (scipy.stats is what Pyomo's
#: standard-form compiler pulls in on first use: ~1.5 s per process otherwise)
_PRELOAD = ["numpy", "pandas", "scipy.sparse", "scipy.stats", "pyomo.environ", "pyomo.repn.plugins.standard_form",
            "highspy", "model.sweep", "model.highs_direct", "model.formulation", "model.pipeline", "model.results",
            "model.verify", "model.data"]


def _mp_context():
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        try:
            ctx.set_forkserver_preload(_PRELOAD)
        except Exception:  # pragma: no cover
            pass
        return ctx
    return mp.get_context("spawn")


def _stop_pool(ex, terminate: bool) -> None:
    if ex is None:
        return
    if terminate:
        procs = list((getattr(ex, "_processes", None) or {}).values())
        for p in procs:
            try:
                p.terminate()
            except Exception:
                pass
        ex.shutdown(wait=True, cancel_futures=True)
        for p in procs:
            p.join(timeout=5)
    else:
        ex.shutdown(wait=True, cancel_futures=True)


def _run_pool(pending: deque, raw, spec, workers: int, handle, max_tasks_per_child: int) -> None:
    """Local process pool; a worker that dies is replaced and the cases it may have killed are retried
    one at a time, so only a case that kills a worker on its own is recorded as an error."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = _mp_context()
    suspects: deque = deque()
    while pending or suspects:
        ex = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_pool_init, initargs=(raw, spec, os.getpid()),
                                 max_tasks_per_child=max_tasks_per_child)
        inflight: dict = {}
        broken = False
        ok = False
        try:
            while (pending or suspects or inflight) and not broken:
                if suspects:  # retry one by one after a crash
                    if not inflight:
                        h, ovs = suspects.popleft()
                        inflight[ex.submit(_pool_task, ovs)] = (h, ovs, True)
                else:
                    while pending and len(inflight) < workers:  # no backlog: CPython gh-115634
                        h, ovs = pending.popleft()
                        inflight[ex.submit(_pool_task, ovs)] = (h, ovs, False)
                done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                for fut in done:
                    h, ovs, solo = inflight.pop(fut)
                    try:
                        rec = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        if solo:
                            handle(h, _error_record(ovs, "the worker process died while solving this case "
                                                         "(crash or out of memory)"))
                        else:
                            suspects.append((h, ovs))
                        continue
                    except Exception as exc:
                        rec = _error_record(ovs, f"{type(exc).__name__}: {exc}")
                    handle(h, rec)
            if broken:
                for fut, (h, ovs, solo) in inflight.items():  # cancelled with the broken pool
                    suspects.append((h, ovs))
                inflight.clear()
            ok = True
        finally:
            _stop_pool(ex, terminate=not ok or broken)


def _run_dask(pending: deque, raw, spec, address: str, handle) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover
        raise InputError("--scheduler needs the 'distributed' package (pip install 'dask[distributed]')")
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot connect to the Dask scheduler at {address}: {exc}")
    futures: dict = {}
    try:
        nthreads = sum(client.nthreads().values()) or 1
        window = max(4, 2 * nthreads)
        raw_f = client.scatter(raw, broadcast=True, hash=False)
        ac = as_completed(loop=client.loop)

        def submit():
            h, ovs = pending.popleft()
            fut = client.submit(_dask_task, raw_f, spec, list(ovs), pure=False, key=f"battery-plan-case-{h[:24]}-{time.time_ns()}")
            futures[fut] = (h, ovs)
            ac.add(fut)

        while pending and len(futures) < window:
            submit()
        for fut in ac:
            h, ovs = futures.pop(fut)
            try:
                rec = fut.result()
            except Exception as exc:  # e.g. KilledWorker after Dask's own retries
                rec = _error_record(ovs, f"{type(exc).__name__}: {exc}")
            handle(h, rec)
            if pending:
                submit()
    finally:
        if futures:
            try:
                client.cancel(list(futures))
            except Exception:
                pass
        client.close()


def _run_here(pending: deque, raw, spec, handle) -> None:
    """``--workers 0``: the cases one after another, solved in one forked child (model.isolate), so a
    crash of HiGHS costs that case (recorded as an error) and not the sweep."""
    from . import isolate

    if not isolate.available():
        runner = CaseRunner(raw, spec)
        while pending:
            h, ovs = pending.popleft()
            handle(h, runner.run(ovs))
        return
    worker = None
    ok = False
    try:
        while pending:
            h, ovs = pending[0]
            if worker is None:
                worker = isolate.ChildWorker(lambda: CaseRunner(raw, spec).run)
            alive, rec = worker.call(list(ovs))
            pending.popleft()
            if not alive:
                worker.close()
                worker = None
                rec = _error_record(ovs, f"{rec} (crash in HiGHS)")
            handle(h, rec)
        ok = True
    finally:
        if worker is not None:
            worker.close(kill=not ok)


# --------------------------------------------------------------------------- running a sweep
@dataclass
class SweepResult:
    design: Design
    cases: list[Case]
    table: Any  # pandas DataFrame, one row per case
    records: dict[str, dict]  # hash -> record
    hashes: list[str]  # per case
    n_computed: int = 0  # solved in this run
    n_reused: int = 0  # taken from the store
    n_failed: int = 0
    wall_seconds: float = 0.0
    paths: dict[str, Path] = field(default_factory=dict)
    analysis: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    run_info: dict[str, Any] = field(default_factory=dict)


class _SigtermAsInterrupt:
    """SIGTERM raises KeyboardInterrupt while a sweep runs (when no handler is installed)."""

    def __enter__(self):
        self.old = None
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
                    self.old = signal.signal(signal.SIGTERM, _raise_interrupt)
            except (ValueError, OSError):  # pragma: no cover
                self.old = None
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGTERM, self.old)
        return False


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def default_output(case_path: Path) -> Path:
    return Path("outputs") / f"{Path(case_path).stem}_sweep.xlsx"


def prepare_sweep(case, *, definition=None, samples: int | None = None, seed: int = DEFAULT_SEED):
    """Read and check everything before anything is written: ``(raw, design, cases)``."""
    from .data import build_case
    from .workbook import read_workbook

    raw = case if isinstance(case, RawWorkbook) else read_workbook(case)
    build_case(raw)  # the base case must be valid (InputError otherwise)
    if definition is not None:
        sheet = read_definition_file(definition)
    else:
        sheet = definition_sheet(raw)
        if sheet is None:
            raise InputError(Problem(SENSITIVITY.name, None, None,
                                     "the workbook has no 'sensitivity' sheet; add one (columns address, operation, "
                                     "low, high, steps, design) or give --definition FILE.csv"))
    design = parse_definition(sheet, raw, samples=samples, seed=seed)
    return raw, design, make_cases(design)


def run_sweep(case, *, output=None, definition=None, workers: int | None = None, scheduler: str | None = None,
              samples: int | None = None, seed: int = DEFAULT_SEED, fresh: bool = False, quiet: bool = True,
              mip_rel_gap: float | None = None, time_limit_s: float | None = None, warm_start: bool = False,
              incremental: bool = True, kpi_years: Sequence[int] = KPI_YEARS, figures: bool = True,
              write_outputs: bool = True, max_tasks_per_child: int = 200,
              on_case_done: Callable[[dict], None] | None = None) -> SweepResult:
    """Run a sweep end to end (see the module docstring); ``workers=0`` runs in this process.

    ``on_case_done(record)`` is called in this process after each case is stored (a hook for
    progress reporting and for tests; an exception from it interrupts the sweep like Ctrl-C).
    """
    t_start = time.perf_counter()
    raw, design, cases = prepare_sweep(case, definition=definition, samples=samples, seed=seed)
    case_path = Path(raw.path) if raw.path else Path("case.xlsx")
    out = Path(output) if output else default_output(case_path)
    if write_outputs:  # every output decided and checked before the first solve (model.outputs)
        from .outputs import plan_outputs

        names = ["npv_hist", "tornado", "sobol", "morris"]
        files = [out, out.with_suffix(".parquet"), out.with_suffix(".csv"),
                 *([out.parent / f"{out.stem}_{n}.png" for n in names] if figures else [])]
        inputs = [Path(raw.path)] if raw.path else []
        if definition is not None:
            inputs.append(Path(definition))
        plan_outputs(files, inputs, workbooks=[out],
                     default_outputs=[out] if not output else [], case=Path(raw.path) if raw.path else None,
                     case_sha256=raw.sha256)
    if workers is not None and workers < 0:
        raise InputError("--workers must be >= 0 (0 runs the cases in this process)")
    if mip_rel_gap is not None and not 0 <= mip_rel_gap < 1:
        raise InputError("mip_rel_gap must be in [0, 1)")
    if time_limit_s is not None and not time_limit_s > 0:
        raise InputError("time_limit_s must be > 0")

    spec = RunSpec(inputs_sha256=workbook_content_sha256(raw), mip_rel_gap=mip_rel_gap, time_limit_s=time_limit_s,
                   warm_start=warm_start, incremental=incremental, kpi_years=tuple(int(y) for y in kpi_years))
    hashes = [case_hash(spec, c.overrides) for c in cases]
    store = CaseStore(out.parent / f"{out.stem}_cases")
    records: dict[str, dict] = {}
    pending: deque = deque()
    queued: set[str] = set()
    for c, h in zip(cases, hashes):
        if h in records or h in queued:  # identical cases share one solve
            continue
        rec = None if fresh else store.get(h)
        if rec is not None:
            records[h] = rec
        else:
            queued.add(h)
            pending.append((h, c.overrides))
    n_reused = len(records)
    n_total = len(records) + len(pending)
    result = SweepResult(design=design, cases=cases, table=None, records=records, hashes=hashes, n_reused=n_reused)

    bar = None
    counts = Counter()
    for rec in records.values():
        counts["failed" if rec["status"] not in OK else "ok"] += 1

    def handle(h: str, rec: dict) -> None:
        store.put(h, rec)
        records[h] = {**rec, "hash": h}
        result.n_computed += 1
        counts["failed" if rec["status"] not in OK else "ok"] += 1
        if bar is not None:
            bar.set_postfix(done=counts["ok"] + counts["failed"], failed=counts["failed"], refresh=False)
            bar.update(1)
        if on_case_done is not None:
            on_case_done(records[h])

    n_workers = (os.cpu_count() or 1) if workers is None else workers
    n_workers = min(n_workers, len(pending)) if n_workers else 0
    backend = "dask" if scheduler else ("in-process" if n_workers == 0 else "process-pool")
    if pending:
        from tqdm import tqdm

        bar = tqdm(total=n_total, initial=n_reused, desc="sweep", unit="case", file=sys.stderr, disable=quiet,
                   dynamic_ncols=True, smoothing=0.1)
        bar.set_postfix(done=n_reused, failed=counts["failed"], refresh=False)
        try:
            with _SigtermAsInterrupt():
                if scheduler:
                    _run_dask(pending, raw, spec, scheduler, handle)
                elif n_workers == 0:
                    _run_here(pending, raw, spec, handle)
                else:
                    _run_pool(pending, raw, spec, n_workers, handle, max_tasks_per_child)
        except KeyboardInterrupt:
            bar.close()
            bar = None
            print(f"interrupted: {len(records)} of {n_total} cases are stored in {store.folder}; "
                  "run the same command again to resume", file=sys.stderr)
            raise
        finally:
            if bar is not None:
                bar.close()
    result.wall_seconds = time.perf_counter() - t_start
    result.n_failed = sum(1 for h in hashes if records[h]["status"] not in OK)
    result.table = case_table(design, cases, hashes, records)
    result.analysis, result.notes = analyse(design, cases, result.table)
    result.run_info = dict(backend=backend, workers=n_workers if not scheduler else None, scheduler=scheduler or "",
                           spec=spec, input_file=str(Path(raw.path).resolve()) if raw.path else "", input_sha256=raw.sha256, store=str(store.folder),
                           n_unique=n_total)
    if write_outputs:
        from .xlsx_util import publish_together

        with publish_together():  # the workbook, its tables and figures, or nothing
            result.paths = write_outputs_all(result, out, figures=figures)
    return result


# --------------------------------------------------------------------------- tables and analysis
BASE_COLUMNS = ("case", "status", "net_present_cost_usd", "cost_change_vs_base_usd", "cost_change_vs_base_pct",
                "unmet_gwh_total", "penalty_share_of_cost")
TAIL_COLUMNS = ("mip_gap", "highs_seconds", "case_seconds", "highs_cpu_seconds", "cpu_seconds", "solve_mode",
                "overrides", "message", "hash")
#: The record field that holds a case's objective (the stored records keep their first name).
RECORD_COST = "objective_npv_usd"


def case_table(design: Design, cases: list[Case], hashes: list[str], records: dict[str, dict]):
    """One row per case (case 0 is the base case): net present cost and its change from the base, unmet
    demand and the penalty's share of the cost, the varied inputs, the planner's KPIs, then run details."""
    import pandas as pd

    base = records[hashes[0]].get(RECORD_COST) if hashes else None
    rows = []
    kpi_cols: list[str] = []
    for c, h in zip(cases, hashes):
        rec = records[h]
        obj = rec.get(RECORD_COST)
        row = {"case": c.index, "status": rec.get("status"), "net_present_cost_usd": obj}
        row["cost_change_vs_base_usd"] = (obj - base) if obj is not None and base is not None else None
        row["cost_change_vs_base_pct"] = ((obj - base) / abs(base)) if obj is not None and base else None
        row["unmet_gwh_total"] = rec.get("unmet_gwh_total")
        row["penalty_share_of_cost"] = (rec.get("kpi") or {}).get("penalty_share_of_cost")
        row["mip_gap"] = rec.get("mip_gap")
        vals = dict(c.values)
        for f in design.factors:
            row[f.label] = vals.get(f.label)
        for k, v in (rec.get("kpi") or {}).items():
            if k in BASE_COLUMNS:
                continue
            if k not in kpi_cols:
                kpi_cols.append(k)
            row[k] = v
        row["highs_seconds"] = rec.get("highs_seconds")
        row["case_seconds"] = rec.get("case_seconds")
        row["highs_cpu_seconds"] = rec.get("highs_cpu_seconds")
        row["cpu_seconds"] = rec.get("cpu_seconds")
        row["solve_mode"] = rec.get("solve_mode", "")
        row["overrides"] = "; ".join(c.overrides)
        row["message"] = rec.get("message", "")
        row["hash"] = h
        rows.append(row)
    cols = list(BASE_COLUMNS) + [f.label for f in design.factors] + kpi_cols + list(TAIL_COLUMNS)
    df = pd.DataFrame(rows, columns=cols)
    for c in BASE_COLUMNS[2:] + ("mip_gap", "highs_seconds", "case_seconds", "highs_cpu_seconds", "cpu_seconds") + \
            tuple(f.label for f in design.factors):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    for c in kpi_cols:
        df[c] = pd.to_numeric(df[c], errors="coerce")
    for c in ("status", "solve_mode", "overrides", "message", "hash"):
        df[c] = df[c].fillna("").astype(str)
    return df


#: An input whose swing is at least this share unmet-demand penalty is marked "mostly penalty".
PENALTY_SWING_SHARE = 0.5


def tornado_table(design: Design, cases: list[Case], table):
    """Net present cost at each input's low and high value (others at base), sorted by swing.

    ``penalty_share_of_swing`` is the part of the swing that is unmet-demand penalty; at
    :data:`PENALTY_SWING_SHARE` or more the input is marked ``mostly_penalty``: its bar measures
    demand the plan does not meet, not the cost of a plan.
    """
    import pandas as pd

    base = table.loc[table.case == 0, "net_present_cost_usd"]
    base = float(base.iloc[0]) if len(base) and pd.notna(base.iloc[0]) else None
    cost = dict(zip(table.case, table.net_present_cost_usd))
    pen = dict(zip(table.case, table["unmet_penalty_usd"])) if "unmet_penalty_usd" in table else {}

    def num(d, k):
        v = d.get(k)
        return None if v is None or pd.isna(v) else float(v)

    rows = []
    for f in design.factors:
        mine = [(dict(c.values)[f.label], c.index) for c in cases if len(c.values) == 1 and c.values[0][0] == f.label]
        if not mine:
            continue
        lo_v, lo_c = min(mine)
        hi_v, hi_c = max(mine)
        lo, hi = num(cost, lo_c), num(cost, hi_c)
        plo, phi = num(pen, lo_c), num(pen, hi_c)
        swing = abs(hi - lo) if lo is not None and hi is not None else None
        pswing = abs(phi - plo) if plo is not None and phi is not None else None
        share = (min(1.0, pswing / swing) if swing else (0.0 if pswing == 0 else None)) if pswing is not None else None
        rows.append({"address": f.address, "operation": f.op, "low": lo_v, "high": hi_v,
                     "cost_low_usd": lo, "cost_high_usd": hi, "cost_base_usd": base,
                     "change_at_low_usd": (lo - base) if lo is not None and base is not None else None,
                     "change_at_high_usd": (hi - base) if hi is not None and base is not None else None,
                     "swing_usd": swing, "penalty_swing_usd": pswing, "penalty_share_of_swing": share,
                     "mostly_penalty": bool(share is not None and share >= PENALTY_SWING_SHARE)})
    df = pd.DataFrame(rows, columns=["address", "operation", "low", "high", "cost_low_usd", "cost_high_usd",
                                     "cost_base_usd", "change_at_low_usd", "change_at_high_usd", "swing_usd",
                                     "penalty_swing_usd", "penalty_share_of_swing", "mostly_penalty"])
    if len(df):
        df = df.sort_values("swing_usd", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    return df


def tornado_label(row) -> str:
    """The tornado's label of an input: its address and range, and a warning when its swing is mostly penalty."""
    lab = f"{row.address} {row.operation} [{_num_text(row.low)}, {_num_text(row.high)}]"
    return lab + "  (mostly unmet-demand penalty)" if bool(row.mostly_penalty) else lab


def analyse(design: Design, cases: list[Case], table) -> tuple[dict, list[str]]:
    """Tornado (oat) or SALib indices (sobol, morris) of the net present cost; notes say what was skipped and why."""
    import numpy as np
    import pandas as pd

    out: dict[str, Any] = {}
    notes: list[str] = []
    if design.kind == "oat":
        out["tornado"] = tornado_table(design, cases, table)
        if out["tornado"]["swing_usd"].isna().any():
            notes.append("tornado: some inputs have no swing because a low or high case failed")
        return out, notes
    if design.kind not in ("sobol", "morris"):
        return out, notes
    y = table.loc[table.case > 0].sort_values("case")["net_present_cost_usd"].to_numpy(dtype=float)
    if np.isnan(y).any():
        notes.append(f"{design.kind} indices not computed: {int(np.isnan(y).sum())} case(s) have no net present cost "
                     "(see the cases sheet); the indices need every sample")
        return out, notes
    problem = design.problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if design.kind == "sobol":
            from SALib.analyze import sobol

            res = sobol.analyze(problem, y, calc_second_order=False, print_to_console=False, seed=design.seed)
            out["sobol"] = pd.DataFrame({"address": [f.address for f in design.factors],
                                         "operation": [f.op for f in design.factors],
                                         "S1": res["S1"], "S1_conf": res["S1_conf"],
                                         "ST": res["ST"], "ST_conf": res["ST_conf"]})
        else:
            from SALib.analyze import morris

            X = design_matrix(design)
            res = morris.analyze(problem, X, y, num_levels=MORRIS_LEVELS, print_to_console=False, seed=design.seed)
            out["morris"] = pd.DataFrame({"address": [f.address for f in design.factors],
                                          "operation": [f.op for f in design.factors],
                                          "mu": res["mu"], "mu_star": res["mu_star"], "sigma": res["sigma"],
                                          "mu_star_conf": res["mu_star_conf"]})
            if any(f.integer for f in design.factors):
                notes.append("morris: whole-number inputs were rounded; their effects are approximate")
    if float(np.nanstd(y)) == 0.0:
        notes.append(f"{design.kind}: the net present cost is the same in every case; the indices are undefined")
    return out, notes


# --------------------------------------------------------------------------- writing the outputs
def _owasp(v):
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r", "\0"):
        return "'" + v
    return v


def csv_safe(df):
    """A copy whose text cells cannot run as spreadsheet formulas (OWASP CSV injection)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or str(out[c].dtype) in ("str", "string"):
            out[c] = out[c].map(_owasp)
    out.columns = [_owasp(str(c)) for c in out.columns]
    return out


def summary_sections(result: SweepResult) -> tuple[list[tuple[str, list[tuple]]], list[tuple[str, str]]]:
    """The sweep's cover: ``[(section, [(key, value, unit, meaning), ...])]`` and the alerts (unmet demand)."""
    from .solve import solver_version

    info = getattr(result, "run_info", {})
    spec: RunSpec = info.get("spec")
    t = result.table
    d = result.design
    plan = [
        ("design", d.kind, None, "oat: one input at a time; grid; lhs/sobol/morris: sampled"),
        ("definition_source", d.source, None, "where the sweep's inputs and ranges were defined"),
        ("inputs_varied", len(d.factors), "count", "inputs varied (sheet definition)"),
        ("samples", d.samples, "count", "samples of a sampled design"),
        ("seed", d.seed if d.kind in SAMPLED else None, None, "random seed of a sampled design"),
        ("n_cases", len(result.cases), "count", "cases, the base case (case 0) included"),
        ("n_unique_cases", info.get("n_unique"), "count", "distinct cases solved or reused"),
        ("n_ok", int(t.status.isin(OK).sum()), "count", "cases with a plan"),
        ("n_failed", result.n_failed, "count", "cases without a plan (see the cases sheet, column message)"),
    ]
    for status, n in t.status.value_counts().items():
        plan.append((f"n_status_{status}", int(n), "count", f"cases that ended {status}"))
    base = t.loc[t.case == 0]

    def first(col):
        if not len(base) or col not in base or pd_isna(base[col].iloc[0]):
            return None
        v = base[col].iloc[0]
        return v.item() if hasattr(v, "item") else v

    def agg(col, how):
        if col not in t or not t[col].notna().any():
            return None
        return float(getattr(t[col], how)())

    plan.insert(0, ("base_status", first("status"), None, "how the base case (no input changed) ended"))
    cost = [
        ("base_net_present_cost_usd", first("net_present_cost_usd"), "USD",
         "net present cost of the base case (lower is better)"),
        ("cost_min_usd", agg("net_present_cost_usd", "min"), "USD", "lowest net present cost over the cases"),
        ("cost_max_usd", agg("net_present_cost_usd", "max"), "USD", "highest net present cost over the cases"),
        ("cost_change_vs_base_max_pct", agg("cost_change_vs_base_pct", "max"), "change",
         "largest increase of a case's cost over the base case"),
        ("cost_change_vs_base_min_pct", agg("cost_change_vs_base_pct", "min"), "change",
         "largest decrease of a case's cost below the base case"),
    ]
    tor = result.analysis.get("tornado")
    mostly: list[str] = []
    if tor is not None and len(tor) and tor.swing_usd.notna().any():
        top = tor.iloc[0]
        cost.append(("biggest_swing_input", f"{top.address} {top.operation} [{_num_text(top.low)}, "
                     f"{_num_text(top.high)}]", None, "the input that moves the cost most (sheet tornado)"))
        cost.append(("biggest_swing_usd", float(top.swing_usd), "USD", "its swing: cost at high - cost at low"))
        mostly = [a for a, m in zip(tor.address, tor.mostly_penalty) if bool(m)]
    n_unmet = int((t.unmet_gwh_total.fillna(0) > 1e-6).sum()) if "unmet_gwh_total" in t else 0
    demand = [
        ("base_unmet_gwh_total", first("unmet_gwh_total"), "GWh", "cell demand the base case leaves unmet"),
        ("cases_with_unmet_demand", n_unmet, "count", "cases that leave cell demand unmet (paying the penalty)"),
        ("unmet_gwh_max", agg("unmet_gwh_total", "max"), "GWh", "most unmet cell demand in a case"),
        ("penalty_share_of_cost_max", agg("penalty_share_of_cost", "max"), "share",
         "largest share of a case's cost that is unmet-demand penalty"),
        ("inputs_mostly_penalty", "; ".join(mostly) if mostly else "none", None,
         "inputs whose tornado swing is mostly unmet-demand penalty: their bar measures demand not met"),
    ]
    local = []
    shares = sorted(c for c in t.columns if str(c).startswith("local_value_share_"))
    if shares:
        k = shares[-1]
        local = [(f"base_{k}", first(k), "share", f"local value share of the base case in {k[-4:]}"),
                 (f"{k}_min", agg(k, "min"), "share", f"lowest local value share in {k[-4:]} over the cases"),
                 (f"{k}_max", agg(k, "max"), "share", f"highest local value share in {k[-4:]} over the cases")]
    prov = [
        ("n_computed_this_run", result.n_computed, "count", "cases solved in this run"),
        ("n_reused_from_store", result.n_reused, "count", "cases taken from an earlier run of the same sweep"),
        ("backend", info.get("backend"), None, ""),
        ("workers", info.get("workers"), "count", ""),
        ("scheduler", info.get("scheduler"), None, ""),
        ("wall_seconds", round(result.wall_seconds, 3), "seconds", "elapsed time of this run"),
        ("highs_seconds_total", round(float(t.highs_seconds.sum()), 3), "seconds", "HiGHS time summed over cases"),
        ("case_seconds_total", round(float(t.case_seconds.sum()), 3), "seconds", "case time summed over cases"),
        ("highs_cpu_seconds_total", round(float(t.highs_cpu_seconds.sum()), 3), "seconds", ""),
        ("cases_per_second_this_run", round(result.n_computed / result.wall_seconds, 4)
         if result.wall_seconds and result.n_computed else None, None, ""),
        ("input_file", info.get("input_file"), None, "input workbook"),
        ("input_sha256", info.get("input_sha256"), None, "SHA-256 of the input workbook file"),
        ("inputs_content_sha256", spec.inputs_sha256 if spec else None, None, "SHA-256 of the input sheets' content"),
        ("case_store", info.get("store"), None, "folder of the stored cases (a re-run reuses them)"),
        ("solver", "highs (highspy, persistent instance, threads=1 per worker)", None, ""),
        ("solver_version", solver_version(), None, ""),
        ("model_version", MODEL_VERSION, None, ""),
        ("battery_plan_version", __version__, None, ""),
        ("setting_mip_rel_gap", spec.mip_rel_gap if spec and spec.mip_rel_gap is not None else "from the settings sheet",
         None, ""),
        ("setting_time_limit_s", spec.time_limit_s if spec and spec.time_limit_s is not None
         else "from the settings sheet", None, ""),
        ("setting_warm_start", spec.warm_start if spec else None, None, ""),
    ]
    for i, n in enumerate(result.notes, start=1):
        prov.append((f"note_{i}", n, None, ""))
    alerts = []
    if n_unmet:
        worst, share = agg("unmet_gwh_total", "max"), agg("penalty_share_of_cost", "max")
        alerts.append(("unmet_demand_alert",
                       f"UNMET DEMAND in {n_unmet} of {len(t)} cases: up to {worst:,.1f} GWh of cell demand is not "
                       f"met" + (f" and the penalty is up to {share * 100:.1f}% of a case's net present cost"
                                 if share is not None else "")
                       + ". Those cases pay a penalty instead of supplying demand"
                       + (f"; the tornado bars of {', '.join(mostly)} are mostly that penalty." if mostly else ".")))
    sections = [("Plan (the sweep)", plan), ("Cost", cost), ("Demand", demand), ("Local content", local),
                ("Run provenance", prov)]
    return sections, alerts


def pd_isna(v) -> bool:
    import pandas as pd

    return v is None or bool(pd.isna(v))


def summary_rows(result: SweepResult) -> list[tuple[str, Any]]:
    """The summary's ``(key, value)`` rows, section by section."""
    sections, alerts = summary_sections(result)
    return [*alerts, *[(r[0], r[1]) for _, rows in sections for r in rows]]


#: Columns of the sweep's tables with their cover units beyond :data:`model.styles.COLUMN_UNITS`.
_SWEEP_NOTES = {
    "case": "case number; 0 is the base case (no input changed)",
    "net_present_cost_usd": "net present cost of the case, USD (lower is better)",
    "cost_change_vs_base_usd": "case - base case, USD (positive = dearer)",
    "cost_change_vs_base_pct": "(case - base case) / base case",
    "unmet_gwh_total": "cell demand not met, GWh (charged at the penalty)",
    "penalty_share_of_cost": "unmet-demand penalty / net present cost",
    "swing_usd": "|cost at high - cost at low|, USD",
    "penalty_share_of_swing": "part of the swing that is unmet-demand penalty",
    "mostly_penalty": "TRUE: the swing is mostly penalty for unmet demand, not the cost of a plan",
}


def _write_df(ws, df, number_formats: dict[str, str] | None = None, st=None) -> None:
    """A DataFrame as a table, formatted by unit (:mod:`model.styles`), ready to print."""
    from .styles import column_format, write_table

    fmts = number_formats or {}
    formats = [fmts.get(c) or column_format(str(c)) or _default_format(str(c)) for c in df.columns]
    write_table(ws, [str(c) for c in df.columns], ([_cell(v) for v in row] for row in df.itertuples(index=False)),
                st, formats=formats, notes=_SWEEP_NOTES)


def _default_format(name: str) -> str | None:
    if name.endswith("_usd"):
        return "#,##0"
    if "share" in name or name.endswith("gap"):
        return "0.0%" if "share" in name else "0.00E+00"
    if name.endswith("seconds"):
        return "0.000"
    return None


def _col_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


def _cell(v):
    if v is None:
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _sorted_cases(table):
    """The base case first, then the cases with the biggest cost change."""
    t = table.copy()
    t["_k"] = t.cost_change_vs_base_usd.abs().fillna(-1.0)
    t.loc[t.case == 0, "_k"] = float("inf")
    return t.sort_values(["_k", "case"], ascending=[False, True], kind="stable").drop(columns="_k")


def build_workbook(result: SweepResult):
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference

    from .styles import Styles, write_cover

    st = Styles()
    wb = Workbook()
    ws = wb.active
    ws.title = "summary"
    sections, alerts = summary_sections(result)
    write_cover(ws, sections, st, alerts=alerts)

    wc = wb.create_sheet("cases")
    _write_df(wc, _sorted_cases(result.table), st=st)
    for c in wc[2]:
        if wc.cell(2, 1).value == 0:
            c.fill = st.base_fill  # the base case

    tor = result.analysis.get("tornado")
    if tor is not None:
        wt = wb.create_sheet("tornado")
        tdf = tor.copy()
        tdf.insert(0, "input", [tornado_label(r) for r in tor.itertuples()])
        _write_df(wt, tdf, st=st)
        n = len(tdf)
        for r, m in enumerate(tdf.mostly_penalty, start=2):
            if bool(m):
                for c in wt[r]:
                    c.font = st.alert
        if n:
            cols = list(tdf.columns)
            chart = BarChart()
            chart.type = "bar"
            chart.grouping = "clustered"
            chart.overlap = 100
            chart.title = "Net present cost change vs base case, bn USD (one input at a time)"
            chart.y_axis.title = "bn USD"
            chart.x_axis.title = None
            chart.x_axis.scaling.orientation = "maxMin"  # largest swing on top
            chart.x_axis.tickLblPos = "low"  # labels left of the plot, never over the bars
            chart.x_axis.delete = False
            chart.y_axis.delete = False
            chart.y_axis.number_format = '#,##0.0,,,'
            chart.y_axis.majorGridlines = None
            lo = cols.index("change_at_low_usd") + 1
            data = Reference(wt, min_col=lo, max_col=lo + 1, min_row=1, max_row=n + 1)
            cats = Reference(wt, min_col=1, min_row=2, max_row=n + 1)
            chart.add_data(data, titles_from_data=True)
            chart.set_categories(cats)
            chart.legend.position = "b"
            chart.height = min(17.0, max(7.5, 2.5 + 0.8 * n))
            chart.width = 26
            wt.add_chart(chart, f"A{n + 4}")
    for name, ycols in (("sobol", (3, 5)), ("morris", (4, 4))):
        df = result.analysis.get(name)
        if df is None:
            continue
        wx = wb.create_sheet(name)
        _write_df(wx, df, {c: "0.000" for c in df.columns if c not in ("address", "operation")}, st=st)
        n = len(df)
        if n:
            chart = BarChart()
            chart.type = "bar"
            chart.title = ("Sobol indices of the net present cost (S1, ST)" if name == "sobol"
                           else "Morris mu* of the net present cost (USD)")
            chart.x_axis.scaling.orientation = "maxMin"
            chart.x_axis.tickLblPos = "low"
            chart.x_axis.delete = False
            chart.y_axis.delete = False
            for col in sorted(set(ycols)):
                chart.add_data(Reference(wx, min_col=col, max_col=col, min_row=1, max_row=n + 1), titles_from_data=True)
            chart.set_categories(Reference(wx, min_col=1, min_row=2, max_row=n + 1))
            chart.height = min(17.0, max(7.5, 1.0 + 0.9 * n))
            chart.width = 24
            wx.add_chart(chart, f"A{n + 4}")

    wd = wb.create_sheet("definition")
    import pandas as pd

    ddf = pd.DataFrame([{"address": f.address, "operation": f.op, "low": f.low, "high": f.high,
                         "steps": f.steps if result.design.kind in ("oat", "grid") else None,
                         "design": result.design.kind, "whole_numbers": f.integer, "defined_on_row": f.row}
                        for f in result.design.factors])
    _write_df(wd, ddf, st=st)
    return wb


def write_figures(result: SweepResult, folder: Path, stem: str) -> dict[str, Path]:
    import numpy as np
    from matplotlib.figure import Figure

    paths: dict[str, Path] = {}

    def save(fig, name):
        p = folder / f"{stem}_{name}.png"
        atomic_write_bytes(p, lambda fh: fig.savefig(fh, format="png", dpi=110, bbox_inches="tight"))
        paths[name] = p

    npv = result.table["net_present_cost_usd"].dropna().to_numpy(dtype=float) / 1e9
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    if len(npv):
        ax.hist(npv, bins=min(40, max(5, int(len(npv) ** 0.5) + 1)), color="#1565c0", alpha=0.85)
        base = result.table.loc[result.table.case == 0, "net_present_cost_usd"]
        if len(base) and not np.isnan(base.iloc[0]):
            ax.axvline(base.iloc[0] / 1e9, color="k", ls="--", lw=1, label="base case")
            ax.legend()
    else:
        ax.text(0.5, 0.5, "no solved case", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("net present cost, bn USD")
    ax.set_ylabel("cases")
    ax.set_title(f"Net present cost over {len(result.cases)} cases ({result.design.kind} design)")
    save(fig, "cost_hist")

    tor = result.analysis.get("tornado")
    if tor is not None and len(tor):
        t = tor.iloc[::-1]
        fig = Figure(figsize=(8, 1.2 + 0.45 * len(t)))
        ax = fig.add_subplot()
        yy = np.arange(len(t))
        labels = [tornado_label(r) for r in t.itertuples()]
        ax.barh(yy, t.change_at_low_usd.fillna(0) / 1e9, color="#2e7d32", label="at low")
        ax.barh(yy, t.change_at_high_usd.fillna(0) / 1e9, color="#ef6c00", alpha=0.8, label="at high")
        ax.set_yticks(yy, labels, fontsize=8)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_xlabel("net present cost change vs base case, bn USD (lower is better)")
        ax.set_title("Tornado: one input at a time" + ("; red labels: swing mostly unmet-demand penalty"
                                                        if t.mostly_penalty.any() else ""))
        for lab, m in zip(ax.get_yticklabels(), t.mostly_penalty):
            if bool(m):
                lab.set_color("#c62828")
        ax.legend(loc="lower right", fontsize=8)
        save(fig, "tornado")
    for name in ("sobol", "morris"):
        df = result.analysis.get(name)
        if df is None or not len(df):
            continue
        fig = Figure(figsize=(8, 1.2 + 0.45 * len(df)))
        ax = fig.add_subplot()
        yy = np.arange(len(df))
        if name == "sobol":
            ax.barh(yy - 0.2, df.S1, 0.4, xerr=df.S1_conf, label="S1 (first order)", color="#1565c0")
            ax.barh(yy + 0.2, df.ST, 0.4, xerr=df.ST_conf, label="ST (total)", color="#ef6c00")
            ax.set_xlabel("Sobol index of the net present cost")
        else:
            ax.barh(yy, df.mu_star / 1e9, xerr=df.mu_star_conf / 1e9, color="#1565c0", label="mu*")
            ax.set_xlabel("Morris mu* of the net present cost, bn USD")
        ax.set_yticks(yy, [f"{a} {o}" for a, o in zip(df.address, df.operation)], fontsize=8)
        ax.invert_yaxis()
        ax.legend(fontsize=8)
        save(fig, name)
    return paths


def write_outputs_all(result: SweepResult, out: Path, *, figures: bool = True) -> dict[str, Path]:
    """The workbook, the raw table (parquet and CSV) and PNG figures, each written atomically."""
    from .xlsx_util import atomic_save

    out = Path(out)
    paths: dict[str, Path] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    table = result.table
    pq = out.with_suffix(".parquet")
    atomic_write_bytes(pq, lambda fh: table.to_parquet(fh, index=False))
    paths["parquet"] = pq
    csv = out.with_suffix(".csv")
    safe = csv_safe(table)
    atomic_write_bytes(csv, lambda fh: fh.write(safe.to_csv(index=False, lineterminator="\n").encode("utf-8")))
    paths["csv"] = csv
    if figures:
        try:
            paths.update(write_figures(result, out.parent, out.stem))
        except Exception as exc:  # a figure never costs the results
            result.notes.append(f"figures not written: {type(exc).__name__}: {exc}")
    paths["workbook"] = atomic_save(build_workbook(result), out)
    return paths


# --------------------------------------------------------------------------- command line
def run_sweep_cli(args) -> int:
    """``battery-plan sweep``: 0 done (failed cases are recorded in the workbook), 1 no case could be
    solved, 2 bad input; Ctrl-C leaves the stored cases for a resume."""
    if args.workers is not None and args.workers < 0:
        raise InputError("--workers must be >= 0 (0 runs the cases in this process)")
    if args.samples is not None and not 1 <= args.samples <= MAX_CASES:
        raise InputError(f"--samples must be between 1 and {MAX_CASES:,}")
    case = Path(args.case)
    res = run_sweep(case, output=args.output, definition=getattr(args, "definition", None), workers=args.workers,
                    scheduler=args.scheduler, samples=args.samples, fresh=args.fresh, quiet=args.quiet)
    t = res.table
    ok = t[t.status.isin(OK)]
    base = t.loc[t.case == 0]
    line = (f"sweep: {res.design.kind} design, {len(t)} cases ({res.n_reused} stored earlier, "
            f"{res.n_computed} solved now), {res.n_failed} failed")
    print(line)
    if len(base) and base.net_present_cost_usd.notna().iloc[0]:
        print(f"net present cost: base {base.net_present_cost_usd.iloc[0] / 1e9:,.3f} bn USD, range "
              f"{ok.net_present_cost_usd.min() / 1e9:,.3f} .. {ok.net_present_cost_usd.max() / 1e9:,.3f} bn USD")
    _, alerts = summary_sections(res)
    for _, text in alerts:  # loud: a sweep whose bars are penalty measures unmet demand, not plans
        bar = "!" * 78
        print(f"{bar}\n{text}\n{bar}", file=sys.stderr)
    for n in res.notes:
        print(f"note: {n}")
    if res.n_computed:
        print(f"time: {res.wall_seconds:.1f} s wall for {res.n_computed} cases "
              f"({res.n_computed / max(res.wall_seconds, 1e-9):.2f} cases/s); HiGHS solve time summed over "
              f"all cases {float(t.highs_seconds.sum()):.1f} s")
    print(f"results: {res.paths.get('workbook')} (table: {res.paths.get('parquet')}, {res.paths.get('csv')})")
    return 0 if len(ok) else 1
