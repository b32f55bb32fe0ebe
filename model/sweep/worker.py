"""The worker side: one :class:`CaseRunner` per process (the workbook, a persistent HiGHS instance)
turns a case's overrides into a small KPI record through :func:`model.pipeline.prepare_case` and
:func:`model.pipeline.solve_case`; the pool and Dask task entry points.
"""
from __future__ import annotations

import os
import signal
import socket
import threading
import time
from typing import Any, Sequence

from ..errors import InputError, ModelError
from ..workbook import RawWorkbook
from .design import RECORD_VERSION
from .store import RunSpec


# --------------------------------------------------------------------------- the worker side
FAILED = ("infeasible", "unbounded", "time_limit_no_solution", "error", "invalid_input", "verify_failed")
OK = ("optimal", "time_limit_feasible")


def kpis(results, years: Sequence[int]) -> dict:
    """Small, flat KPIs of one solved case: the planner's KPIs of :func:`model.kpis.kpis`."""
    from ..kpis import kpis as planner_kpis

    return planner_kpis(results, years)


class CaseRunner:
    """One per worker process: the workbook, a persistent HiGHS instance, and the case loop."""

    def __init__(self, raw: RawWorkbook, spec: RunSpec):
        from ..highs_direct import HighsDirect
        from ..solve import SolverOptions

        self.raw = raw
        self.spec = spec
        self.solver = HighsDirect(SolverOptions(threads=1), incremental=spec.incremental, warm_start=spec.warm_start)
        self.where = f"{socket.gethostname()}:{os.getpid()}"
        self.n_solved = 0
        try:  # build the base model once and hand it to HiGHS: the cases then only update numbers
            from ..data import build_case
            from ..formulation import build_model

            self.solver.load(build_model(build_case(raw)))
        except Exception:  # a base case that does not build is reported by the cases themselves
            pass

    def run(self, overrides: Sequence[str]) -> dict:
        """One case as a record: :func:`model.pipeline.prepare_case` and :func:`model.pipeline.solve_case`
        (with this worker's HiGHS instance), then the KPIs; any failure becomes the record's status."""
        from ..pipeline import Timer, prepare_case, solve_case

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
    from ..isolate import set_parent_death_signal

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
