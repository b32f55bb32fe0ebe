#!/usr/bin/env python3
"""Benchmark of ``battery-plan sweep`` (its own command; not part of CI).

    python benchmarks/sweep_bench.py [--case inputs/base_case.xlsx] [--cases 200] [--workers N]
                                     [--subprocess-sample 20] [--compare-sample 30]

Three measurements on the same Latin-hypercube sweep of the base case (6 inputs: import prices,
import duties, capex, variable costs, discount rate, demand):

A. the sweep itself (local process pool, one HiGHS thread per worker): cases per second, the sum of
   HiGHS's own solve times, and the time spent outside HiGHS per case;
B. the same cases run one by one as ``python run_optimizer.py run CASE --set ...`` subprocesses: a
   sample of them (evenly spaced), extrapolated to all cases;
C. the sweep worker against a bare ``model.pipeline.solve_case``, case by case in one process on the
   first cases of the sweep: both solve through Pyomo's ``highs`` interface with threads=1 (the
   direct HiGHS path that used to sit here was retired: docs/sweeps.md has its last measurement);
   the difference is what the worker adds (KPIs, record, timings).

Writes ``benchmarks/results/sweep_bench.md`` (git-ignored) and prints it.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FACTORS = [  # address, operation, low, high
    ("imports[*].price_usd_per_unit", "*=", 0.8, 1.2),
    ("imports[*].tariff_rate", "+=", 0.0, 0.1),
    ("facilities[*].capex_usd_per_module", "*=", 0.7, 1.3),
    ("facilities[*].variable_cost_usd_per_unit", "*=", 0.9, 1.1),
    ("settings.discount_rate", "=", 0.05, 0.11),
    ("demand[*].vehicles", "*=", 0.8, 1.2),
]


def write_definition(path: Path) -> Path:
    lines = ["address,operation,low,high,steps,design"]
    for i, (a, op, lo, hi) in enumerate(FACTORS):
        lines.append(f"\"{a}\",{op},{lo},{hi},,{'lhs' if i == 0 else ''}")
    path.write_text("\n".join(lines) + "\n")
    return path


def base_case(arg: str | None, tmp: Path) -> Path:
    if arg:
        return Path(arg)
    default = ROOT / "inputs" / "base_case.xlsx"
    if default.exists():
        return default
    from model.basecase import write_base_case

    return write_base_case(tmp / "base_case.xlsx")


def fmt(x, nd=2):
    return "n/a" if x is None else f"{x:,.{nd}f}"


# --------------------------------------------------------------------------- A: the sweep
def bench_sweep(case: Path, definition: Path, n_cases: int, workers: int, out_dir: Path) -> dict:
    from model.sweep import run_sweep

    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    c0 = time.process_time()
    res = run_sweep(case, output=out_dir / "bench_sweep.xlsx", definition=definition, samples=n_cases - 1,
                    workers=workers, fresh=True, quiet=False, figures=False)
    wall = time.perf_counter() - t0
    parent_cpu = time.process_time() - c0
    t = res.table
    recs = [res.records[h] for h in res.hashes]
    parts = {}
    for key in ("prepare", "build", "extract", "verify", "post"):
        vals = [r.get("seconds", {}).get(key, 0.0) for r in recs]
        parts[key] = statistics.mean(vals)
    n = len(t)
    highs = float(t.highs_seconds.sum())
    in_worker = float(t.case_seconds.sum())
    highs_cpu = float(t.highs_cpu_seconds.sum())
    cpu = float(t.cpu_seconds.sum())
    return dict(n=n, workers=workers, wall=wall, cases_per_s=n / wall, highs_total=highs, case_total=in_worker,
                highs_mean=highs / n, outside_highs_in_worker=(in_worker - highs) / n, parts=parts,
                pool_overhead=(workers * wall - in_worker) / n, failed=res.n_failed,
                highs_cpu_mean=highs_cpu / n, cpu_mean=cpu / n, parent_cpu_per_case=parent_cpu / n,
                load=(load0, os.getloadavg()[0]),
                statuses=t.status.value_counts().to_dict(), table=t, cases=res.cases)


# --------------------------------------------------------------------------- B: one by one
def bench_subprocess(case: Path, sweep: dict, k: int, tmp: Path) -> dict:
    import openpyxl

    cases = sweep["cases"]
    table = sweep["table"].set_index("case")
    idx = sorted({round(i * (len(cases) - 1) / max(k - 1, 1)) for i in range(k)})
    import resource

    times, cpus, diffs, highs_same, highs_cpu_same = [], [], [], [], []
    load0 = os.getloadavg()[0]
    for i in idx:
        c = cases[i]
        out = tmp / f"one_{i}.xlsx"
        cmd = [sys.executable, str(ROOT / "run_optimizer.py"), "run", str(case), "-o", str(out), "--no-figures", "-q"]
        for ov in c.overrides:
            cmd += ["--set", ov]
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
        times.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
        highs_same.append(float(table.loc[i, "highs_seconds"]))
        highs_cpu_same.append(float(table.loc[i, "highs_cpu_seconds"]))
        if p.returncode == 0 and out.exists():
            wb = openpyxl.load_workbook(out, read_only=True)
            s = {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True)}
            wb.close()
            ref = table.loc[i, "objective_npv_usd"]
            if s.get("objective_npv_usd") is not None and ref == ref:
                diffs.append(abs(s["objective_npv_usd"] - ref) / abs(ref))
        print(f"  one-by-one case {i}: {times[-1]:.2f} s (exit {p.returncode})", file=sys.stderr)
    mean = statistics.mean(times)
    return dict(k=len(idx), mean=mean, median=statistics.median(times), est_total=mean * len(cases),
                cases_per_s=1 / mean, max_rel_diff=max(diffs) if diffs else None, n_compared=len(diffs),
                cpu_mean=statistics.mean(cpus), sweep_highs_same=statistics.mean(highs_same),
                sweep_highs_cpu_same=statistics.mean(highs_cpu_same),
                load=(load0, os.getloadavg()[0]))


# --------------------------------------------------------------------------- C: the worker vs solve_case
WORKER = "sweep worker (CaseRunner.run: solve_case, threads=1, KPIs, record)"
BARE = "bare pipeline.solve_case (threads=1)"


def bench_modes(case: Path, sweep: dict, k: int) -> dict:
    from model.pipeline import Timer, prepare_case, solve_case
    from model.solve import reset_thread_scheduler
    from model.sweep import CaseRunner, RunSpec, workbook_content_sha256
    from model.workbook import read_workbook

    raw = read_workbook(case)
    runner = CaseRunner(raw, RunSpec(workbook_content_sha256(raw)))
    stats = {name: dict(total=0.0, cpu=0.0, solve=0.0, times=[], obj=[], status=[]) for name in (WORKER, BARE)}
    load0 = os.getloadavg()[0]
    cases = sweep["cases"][:k]
    for c in cases:
        rec = runner.run(c.overrides)
        st = stats[WORKER]
        st["total"] += rec["case_seconds"]
        st["cpu"] += rec["cpu_seconds"]
        st["solve"] += rec["highs_seconds"] or 0.0
        st["times"].append(rec["case_seconds"])
        st["obj"].append(rec["objective_npv_usd"])
        st["status"].append(rec["status"])
        t0 = time.perf_counter()
        c0 = time.process_time()
        timer = Timer()
        st = stats[BARE]
        try:
            data, _ = prepare_case(raw, list(c.overrides), timer=timer)
            reset_thread_scheduler()
            r = solve_case(data, threads=1, timer=timer)
            st["obj"].append(r.solve.objective)
            st["status"].append(r.solve.status)
        except Exception as exc:  # e.g. the independent check refusing a plan
            st["obj"].append(None)
            st["status"].append(f"{type(exc).__name__}")
        st["total"] += time.perf_counter() - t0
        st["times"].append(time.perf_counter() - t0)
        st["cpu"] += time.process_time() - c0
        st["solve"] += timer.phases.get("solve", 0.0)
        print(f"  paths: case {c.index} done", file=sys.stderr)
    ref = stats[WORKER]["obj"]
    for name, st in stats.items():
        d = [abs(a - b) / abs(b) for a, b in zip(st["obj"], ref) if a is not None and b is not None]
        st["max_rel_diff"] = max(d) if d else None
        st["identical"] = sum(1 for a, b in zip(st["obj"], ref) if a == b)
        st["median"] = statistics.median(st["times"]) if st["times"] else None
    return dict(k=len(cases), stats=stats, load=(load0, os.getloadavg()[0]))


# --------------------------------------------------------------------------- report
def report(env: dict, a: dict, b: dict | None, c: dict | None) -> str:
    L = []
    L.append("# Sweep benchmark\n")
    L.append(f"{env['when']} · code {env['rev']} · {env['machine']} · Python {env['python']} · Pyomo {env['pyomo']} · "
             f"highspy {env['highspy']} · case `{env['case']}` ({env['size']})\n")
    L.append(f"Latin hypercube over {len(FACTORS)} inputs: " + ", ".join(f"`{x[0]} {x[1]} [{x[2]}, {x[3]}]`" for x in FACTORS)
             + ". Settings of the case: MIP gap 1e-4, one HiGHS thread per worker.\n")
    L.append("Wall times depend on what else runs on the machine (the 1-minute load average at the start and "
             "end of each part is given); CPU times (this process's, or the children's for subprocesses) do not, "
             "or much less.\n")
    L.append("## A. The sweep (local process pool)\n")
    L.append("| measure | value |\n|---|---|")
    L.append(f"| cases | {a['n']} ({a['failed']} failed; statuses {a['statuses']}) |")
    L.append(f"| workers / load average | {a['workers']} / {a['load'][0]:.2f} → {a['load'][1]:.2f} |")
    L.append(f"| wall time | {fmt(a['wall'], 1)} s |")
    L.append(f"| **throughput** | **{fmt(a['cases_per_s'], 3)} cases/s** |")
    L.append(f"| HiGHS solve time per case, wall / CPU | {fmt(a['highs_mean'], 3)} / {fmt(a['highs_cpu_mean'], 3)} s "
             f"(sum {fmt(a['highs_total'], 1)} s wall) |")
    L.append(f"| whole case in the worker, CPU | {fmt(a['cpu_mean'], 3)} s per case |")
    L.append(f"| outside HiGHS, in the worker, per case (wall) | {fmt(a['outside_highs_in_worker'], 3)} s "
             f"({fmt(100 * a['outside_highs_in_worker'] / max(a['highs_mean'], 1e-9), 1)} % of the HiGHS time) |")
    p = a["parts"]
    L.append(f"| … of which: overrides + validation / Pyomo build / extract / verify / KPIs | "
             f"{fmt(p['prepare'], 3)} / {fmt(p['build'], 3)} / {fmt(p['extract'], 3)} / {fmt(p['verify'], 3)} / "
             f"{fmt(p['post'], 3)} s |")
    L.append(f"| outside the workers, per case (pool start-up, IPC, idle tail) | "
             f"{fmt(a['pool_overhead'], 3)} s of worker time |")
    L.append(f"| parent process CPU per case (sampling, storing, progress, outputs) | {fmt(a['parent_cpu_per_case'], 3)} s |")
    L.append(f"| HiGHS share of the worker time available (workers × wall) | "
             f"{fmt(100 * a['highs_total'] / (a['workers'] * a['wall']), 1)} % |\n")
    if b:
        L.append("## B. The same cases one by one (`python run_optimizer.py run CASE --set …`)\n")
        L.append(f"{b['k']} of the {a['n']} cases (evenly spaced) were run as subprocesses, one at a time; the total "
                 f"is extrapolated. Load average {b['load'][0]:.2f} → {b['load'][1]:.2f}.\n")
        L.append("| measure | value |\n|---|---|")
        L.append(f"| mean / median wall time per case | {fmt(b['mean'], 2)} / {fmt(b['median'], 2)} s |")
        L.append(f"| mean CPU time per case (child process) | {fmt(b['cpu_mean'], 2)} s |")
        L.append(f"| throughput | {fmt(b['cases_per_s'], 3)} cases/s |")
        L.append(f"| extrapolated time for {a['n']} cases | {fmt(b['est_total'], 0)} s |")
        L.append(f"| **sweep speed-up, wall** | **{fmt(a['cases_per_s'] / b['cases_per_s'], 2)}×** with "
                 f"{a['workers']} workers |")
        cpu_sweep = a["cpu_mean"] + a["parent_cpu_per_case"]
        L.append(f"| CPU per case: one by one vs sweep (worker + parent) | {fmt(b['cpu_mean'], 2)} s vs "
                 f"{fmt(cpu_sweep, 2)} s → {fmt(b['cpu_mean'] / cpu_sweep, 2)}× less CPU per case in the sweep |")
        L.append(f"| CPU outside HiGHS per case (same cases; HiGHS CPU from the sweep) | one by one "
                 f"{fmt(b['cpu_mean'] - b['sweep_highs_cpu_same'], 2)} s vs sweep "
                 f"{fmt(cpu_sweep - a['highs_cpu_mean'], 3)} s |")
        if b["max_rel_diff"] is not None:
            L.append(f"| NPV agreement with the sweep | max relative difference {b['max_rel_diff']:.1e} over "
                     f"{b['n_compared']} cases (MIP gap 1e-4) |")
        L.append("")
    if c:
        L.append(f"## C. The sweep worker vs a bare solve_case (first {c['k']} cases of the sweep, one process, "
                 f"threads=1)\n")
        L.append(f"Each case is solved by each in turn (interleaved, so machine load hits both alike). "
                 f"Load average {c['load'][0]:.2f} → {c['load'][1]:.2f}.\n")
        L.append("| path | wall s | median per case s | CPU s | solve phase wall s | NPV max rel diff vs worker | "
                 "identical NPVs | failed |")
        L.append("|---|---|---|---|---|---|---|---|")
        for name, st in c["stats"].items():
            k = c["k"]
            failed = sum(1 for x in st["status"] if x not in ("optimal", "time_limit_feasible"))
            mrd = "n/a" if st["max_rel_diff"] is None else f"{st['max_rel_diff']:.1e}"
            L.append(f"| {name} | {fmt(st['total'], 1)} | {fmt(st['median'], 2)} | {fmt(st['cpu'], 1)} | "
                     f"{fmt(st['solve'], 1)} | {mrd} | {st['identical']}/{k} | {failed} |")
        L.append("")
    return "\n".join(L) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case")
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--subprocess-sample", type=int, default=20)
    ap.add_argument("--compare-sample", type=int, default=30)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)

    import pyomo
    from importlib import metadata

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        case = base_case(args.case, tmp)
        definition = write_definition(args.out / "bench_definition.csv")
        from model.data import load_case

        data = load_case(case)
        n_build = sum(len(data.build_years(f)) for f in data.facilities)
        try:
            rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True).stdout.strip()
            dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True).stdout.strip()
            rev = (rev + (" + uncommitted changes" if dirty else "")) if rev else "unknown"
        except OSError:
            rev = "unknown"
        env = dict(when=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), rev=rev,
                   machine=f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}",
                   python=platform.python_version(), pyomo=pyomo.version.version, highspy=metadata.version("highspy"),
                   case=case.name, size=f"{len(data.years)} years, {len(data.facilities)} facilities, "
                                          f"{len(data.imports)} import routes, {n_build} integer build decisions")
        print(f"A: sweep of {args.cases} cases with {args.workers} workers ...", file=sys.stderr)
        a = bench_sweep(case, definition, args.cases, args.workers, args.out)
        b = c = None
        if args.subprocess_sample > 0:
            print(f"B: {args.subprocess_sample} cases one by one ...", file=sys.stderr)
            b = bench_subprocess(case, a, args.subprocess_sample, tmp)
        if args.compare_sample > 0:
            print(f"C: the worker vs solve_case on {args.compare_sample} cases ...", file=sys.stderr)
            c = bench_modes(case, a, args.compare_sample)
    text = report(env, a, b, c)
    (args.out / "sweep_bench.md").write_text(text)
    raw = dict(env=env, a={k: v for k, v in a.items() if k not in ("table", "cases")}, b=b,
               c=None if c is None else {**c, "stats": {n: {k: v for k, v in s.items()} for n, s in c["stats"].items()}})
    (args.out / "sweep_bench.json").write_text(json.dumps(raw, indent=1, default=str))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
