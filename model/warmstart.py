"""A primal heuristic for a MIP start: relax-and-fix over time windows.

The model is compiled once (:func:`compile_model`, below) and solved as a sequence of
small MIPs on one ``highspy.Highs`` instance. Stage k covers the years of window k
(``window_years`` long, in horizon order):

* integer columns of years before the window are **fixed** at the values stage k-1 chose;
* integer columns of the window's years are **integer**;
* integer columns of later years are **relaxed** (continuous within their bounds);
* continuous columns are free throughout.

Integer columns that carry no year (none in the core model; an extension may add some) are integer
in the last stage. Each stage is solved to ``stage_gap`` within ``stage_time_limit_s``; the last
stage has every integer column fixed or integer, so its solution is a feasible point of the full
model. Its column values are returned as ``[(VarData, value)]`` for
:func:`model.solve.solve_model` to hand to HiGHS as a MIP start.

Why it is safe: a MIP start only gives HiGHS an incumbent; HiGHS checks it for feasibility and
ignores it otherwise, and the search still proves the optimum of the full model to the requested
gap. The optimum is unchanged; only the time to find good incumbents may change
(docs/performance.md has the measurement, ``tests/test_fast.py`` checks the optimum).

A stage that ends without a solution (infeasible, or out of time) stops the heuristic: there is
then no start, which is harmless.
"""
from __future__ import annotations

import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class StartInfo:
    """What the heuristic did (for the benchmarks and the summary)."""

    found: bool = False
    objective: float | None = None  # of the start, in the model's objective units
    seconds: float = 0.0
    stages: int = 0
    message: str = ""


def _column_year(key, years: set[int]) -> int | None:
    """The year of a column from its index ``(name, index)``: the last integer of the index in ``years``."""
    idx = key[1]
    if not isinstance(idx, tuple):
        idx = (idx,)
    for part in reversed(idx):
        if isinstance(part, int) and part in years:
            return part
    return None


def relax_and_fix(m, years, *, window_years: int = 5, stage_time_limit_s: float = 10.0, stage_gap: float = 1e-3,
                  threads: int | None = None, time_budget_s: float = 30.0) -> tuple[list | None, StartInfo]:
    """Relax-and-fix over windows of ``window_years``; returns (``[(VarData, value)]`` or None, info)."""
    import highspy

    t0 = time.perf_counter()
    info = StartInfo()
    try:
        sf = compile_model(m)
    except TriviallyInfeasible as exc:
        info.message = f"trivially infeasible: {exc}"
        return None, _done(info, t0)
    years = sorted(years)
    if not sf.integer.any() or not years:
        info.message = "no integer columns" if years else "no years"
        return None, _done(info, t0)
    yset = set(years)
    # the year of each integer column; integer columns without a year are decided in the last stage
    col_year = np.full(sf.n_cols, -1, dtype=np.int64)
    for j in np.flatnonzero(sf.integer):
        y = _column_year(sf.col_keys[j], yset)
        col_year[j] = years[-1] if y is None else y
    with _quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", float(stage_gap))
    h.setOptionValue("mip_abs_gap", 1e-6)
    if threads:
        h.setOptionValue("threads", int(threads))
    _pass(h, sf)
    int_cols = np.flatnonzero(sf.integer).astype(np.int32)
    K, C = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
    windows = [years[i:i + window_years] for i in range(0, len(years), window_years)]
    values = None
    for w in windows:
        lo, hi = w[0], w[-1]
        cy = col_year[int_cols]
        types = np.where(cy > hi, C, K)
        h.changeColsIntegrality(len(int_cols), int_cols, np.array(types))
        if values is not None:  # fix the integers of earlier windows
            fix = int_cols[cy < lo]
            v = np.round(values[fix])
            h.changeColsBounds(len(fix), fix.astype(np.int32), v, v)
        left = time_budget_s - (time.perf_counter() - t0)
        if left <= 0:
            info.message = "out of time budget"
            return None, _done(info, t0)
        h.setOptionValue("time_limit", float(min(stage_time_limit_s, left)))
        h.run()
        info.stages += 1
        sol = h.getSolution()
        if h.getInfo().primal_solution_status != 2:
            info.message = f"stage {lo}-{hi}: {h.modelStatusToString(h.getModelStatus())}"
            return None, _done(info, t0)
        values = np.asarray(sol.col_value, dtype=float)
    values[int_cols] = np.round(values[int_cols])
    info.found = True
    info.objective = float(h.getInfo().objective_function_value) * sf.sense
    return list(zip(sf.columns, values.tolist())), _done(info, t0)


def _done(info: StartInfo, t0: float) -> StartInfo:
    info.seconds = time.perf_counter() - t0
    return info


# --------------------------------------------------------------------------- the model in memory
@dataclass
class StandardForm:
    """A linear (mixed-integer) model as HiGHS takes it: ``min cost.x + offset``,
    ``row_lower <= A x <= row_upper``, ``col_lower <= x <= col_upper``, some ``x`` integer.

    Row convention of Pyomo's standard-form compiler in mixed form: ``bound_type`` 0 is ``=``, 1 is
    ``<=``, -1 is ``>=``, with the body's constant already moved to ``rhs``; a ranged constraint
    arrives as two rows (1 then -1) and is merged back into one HiGHS row here.
    """

    columns: list  # Pyomo VarData in HiGHS column order
    col_keys: tuple  # (component name, index) per column
    row_keys: tuple  # (component name, index) per row
    cost: np.ndarray
    offset: float
    sense: int  # 1 minimise, -1 maximise (cost and offset are already for minimisation)
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    A: Any  # scipy.sparse csc, rows x columns
    integer: np.ndarray  # bool per column

    @property
    def n_cols(self) -> int:
        return len(self.columns)

    @property
    def n_rows(self) -> int:
        return len(self.row_keys)


class TriviallyInfeasible(Exception):
    """A constraint without variables whose bounds cannot hold (the compiler refuses it)."""


def _key(component_data) -> tuple:
    return (component_data.parent_component().name, component_data.index())


def compile_model(m) -> StandardForm:
    """Compile the active linear model ``m`` (one active objective) to a :class:`StandardForm`
    in one vectorised pass (``pyomo.repn.plugins.standard_form.LinearStandardFormCompiler``)."""
    import pyomo.environ as pyo
    from pyomo.common.errors import InfeasibleConstraintException
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    try:
        info = LinearStandardFormCompiler().write(m, mixed_form=True)
    except InfeasibleConstraintException as exc:
        raise TriviallyInfeasible(str(exc)) from None
    if len(info.objectives) != 1:
        raise ValueError(f"the model must have exactly one active objective, not {len(info.objectives)}")
    sense = -1 if info.objectives[0].sense == pyo.maximize else 1
    columns = list(info.columns)
    n = len(columns)
    A = info.A.tocsc() if info.A.shape[0] else None
    c = np.zeros(n)
    cc = info.c.tocsr()
    if cc.shape[0]:
        row = cc[[0], :].tocoo()
        c[row.col] = row.data
    offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0

    keys, lower, upper, keep = [], [], [], []
    prev_con = None
    for k, (entry, rhs) in enumerate(zip(info.rows, info.rhs)):
        con, bt = entry.constraint, entry.bound_type
        rhs = float(rhs)
        if bt == -1 and prev_con is con:  # second half of a ranged constraint
            lower[-1] = rhs
            continue
        keys.append(_key(con))
        keep.append(k)
        if bt == 0:
            lower.append(rhs), upper.append(rhs)
        elif bt == 1:
            lower.append(-math.inf), upper.append(rhs)
        elif bt == -1:
            lower.append(rhs), upper.append(math.inf)
        else:  # pragma: no cover - the compiler documents only these three
            raise ValueError(f"unknown row bound type {bt!r}")
        prev_con = con
    if A is None:
        import scipy.sparse as sp

        A = sp.csc_array((0, n))
    elif len(keep) != A.shape[0]:
        A = A.tocsr()[keep, :].tocsc()
    A.sort_indices()

    col_lower = np.array([-math.inf if v.lb is None else float(v.lb) for v in columns], dtype=float)
    col_upper = np.array([math.inf if v.ub is None else float(v.ub) for v in columns], dtype=float)
    integer = np.array([v.is_integer() for v in columns], dtype=bool)
    return StandardForm(columns=columns, col_keys=tuple(_key(v) for v in columns), row_keys=tuple(keys),
                        cost=c, offset=offset, sense=sense, col_lower=col_lower, col_upper=col_upper,
                        row_lower=np.array(lower, dtype=float), row_upper=np.array(upper, dtype=float),
                        A=A, integer=integer)


def _pass(h, sf: StandardForm) -> None:
    """Hand ``sf`` to the ``highspy.Highs`` instance ``h`` (``passModel``)."""
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_ = sf.n_cols
    lp.num_row_ = sf.n_rows
    lp.col_cost_ = sf.cost
    lp.offset_ = sf.offset
    lp.col_lower_ = sf.col_lower
    lp.col_upper_ = sf.col_upper
    lp.row_lower_ = sf.row_lower
    lp.row_upper_ = sf.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = sf.n_cols
    lp.a_matrix_.num_row_ = sf.n_rows
    lp.a_matrix_.start_ = sf.A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = sf.A.indices.astype(np.int32)
    lp.a_matrix_.value_ = sf.A.data.astype(float)
    if sf.integer.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in sf.integer]
    if h.passModel(lp) == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model (passModel returned an error)")


@contextmanager
def _quiet_stdout():
    """Silence the C-level stdout (HiGHS prints a banner when the first instance of a process is made)."""
    try:
        import sys

        sys.stdout.flush()
        fd = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no real stdout (embedded use)
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            try:
                yield
            finally:
                os.dup2(fd, 1)
    finally:
        os.close(fd)
