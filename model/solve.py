"""Solving with HiGHS through Pyomo's persistent interface, and reading how the solve ended.

Never raises on a non-optimal outcome: the caller gets a :class:`SolveInfo` whose status is one
of optimal, time_limit_feasible, time_limit_no_solution, infeasible, unbounded or error.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

import pyomo.core as pyo

from .interrupt import stop_requested
from .results import SolveInfo


#: HiGHS options measured on the benchmark set (docs/performance.md, ``benchmarks/levers.py``) and
#: kept only if they helped across sizes and seeds; empty: HiGHS's defaults won.
TUNED_HIGHS_OPTIONS: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class SolverOptions:
    mip_rel_gap: float = 1e-4
    time_limit_s: float = 600.0
    threads: int | None = None  # None: HiGHS default; sweeps use 1 per worker process
    tee: bool = False
    extra: tuple[tuple[str, object], ...] = ()  # further HiGHS options (name, value)

    @classmethod
    def from_settings(cls, settings, **overrides) -> "SolverOptions":
        kw = dict(mip_rel_gap=settings.mip_rel_gap, time_limit_s=settings.time_limit_s)
        kw.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**kw)


@lru_cache(maxsize=1)
def solver_version() -> str:
    try:
        return metadata.version("highspy")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def make_solver(opts: SolverOptions):
    from pyomo.contrib.solver.solvers.highs import Highs

    opt = Highs()
    c = opt.config
    c.load_solutions = False
    c.raise_exception_on_nonoptimal_result = False
    c.tee = opts.tee
    c.time_limit = float(opts.time_limit_s)
    c.rel_gap = float(opts.mip_rel_gap)
    if opts.threads:
        c.threads = int(opts.threads)
    so = {"output_flag": bool(opts.tee), "mip_abs_gap": 1e-6}
    so.update(dict(opts.extra))
    c.solver_options = so
    return opt


def solve_model(m: pyo.ConcreteModel, opts: SolverOptions, solver=None, start=None) -> SolveInfo:
    """Solve ``m`` (objective ``m.npv``) and load the solution when there is one.

    ``start``: optional ``[(VarData, value)]`` handed to HiGHS as a MIP start (e.g. from
    :func:`model.warmstart.relax_and_fix`); HiGHS checks it and ignores it when infeasible, so the
    optimum is unchanged.
    """
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition as TC

    opt = solver or make_solver(opts)
    t0 = time.perf_counter()
    try:
        if start:
            _set_start(opt, m, start)
        res = opt.solve(m)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # a solver failure is reported, never a traceback
        return SolveInfo(status="error", solve_seconds=time.perf_counter() - t0, solver_version=solver_version(),
                         termination="exception", message=f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - t0
    tc = res.termination_condition
    if tc == TC.interrupted or stop_requested():  # Ctrl-C / SIGTERM reached HiGHS: the run stops, nothing is reported
        raise KeyboardInterrupt("HiGHS was interrupted")
    has_sol = res.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible) and res.incumbent_objective is not None
    info = SolveInfo(status="error", solve_seconds=seconds, solver_version=solver_version(), termination=str(tc.name))
    if tc == TC.convergenceCriteriaSatisfied and has_sol:
        info.status = "optimal"
    elif tc in (TC.maxTimeLimit, TC.iterationLimit, TC.objectiveLimit, TC.unknown) and has_sol:
        info.status = "time_limit_feasible"
    elif tc in (TC.maxTimeLimit, TC.iterationLimit):
        info.status = "time_limit_no_solution"
    elif tc == TC.provenInfeasible:
        info.status = "infeasible"
    elif tc == TC.unbounded:
        info.status = "unbounded"
    elif tc == TC.infeasibleOrUnbounded:
        info.status = _infeasible_or_unbounded(m, opts)
    else:
        info.message = f"HiGHS ended with {tc.name}"
    if info.has_solution:
        res.solution_loader.load_vars()
        info.objective = float(res.incumbent_objective)
        bound = res.objective_bound
        info.bound = float(bound) if bound is not None and math.isfinite(bound) else None
        if info.bound is not None:
            info.mip_gap = abs(info.objective - info.bound) / max(abs(info.objective), 1e-10)
            if info.status == "optimal" and info.mip_gap < 1e-12:
                info.mip_gap = 0.0
        elif info.status == "optimal":
            info.mip_gap = 0.0
    return info


def _set_start(opt, m, start) -> None:
    """Translate ``m`` into ``opt``'s HiGHS instance now and give HiGHS the MIP start ``start``.

    Pyomo's persistent ``highs`` has no warm-start option; its ``solve`` re-uses an instance set
    here (it only runs ``update()``), so a solution set on the HiGHS object before is kept.
    """
    import numpy as np

    opt.set_instance(m)
    col = getattr(opt, "_pyomo_var_to_solver_var_map", None)
    h = getattr(opt, "_solver_model", None)
    if col is None or h is None:  # another Pyomo version: solve without the start
        return
    idx, val = [], []
    for v, x in start:
        j = col.get(id(v))
        if j is not None and x is not None and math.isfinite(x):
            idx.append(j)
            val.append(float(x))
    if idx:
        h.setSolution(len(idx), np.asarray(idx, dtype=np.int32), np.asarray(val, dtype=float))


def _infeasible_or_unbounded(m, opts: SolverOptions) -> str:
    """Disambiguate HiGHS's 'infeasible or unbounded' by a feasibility solve (zero objective)."""
    from pyomo.contrib.solver.common.results import TerminationCondition as TC

    m.npv.deactivate()
    m._feas_obj = pyo.Objective(expr=0.0)
    try:
        res = make_solver(opts).solve(m)
        return "unbounded" if res.termination_condition == TC.convergenceCriteriaSatisfied else "infeasible"
    finally:
        m.del_component(m._feas_obj)
        m.npv.activate()


def write_model(m: pyo.ConcreteModel, path: str) -> str:
    """Write the model as MPS/LP (by extension) with readable names, for HiGHS standalone runs."""
    import pyomo.environ  # noqa: F401 - registers the MPS/LP writers (the model modules import only pyomo.core)

    fname, _ = m.write(str(path), io_options={"symbolic_solver_labels": True})
    return fname
