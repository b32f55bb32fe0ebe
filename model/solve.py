"""The solver wing: the one module that talks to HiGHS (through Pyomo's persistent interface).

* :class:`SolverOptions` and :func:`make_solver`: options, time limits, threads;
* :func:`solve_model`: the main MIP solve and its status mapping (never raises on a non-optimal
  outcome: :class:`SolveInfo` says optimal, time_limit_feasible, time_limit_no_solution,
  infeasible, unbounded or error), with the infeasible-or-unbounded disambiguation;
* :func:`solve_exact`: a follow-up solve to proven optimality (the elastic model of
  :mod:`model.diagnose`);
* :func:`solve_lp_duals`: an LP solved for its row duals (the fixed-plan LP of :mod:`model.marginals`);
* :func:`lp_iis`: HiGHS's irreducible infeasible set of a model's LP relaxation (:mod:`model.diagnose`);
* :func:`write_model`: MPS/LP for standalone HiGHS runs.

``model.warmstart`` (a MIP-start heuristic for benchmarks and ``tests/test_fast.py``) also uses
highspy directly; :func:`reset_thread_scheduler` lets a sweep worker solve with ``threads=1``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

import pyomo.core as pyo

from .interrupt import stop_requested
from .output_schema import SolveInfo


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


# --------------------------------------------------------------------------- follow-up solves
def solve_exact(m: pyo.ConcreteModel, *, time_limit_s: float, threads: int | None = None) -> tuple[bool, bool, str]:
    """Solve ``m`` to a zero gap; ``(has_solution, approximate, termination)``; loads the solution when there is one.

    ``approximate``: a solution was found but not proven optimal (time limit).
    """
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition as TC

    sub = SolverOptions(mip_rel_gap=1e-9, time_limit_s=time_limit_s, threads=threads, tee=False)
    res = make_solver(sub).solve(m)
    has = res.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible) and res.incumbent_objective is not None
    if not has:
        return False, False, res.termination_condition.name
    res.solution_loader.load_vars()
    return True, res.termination_condition != TC.convergenceCriteriaSatisfied, ""


def solve_lp_duals(m: pyo.ConcreteModel, opts: SolverOptions, constraints) -> tuple[str, float | None, dict]:
    """Solve the LP ``m`` and read the duals of ``constraints`` (NPV USD per unit of right-hand side).

    Returns ``(message, objective, duals)``; ``message`` is empty on success and says why otherwise
    (never raises). Only the gap, time limit and threads of ``opts`` are used.
    """
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition as TC

    lp_opts = SolverOptions(mip_rel_gap=opts.mip_rel_gap, time_limit_s=opts.time_limit_s, threads=opts.threads)
    solver = make_solver(lp_opts)
    try:
        res = solver.solve(m)
    except Exception as exc:  # noqa: BLE001 - reported, never raised
        return f"{type(exc).__name__}: {exc}", None, {}
    if res.termination_condition != TC.convergenceCriteriaSatisfied or res.solution_status != SolutionStatus.optimal:
        return f"the LP with the build plan fixed ended with {res.termination_condition.name}", None, {}
    res.solution_loader.load_vars()
    cons = list(constraints)
    try:
        duals = res.solution_loader.get_duals(cons_to_load=cons) if cons else {}
    except Exception as exc:  # noqa: BLE001
        return f"HiGHS gave no duals ({type(exc).__name__}: {exc})", float(res.incumbent_objective), {}
    return "", float(res.incumbent_objective), dict(duals)


def lp_iis(m: pyo.ConcreteModel, *, time_limit_s: float):
    """HiGHS's irreducible infeasible set of the LP relaxation of ``m``, or None when there is none.

    ``m`` goes to HiGHS through an MPS file with readable names (the names are how the set is
    mapped back). Returns ``(rows, cols, symbols)``: ``rows`` and ``cols`` are ``[(name, bound)]``
    (HiGHS's names and bound codes) and ``symbols`` maps a name to its Pyomo component data.
    """
    import tempfile
    from pathlib import Path

    import highspy
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.mps"
        _, smap_id = m.write(str(path), io_options={"symbolic_solver_labels": True})
        smap = m.solutions.symbol_map[smap_id].bySymbol
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.readModel(str(path))
    h.setOptionValue("iis_strategy", 6)  # from the whole LP, reduced to an irreducible set
    h.setOptionValue("time_limit", float(time_limit_s))
    lp = h.getLp()
    n = lp.num_col_
    if n:
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                                np.array([highspy.HighsVarType.kContinuous] * n))
    status, iis = h.getIis()
    if status == highspy.HighsStatus.kError or not iis.valid_ or (len(iis.row_index_) == 0 and len(iis.col_index_) == 0):
        return None
    rows = [(lp.row_names_[i], int(b)) for i, b in zip(iis.row_index_, iis.row_bound_)]
    cols = [(lp.col_names_[j], int(b)) for j, b in zip(iis.col_index_, iis.col_bound_)]
    return rows, cols, smap


def reset_thread_scheduler() -> None:
    """Drop HiGHS's process-wide thread scheduler, so the next solve starts one with its own ``threads``.

    HiGHS refuses to run (Pyomo then reports ``unknown``) when a process's scheduler was started with
    another thread count, e.g. by an earlier solve with HiGHS's default threads in the same Python
    session; a sweep worker calls this before each case, which it solves with ``threads=1``.
    """
    import highspy

    reset = getattr(highspy.Highs, "resetThreadScheduler", None) or getattr(highspy.Highs, "resetGlobalScheduler", None)
    if reset is not None:
        reset(False)
