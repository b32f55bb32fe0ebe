"""Running a sweep: the backends (process pool with one HiGHS thread per worker and modules imported
once by the fork server, a Dask cluster, or this process), Ctrl-C / SIGTERM handling,
:func:`run_sweep` end to end and the ``battery-plan sweep`` command.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections import Counter, deque
from pathlib import Path
from typing import Callable, Sequence

from ..errors import InputError, Problem
from ..output_schema import KPI_YEARS  # plus the last horizon year
from ..workbook import RawWorkbook
from .analysis import SweepResult, analyse, case_table
from .design import (DEFAULT_SEED, MAX_CASES, SENSITIVITY, definition_sheet, make_cases,
                     parse_definition, read_definition_file)
from .output import summary_sections, write_outputs_all
from .store import CaseStore, RunSpec, case_hash, workbook_content_sha256
from .worker import CaseRunner, OK, _dask_task, _pool_init, _pool_task, blank_record


# --------------------------------------------------------------------------- backends
def _error_record(overrides, message: str) -> dict:
    return {**blank_record(overrides, message=message), "seconds": {}, "case_seconds": None, "cpu_seconds": None}


#: imported once by the fork server, so that each worker starts warm (the modules a case needs, with
#: Pyomo's HiGHS interface: ~0.7 s per process otherwise)
_PRELOAD = ["numpy", "pandas", "pyomo.environ", "pyomo.contrib.solver.solvers.highs", "highspy",
            "model.sweep.worker", "model.solve", "model.formulation", "model.pipeline", "model.results",
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
    from .. import isolate

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
    from ..data import build_case
    from ..results_workbook import inputs_from_report
    from ..workbook import read_workbook

    raw = case if isinstance(case, RawWorkbook) else read_workbook(case)
    raw = inputs_from_report(raw)  # a results workbook is a valid case, as for `run`: its echoed inputs
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
              mip_rel_gap: float | None = None, time_limit_s: float | None = None,
              kpi_years: Sequence[int] = KPI_YEARS, figures: bool = True,
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
    keep: dict = {}
    if write_outputs:  # every output decided and checked before the first solve (model.outputs)
        from ..outputs import plan_outputs

        names = ["cost_hist", "tornado", "sobol", "morris"]
        files = [out, out.with_suffix(".parquet"), out.with_suffix(".csv"),
                 *([out.parent / f"{out.stem}_{n}.png" for n in names] if figures else [])]
        inputs = [Path(raw.path)] if raw.path else []
        if definition is not None:
            inputs.append(Path(definition))
        keep = plan_outputs(files, inputs, workbooks=[out],
                     default_outputs=[out] if not output else [], case=Path(raw.path) if raw.path else None,
                     case_sha256=raw.sha256)
    if workers is not None and workers < 0:
        raise InputError("--workers must be >= 0 (0 runs the cases in this process)")
    if mip_rel_gap is not None and not 0 <= mip_rel_gap < 1:
        raise InputError("mip_rel_gap must be in [0, 1)")
    if time_limit_s is not None and not time_limit_s > 0:
        raise InputError("time_limit_s must be > 0")

    spec = RunSpec(inputs_sha256=workbook_content_sha256(raw), mip_rel_gap=mip_rel_gap, time_limit_s=time_limit_s,
                   kpi_years=tuple(int(y) for y in kpi_years))
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
        from ..xlsx_util import publish_together

        with publish_together() as pub:  # the workbook, its tables and figures, or nothing
            for target, backup in keep.items():  # another input's sweep results are kept, not replaced
                for suffix in (".xlsx", ".parquet", ".csv"):
                    pub.keep_aside(target.with_suffix(suffix), backup.with_suffix(suffix))
            result.paths = write_outputs_all(result, out, figures=figures)
        result.notes = [*result.notes, *(f"{t.name} held the sweep results of another input; they are kept as {b}"
                                         for t, b in pub.kept)]
    return result


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
