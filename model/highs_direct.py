"""Solve a Pyomo model with HiGHS through ``highspy`` directly, re-using one HiGHS instance.

Why: a sweep solves hundreds of cases that differ in a few numbers. Pyomo's persistent ``highs``
interface compiles every constraint in Python on each ``set_instance``; here the model is compiled
in one vectorised pass by :class:`pyomo.repn.plugins.standard_form.LinearStandardFormCompiler`
(``mixed_form=True``), handed to :class:`highspy.Highs` with ``passModel``, and for the next case
with the *same structure* (same variables, constraints, sparsity pattern and integrality) only the
numbers that differ are pushed (``changeColsCost``, ``changeColsBounds``, ``changeRowsBounds``,
``changeCoeff``, ``changeObjectiveOffset``). The solution is loaded back onto the Pyomo variables,
so :func:`model.results.extract` and :mod:`model.verify` work unchanged, and the outcome is a
:class:`model.results.SolveInfo` with exactly the status mapping of :mod:`model.solve`.

Row convention of the compiler's mixed form (checked against Pyomo's ``gpu``/``gurobi_direct`` use
and by ``tests/test_sweep.py``): ``rows[k].bound_type`` is 0 for ``=``, 1 for ``<=`` and -1 for
``>=``, and ``rhs[k]`` is the bound with the body's constant already moved over. A ranged
constraint arrives as two rows (1 then -1); they are merged back into one HiGHS row.

Reproducibility: by default every solve starts *cold* (``clearSolver``) and a changed sparsity
pattern triggers a full ``passModel``; an incrementally updated model is then the very same LP, so a
case gets the same answer whatever the worker solved before (``tests/test_sweep.py`` checks this).
``warm_start=True`` additionally hands the previous case's solution to HiGHS (``setSolution``) as a
MIP start: it can save time, but with a non-zero MIP gap the plan returned may then depend on the
order in which a worker met the cases.

Values are cleaned before they are loaded (``clean_values=True``): clipped to their bounds, |x| <
1e-9 set to 0 (as :mod:`model.results` reports them), integers within HiGHS's integrality tolerance
(1e-6) snapped; the objective reported is HiGHS's own. Without this, the cost ledger (raw values)
and the tables (cleaned values) can disagree by noise x a large coefficient - a binary at 1e-13 x a
2e7 USD opening cost, or unmet demand at -1.8e-15 GWh x 1e9 USD/GWh - and the independent check
rejects a valid plan (seen on 2 of ~50 base-case LHS cases; the Pyomo path has the same issue).

Threads: HiGHS ties its thread pool to the process, so every instance created here gets the same
``threads`` option (1 in sweeps: one process per worker, one thread per process). HiGHS refuses to
run when the process's scheduler was started with another count (say by an earlier solve with
HiGHS's default threads in the same Python session); the solve then resets the scheduler and
retries once.
"""
from __future__ import annotations

import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .output_schema import SolveInfo
from .solve import SolverOptions, solver_version

INF = math.inf
INT_SNAP = 1e-6  # HiGHS's default mip_feasibility_tolerance
ZERO_SNAP = 1e-9  # model.results reports |x| < 1e-9 as 0


# --------------------------------------------------------------------------- standard form
@dataclass
class StandardForm:
    """A linear (mixed-integer) model as HiGHS takes it: ``min cost.x + offset``,
    ``row_lower <= A x <= row_upper``, ``col_lower <= x <= col_upper``, some ``x`` integer."""

    columns: list  # Pyomo VarData in HiGHS column order
    col_keys: tuple  # (component name, index) per column: the structure's identity
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
    loose_vars: list = field(default_factory=list)  # model variables in no row and not in the objective

    @property
    def n_cols(self) -> int:
        return len(self.columns)

    @property
    def n_rows(self) -> int:
        return len(self.row_keys)

    def same_structure(self, other: "StandardForm") -> bool:
        """Same columns, rows and integrality (the numbers may differ)."""
        return (self.col_keys == other.col_keys and self.row_keys == other.row_keys
                and np.array_equal(self.integer, other.integer) and self.sense == other.sense)

    def same_pattern(self, other: "StandardForm") -> bool:
        """Same sparsity pattern of ``A`` (requires :meth:`same_structure`)."""
        return (np.array_equal(self.A.indptr, other.A.indptr) and np.array_equal(self.A.indices, other.A.indices))


class TriviallyInfeasible(Exception):
    """A constraint without variables whose bounds cannot hold (the compiler refuses it)."""


def _key(component_data) -> tuple:
    return (component_data.parent_component().name, component_data.index())


def compile_model(m) -> StandardForm:
    """Compile the active linear model ``m`` (one active objective) to a :class:`StandardForm`."""
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

    # rows: merge a ranged constraint's two rows (<= then >=) into one HiGHS row
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
            lower.append(-INF), upper.append(rhs)
        elif bt == -1:
            lower.append(rhs), upper.append(INF)
        else:  # pragma: no cover - the compiler documents only these three
            raise ValueError(f"unknown row bound type {bt!r}")
        prev_con = con
    if A is None:
        import scipy.sparse as sp

        A = sp.csc_array((0, n))
    elif len(keep) != A.shape[0]:
        A = A.tocsr()[keep, :].tocsc()
    A.sort_indices()

    col_lower = np.array([-INF if v.lb is None else float(v.lb) for v in columns], dtype=float)
    col_upper = np.array([INF if v.ub is None else float(v.ub) for v in columns], dtype=float)
    integer = np.array([v.is_integer() for v in columns], dtype=bool)
    in_cols = {id(v) for v in columns}
    loose = [v for v in m.component_data_objects(pyo.Var, active=True, descend_into=True)
             if id(v) not in in_cols and not v.fixed]
    return StandardForm(columns=columns, col_keys=tuple(_key(v) for v in columns), row_keys=tuple(keys),
                        cost=c, offset=offset, sense=sense, col_lower=col_lower, col_upper=col_upper,
                        row_lower=np.array(lower, dtype=float), row_upper=np.array(upper, dtype=float),
                        A=A, integer=integer, loose_vars=loose)


# --------------------------------------------------------------------------- HiGHS instance
_BANNER_SHOWN = False


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


def new_highs(options: SolverOptions):
    """A silent ``highspy.Highs`` with the options every instance of this module gets."""
    import highspy

    global _BANNER_SHOWN
    if _BANNER_SHOWN or options.tee:
        h = highspy.Highs()
    else:
        with _quiet_stdout():
            h = highspy.Highs()
        _BANNER_SHOWN = True
    apply_options(h, options)
    return h


def apply_options(h, options: SolverOptions) -> None:
    """The same options :func:`model.solve.make_solver` gives Pyomo's interface (threads when set)."""
    h.setOptionValue("output_flag", bool(options.tee))
    h.setOptionValue("time_limit", float(options.time_limit_s))
    h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
    h.setOptionValue("mip_abs_gap", 1e-6)
    if options.threads:
        h.setOptionValue("threads", int(options.threads))
    for name, value in options.extra:
        h.setOptionValue(name, value)


def _pass(h, sf: StandardForm) -> None:
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
    status = h.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model (passModel returned an error)")


def _check(status, what: str) -> None:
    import highspy

    if status == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS {what} returned an error")


@dataclass
class UpdateStats:
    mode: str = ""  # "pass" (whole model handed over) or "update" (only differences)
    reason: str = ""  # why a pass was needed
    costs: int = 0
    col_bounds: int = 0
    row_bounds: int = 0
    coeffs: int = 0
    warm: bool = False
    compile_seconds: float = 0.0
    update_seconds: float = 0.0
    highs_seconds: float = 0.0  # wall time of run()
    highs_cpu_seconds: float = 0.0  # CPU time of this process during run() (robust to a busy machine)


class HighsDirect:
    """One persistent HiGHS instance: compile, pass or update, solve, load the solution into Pyomo.

    ``incremental=False`` passes every model whole (for measurements); ``warm_start=True`` gives the
    previous solution as a MIP start when the structure is unchanged (see the module docstring).
    """

    def __init__(self, options: SolverOptions | None = None, *, incremental: bool = True,
                 warm_start: bool = False, clean_values: bool = True):
        self.options = options or SolverOptions()
        self.clean_values = clean_values
        self.incremental = incremental
        self.warm_start = warm_start
        self.highs = None
        self._sf: StandardForm | None = None
        self._x: np.ndarray | None = None  # last primal solution (for warm starts)
        self.last = UpdateStats()
        self.counts = {"solves": 0, "passes": 0, "updates": 0, "warm_starts": 0}

    # ---- model handling
    def set_options(self, options: SolverOptions) -> None:
        self.options = options
        if self.highs is not None:
            apply_options(self.highs, options)

    def load(self, m) -> UpdateStats:
        """Compile ``m`` and make the HiGHS instance hold it; raises :class:`TriviallyInfeasible`."""
        st = UpdateStats()
        t0 = time.perf_counter()
        sf = compile_model(m)
        st.compile_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        if self.highs is None:
            self.highs = new_highs(self.options)
        old = self._sf
        if old is None:
            st.reason = "first model"
        elif not self.incremental:
            st.reason = "incremental updates off"
        elif not old.same_structure(sf):
            st.reason = "different variables, constraints or integrality"
        elif not old.same_pattern(sf):
            st.reason = "different sparsity pattern"
        self._sf = None  # a failed pass or update must not leave a stale reference model behind
        if st.reason:
            self._x = None
            _pass(self.highs, sf)
            st.mode = "pass"
            self.counts["passes"] += 1
        else:
            self._update(old, sf, st)
            st.mode = "update"
            self.counts["updates"] += 1
        self._sf = sf
        st.update_seconds = time.perf_counter() - t0
        self.last = st
        return st

    def _update(self, old: StandardForm, new: StandardForm, st: UpdateStats) -> None:
        h = self.highs
        idx = np.flatnonzero(old.cost != new.cost).astype(np.int32)
        if len(idx):
            _check(h.changeColsCost(len(idx), idx, new.cost[idx]), "changeColsCost")
        st.costs = len(idx)
        if old.offset != new.offset:
            _check(h.changeObjectiveOffset(new.offset), "changeObjectiveOffset")
        idx = np.flatnonzero((old.col_lower != new.col_lower) | (old.col_upper != new.col_upper)).astype(np.int32)
        if len(idx):
            _check(h.changeColsBounds(len(idx), idx, new.col_lower[idx], new.col_upper[idx]), "changeColsBounds")
        st.col_bounds = len(idx)
        idx = np.flatnonzero((old.row_lower != new.row_lower) | (old.row_upper != new.row_upper)).astype(np.int32)
        if len(idx):
            _check(h.changeRowsBounds(len(idx), idx, new.row_lower[idx], new.row_upper[idx]), "changeRowsBounds")
        st.row_bounds = len(idx)
        ks = np.flatnonzero(old.A.data != new.A.data)
        if len(ks):
            cols = np.searchsorted(new.A.indptr, ks, side="right") - 1
            rows = new.A.indices[ks]
            vals = new.A.data[ks]
            for r, c, v in zip(rows.tolist(), cols.tolist(), vals.tolist()):
                _check(h.changeCoeff(r, c, v), "changeCoeff")
        st.coeffs = len(ks)

    # ---- solving
    def solve(self, m, options: SolverOptions | None = None) -> SolveInfo:
        """Solve ``m`` and load the solution when there is one; never raises on a non-optimal outcome."""
        if options is not None:
            self.set_options(options)
        t_start = time.perf_counter()
        try:
            st = self.load(m)
        except TriviallyInfeasible as exc:
            self.last = UpdateStats(mode="none", reason="trivially infeasible")
            return SolveInfo(status="infeasible", solve_seconds=time.perf_counter() - t_start,
                             solver_version=solver_version(), termination="provenInfeasible",
                             message=f"a constraint without variables cannot hold: {exc}")
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            self._sf = None
            return SolveInfo(status="error", solve_seconds=time.perf_counter() - t_start,
                             solver_version=solver_version(), termination="exception",
                             message=f"{type(exc).__name__}: {exc}")
        h = self.highs
        h.clearSolver()  # cold start: the answer does not depend on the previous case
        if self.warm_start and st.mode == "update" and self._x is not None:
            h.setSolution(len(self._x), np.arange(len(self._x), dtype=np.int32), self._x)
            st.warm = True
            self.counts["warm_starts"] += 1
        t0 = time.perf_counter()
        c0 = time.process_time()
        try:
            if _run(h) and self.options.threads:
                # HiGHS's process-wide scheduler was started with another thread count (a solve with
                # HiGHS's default threads earlier in this process): it refuses to run. Reset it, retry once.
                _reset_scheduler(h)
                _run(h)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # pragma: no cover - highspy reports through statuses
            return SolveInfo(status="error", solve_seconds=time.perf_counter() - t0, solver_version=solver_version(),
                             termination="exception", message=f"{type(exc).__name__}: {exc}")
        st.highs_seconds = time.perf_counter() - t0
        st.highs_cpu_seconds = time.process_time() - c0
        self.counts["solves"] += 1
        if _interrupted(h):  # as model.solve: a solve cut short by Ctrl-C/SIGTERM reports nothing
            self._sf = None
            raise KeyboardInterrupt("HiGHS was interrupted")
        info = self._read(st.highs_seconds)
        if info.status == "infeasible_or_unbounded":
            info.status = self._infeasible_or_unbounded()
        if info.has_solution:
            self._load_values()
        else:
            self._x = None
        return info

    def _read(self, seconds: float) -> SolveInfo:
        """How the run ended, mapped exactly as :func:`model.solve.solve_model` maps Pyomo's results."""
        import highspy
        from pyomo.contrib.solver.common.results import TerminationCondition as TC

        h = self.highs
        ms = h.getModelStatus()
        info_h = h.getInfo()
        has_feasible = info_h.primal_solution_status == 2
        S = highspy.HighsModelStatus
        tc = {
            S.kNotset: TC.unknown, S.kLoadError: TC.error, S.kModelError: TC.error, S.kPresolveError: TC.error,
            S.kSolveError: TC.error, S.kPostsolveError: TC.error, S.kModelEmpty: TC.unknown,
            S.kOptimal: TC.convergenceCriteriaSatisfied, S.kInfeasible: TC.provenInfeasible,
            S.kUnboundedOrInfeasible: TC.infeasibleOrUnbounded, S.kUnbounded: TC.unbounded,
            S.kObjectiveBound: TC.objectiveLimit, S.kObjectiveTarget: TC.objectiveLimit,
            S.kTimeLimit: TC.maxTimeLimit, S.kIterationLimit: TC.iterationLimit,
        }.get(ms)
        if tc is None:
            tc = TC.iterationLimit if ms == getattr(S, "kSolutionLimit", None) else TC.unknown
        sf = self._sf
        objective = bound = None
        if has_feasible:
            objective = sf.sense * float(info_h.objective_function_value)
        if info_h.mip_node_count == -1:  # an LP
            bound = objective if (has_feasible and tc == TC.convergenceCriteriaSatisfied) else None
        else:
            bound = sf.sense * float(info_h.mip_dual_bound)
        has_sol = (ms == S.kOptimal or has_feasible) and objective is not None
        info = SolveInfo(status="error", solve_seconds=seconds, solver_version=solver_version(), termination=str(tc.name))
        if tc == TC.convergenceCriteriaSatisfied and has_sol:
            info.status = "optimal"
        elif tc in (TC.maxTimeLimit, TC.iterationLimit, TC.interrupted, TC.objectiveLimit, TC.unknown) and has_sol:
            info.status = "time_limit_feasible"
        elif tc in (TC.maxTimeLimit, TC.iterationLimit):
            info.status = "time_limit_no_solution"
        elif tc == TC.provenInfeasible:
            info.status = "infeasible"
        elif tc == TC.unbounded:
            info.status = "unbounded"
        elif tc == TC.infeasibleOrUnbounded:
            info.status = "infeasible_or_unbounded"  # resolved by the caller
        else:
            info.message = f"HiGHS ended with {tc.name}"
        if info.has_solution:
            info.objective = objective
            info.bound = bound if bound is not None and math.isfinite(bound) else None
            if info.bound is not None:
                info.mip_gap = abs(info.objective - info.bound) / max(abs(info.objective), 1e-10)
                if info.status == "optimal" and info.mip_gap < 1e-12:
                    info.mip_gap = 0.0
            elif info.status == "optimal":
                info.mip_gap = 0.0
        return info

    def _infeasible_or_unbounded(self) -> str:
        """As :func:`model.solve._infeasible_or_unbounded`: a zero-objective solve tells which."""
        import highspy

        sf = self._sf
        h = new_highs(self.options)
        zero = StandardForm(**{**sf.__dict__, "cost": np.zeros(sf.n_cols), "offset": 0.0})
        _pass(h, zero)
        h.run()
        return "unbounded" if h.getModelStatus() == highspy.HighsModelStatus.kOptimal else "infeasible"

    def _load_values(self) -> None:
        sf = self._sf
        x = np.asarray(self.highs.getSolution().col_value, dtype=float)
        self._x = x.copy()
        if self.clean_values:
            # Solver noise, cleaned the way model.results reports values: inside the bounds, |x| < 1e-9
            # is 0, and an integer within HiGHS's integrality tolerance is that integer. Without it the
            # cost ledger (raw values) and the tables (cleaned values) disagree by e.g. 1e-13 x a 2e7 USD
            # opening cost, and the independent check rejects a valid plan.
            x = np.minimum(np.maximum(x, sf.col_lower), sf.col_upper)
            x[np.abs(x) < ZERO_SNAP] = 0.0
            if sf.integer.any():
                xi = x[sf.integer]
                r = np.round(xi)
                x[sf.integer] = np.where(np.abs(xi - r) <= INT_SNAP, r, xi)
        for v, val in zip(sf.columns, x.tolist()):
            v.set_value(val, skip_validation=True)
        for v in sf.loose_vars:  # in no row and not in the objective: any value in bounds is optimal
            lo = v.lb if v.lb is not None else -INF
            hi = v.ub if v.ub is not None else INF
            v.set_value(min(max(0.0, lo), hi), skip_validation=True)


def _run(h) -> bool:
    """``h.run()``; True when HiGHS refused to start (error status, model status not set)."""
    import highspy

    status = h.run()
    return status == highspy.HighsStatus.kError and h.getModelStatus() == highspy.HighsModelStatus.kNotset


def _reset_scheduler(h) -> None:
    reset = getattr(type(h), "resetThreadScheduler", None) or getattr(type(h), "resetGlobalScheduler", None)
    if reset is not None:
        reset(False)


def _interrupted(h) -> bool:
    import highspy

    from .interrupt import stop_requested

    return h.getModelStatus() == getattr(highspy.HighsModelStatus, "kInterrupt", None) or stop_requested()
