"""Issue 13 goals 3 and 4: sweeps that scale out, measured.

    python -m benchmarks.scale_out [--case inputs/base_case.xlsx] [--cases 200] [--modes 1,2,dask]
                                   [--sim 1000,3000,10000] [--out benchmarks/results/scale_out]

1. The same Latin-hypercube sweep of the case (the factors of ``benchmarks/sweep_bench.py``) is
   run with ``model.sweep.run_sweep`` once per mode: ``1`` / ``2`` local worker processes (one
   HiGHS thread each) and ``dask``, a ``distributed.LocalCluster`` with 2 single-threaded worker
   processes reached through its scheduler address (the code path of a multi-machine cluster).
   Per mode: cases per second, HiGHS's own time per case, the time outside HiGHS per case inside
   the worker (overrides, validation, build, compile, update, extract, verify, KPIs) and its ratio
   to HiGHS's time (goal: <= 10 %), the parent's CPU per case (sampling, store, collection) and the
   pool / scheduler overhead (workers x wall - the workers' case time).
2. ``--sim``: the cost the scheduler, the store and the result collection add per case as the
   sweep grows, without solving anything: the sweep's own Dask submission pattern (a window of 2 x
   threads tasks in flight, results taken as they complete) runs no-op tasks that return a record
   of a real case's size, and every record is stored with the sweep's ``CaseStore`` (one JSON file
   per case, written atomically). Per size: wall time per case, the parent's CPU per case.

Writes ``scale_out.md`` and ``scale_out.json`` into ``--out`` and prints the table.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def sweep_once(case: Path, n_cases: int, mode: str, tmp: Path) -> dict:
    """One sweep of ``n_cases`` cases in ``mode`` (``"1"``, ``"2"`` workers or ``"dask"``)."""
    from benchmarks.sweep_bench import write_definition
    from model.sweep import run_sweep

    definition = write_definition(tmp / "definition.csv")
    cluster = None
    kw: dict = {}
    if mode == "dask":
        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        kw["scheduler"] = cluster.scheduler_address
        workers = 2
    else:
        workers = int(mode)
        kw["workers"] = workers
    try:
        load0 = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        res = run_sweep(case, output=tmp / f"sweep_{mode}.xlsx", definition=definition, samples=n_cases - 1,
                        fresh=True, quiet=True, figures=False, **kw)
        wall, parent_cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        if cluster is not None:
            cluster.close()
    t = res.table
    n = len(t)
    highs = float(t.highs_seconds.sum())
    in_worker = float(t.case_seconds.sum())
    highs_cpu = float(t.highs_cpu_seconds.sum())
    cpu = float(t.cpu_seconds.sum())
    return dict(mode=mode, n=n, failed=res.n_failed, workers=workers, wall_s=wall, cases_per_s=n / wall,
                highs_per_case_s=highs / n, highs_cpu_per_case_s=highs_cpu / n,
                outside_per_case_s=(in_worker - highs) / n, outside_cpu_per_case_s=(cpu - highs_cpu) / n,
                outside_ratio=(in_worker - highs) / max(highs, 1e-9),
                parent_cpu_per_case_s=parent_cpu / n, overhead_per_case_s=(workers * wall - in_worker) / n,
                load=(load0, os.getloadavg()[0]))


def _noop(record: dict) -> dict:
    return dict(record)


def simulate(sizes: list[int], record: dict, tmp: Path) -> list[dict]:
    """Scheduler + result collection + store cost per case, no solving (see the module docstring)."""
    from distributed import Client, LocalCluster, as_completed

    from model.sweep import CaseStore

    out = []
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    try:
        nthreads = sum(client.nthreads().values()) or 1
        window = max(4, 2 * nthreads)
        for n in sizes:
            store = CaseStore(tmp / f"store_{n}")
            store.folder.mkdir(parents=True, exist_ok=True)
            pending = list(range(n))
            futures = {}
            ac = as_completed()
            t0, c0 = time.perf_counter(), time.process_time()

            def submit():
                i = pending.pop()
                fut = client.submit(_noop, record, pure=False, key=f"sim-{n}-{i}")
                futures[fut] = i
                ac.add(fut)

            while pending and len(futures) < window:
                submit()
            for fut in ac:
                i = futures.pop(fut)
                store.put(f"{n}-{i:06d}", fut.result())
                if pending:
                    submit()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            out.append(dict(n=n, wall_s=wall, ms_per_case=1000 * wall / n, parent_cpu_ms_per_case=1000 * cpu / n,
                            record_bytes=len(json.dumps(record))))
            print(f"sim {n}: {1000 * wall / n:.2f} ms per case", flush=True)
    finally:
        client.close()
        cluster.close()
    return out


def _md(rows: list[dict], sim: list[dict], case: Path) -> str:
    L = [f"# Scale-out benchmark ({case.name})", "",
         "| mode | cases | failed | wall s | cases/s | HiGHS per case s (CPU) | outside HiGHS per case s (CPU) | "
         "outside / HiGHS | parent CPU per case s | pool or scheduler overhead per case s | load start -> end |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        L.append(f"| {r['mode']} | {r['n']} | {r['failed']} | {r['wall_s']:.1f} | {r['cases_per_s']:.3f} | "
                 f"{r['highs_per_case_s']:.3f} ({r['highs_cpu_per_case_s']:.3f}) | {r['outside_per_case_s']:.3f} "
                 f"({r['outside_cpu_per_case_s']:.3f}) | {100 * r['outside_ratio']:.1f} % | "
                 f"{r['parent_cpu_per_case_s']:.3f} | {r['overhead_per_case_s']:.3f} | "
                 f"{r['load'][0]:.1f} -> {r['load'][1]:.1f} |")
    if sim:
        L += ["", "Scheduler + collection + store, no solving (Dask LocalCluster, 2 workers):", "",
              "| cases | wall s | ms per case | parent CPU ms per case | record bytes |", "|---|---|---|---|---|"]
        for s in sim:
            L.append(f"| {s['n']} | {s['wall_s']:.1f} | {s['ms_per_case']:.2f} | {s['parent_cpu_ms_per_case']:.2f} | "
                     f"{s['record_bytes']} |")
    return "\n".join(L) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.scale_out", description=__doc__.splitlines()[0])
    ap.add_argument("--case", type=Path, default=ROOT / "inputs" / "base_case.xlsx")
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--modes", default="1,2,dask")
    ap.add_argument("--sim", default="1000,3000,10000", help="case counts of the no-solve simulation ('' to skip)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale_out")
    a = ap.parse_args(argv)
    rows, sim = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for mode in [m.strip() for m in a.modes.split(",") if m.strip()]:
            r = sweep_once(a.case, a.cases, mode, tmp)
            rows.append(r)
            print(f"mode {mode}: {r['cases_per_s']:.3f} cases/s, outside HiGHS {100 * r['outside_ratio']:.1f} % "
                  f"of HiGHS", flush=True)
        sizes = [int(x) for x in a.sim.split(",") if x.strip()]
        if sizes:
            record = _sample_record(a.case, tmp)
            sim = simulate(sizes, record, tmp)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "scale_out.json").write_text(json.dumps({"sweeps": rows, "simulation": sim}, indent=1))
    text = _md(rows, sim, a.case)
    (a.out / "scale_out.md").write_text(text)
    print(text)
    return 0


def _sample_record(case: Path, tmp: Path) -> dict:
    """A real case record (the base case solved once in this process), for the simulation's payload."""
    from model.sweep import CaseRunner, RunSpec, workbook_content_sha256
    from model.workbook import read_workbook

    raw = read_workbook(case)
    rec = CaseRunner(raw, RunSpec(workbook_content_sha256(raw))).run([])
    return json.loads(json.dumps(rec, default=str))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
