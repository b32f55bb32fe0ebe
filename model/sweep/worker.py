"""The worker side: one :class:`CaseRunner` per process turns a case's overrides into a small KPI
record through :func:`model.pipeline.prepare_case` and :func:`model.pipeline.solve_case` (the same
Pyomo + HiGHS path as ``run``); the pool and Dask task entry points.

The per-worker set-up is what makes sweeps fast: a long-lived process per worker (the workbook read
once, the modules imported once by the fork server or on the worker's first case) and HiGHS with
``threads=1`` in each process, so k workers use k cores without oversubscribing them.
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
OK = ("optimal", "time_limit_feasible")


def blank_record(overrides: Sequence[str], status: str = "error", message: str = "", worker: str = "") -> dict:
    """A case record before (or without) a solve: every field present, no figures."""
    return {"record_version": RECORD_VERSION, "overrides": list(overrides), "status": status, "message": message,
            "objective_npv_usd": None, "best_bound_usd": None, "mip_gap": None, "unmet_gwh_total": None,
            "highs_seconds": None, "highs_cpu_seconds": None, "kpi": {}, "worker": worker}


def kpis(results, years: Sequence[int]) -> dict:
    """Small, flat KPIs of one solved case: the planner's KPIs of :func:`model.kpis.kpis`."""
    from ..kpis import kpis as planner_kpis

    return planner_kpis(results, years)


class _TimedSolve:
    """:func:`model.solve.solve_model` (Pyomo's HiGHS interface), with the CPU time of this process
    during the solve kept for the record (robust to a busy machine, unlike wall time)."""

    def __init__(self):
        self.cpu_seconds: float | None = None

    def solve(self, m, opts):
        from ..solve import reset_thread_scheduler, solve_model

        reset_thread_scheduler()  # threads=1 runs even if this process solved with other threads before
        c0 = time.process_time()
        try:
            return solve_model(m, opts)
        finally:
            self.cpu_seconds = time.process_time() - c0


class CaseRunner:
    """One per worker process: the workbook, the modules a case needs (imported once), the case loop."""

    def __init__(self, raw: RawWorkbook, spec: RunSpec):
        from .. import formulation, pipeline, results, solve, verify  # noqa: F401  imported once per worker

        self.raw = raw
        self.spec = spec
        self.where = f"{socket.gethostname()}:{os.getpid()}"
        self.n_solved = 0

    def run(self, overrides: Sequence[str]) -> dict:
        """One case as a record: :func:`model.pipeline.prepare_case` and :func:`model.pipeline.solve_case`
        (with this worker's HiGHS instance), then the KPIs; any failure becomes the record's status."""
        from ..pipeline import Timer, prepare_case, solve_case

        t0 = time.perf_counter()
        c0 = time.process_time()
        rec = blank_record(overrides, worker=self.where)
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
            solver = _TimedSolve()
            try:
                results = solve_case(data, time_limit_s=self.spec.time_limit_s, mip_rel_gap=self.spec.mip_rel_gap,
                                     threads=1, timer=timer, solver=solver)
            except ModelError as exc:  # the plan fails the independent check: no figures of it are kept
                rec["status"] = "verify_failed"
                rec["message"] = f"independent check failed: {exc}"[:2000]
                return rec
            finally:
                if "solve" in times:  # HiGHS solved the case in this worker
                    self.n_solved += 1
                    rec.update(highs_seconds=times["solve"], highs_cpu_seconds=solver.cpu_seconds)
            info = results.solve
            rec.update(status=info.status, message=info.message or "", objective_npv_usd=info.objective,
                       best_bound_usd=info.bound, mip_gap=info.mip_gap)
            if info.has_solution:
                t = time.perf_counter()
                rec["kpi"] = kpis(results, self.spec.kpi_years)
                rec["unmet_gwh_total"] = rec["kpi"].get("unmet_gwh_total")
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
    sweep's main process (``kill -9`` included); read the modules a case needs once."""
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
