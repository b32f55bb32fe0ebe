"""A primal heuristic for a MIP start: relax-and-fix over time windows.

The model is compiled once (:func:`model.highs_direct.compile_model`) and solved as a sequence of
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

import time
from dataclasses import dataclass

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

    from .highs_direct import TriviallyInfeasible, _pass, _quiet_stdout, compile_model

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
