"""Time every phase of a run on synthetic cases of growing size, against HiGHS alone (not part of CI).

    python -m benchmarks.sizes [--sizes tiny,small,medium,large] [--seeds 0] [--gap 1e-4]
                                        [--time-limit S] [--out benchmarks/results] [--no-plain]

For each case (``benchmarks.generate``): the phases of a normal run through ``model.pipeline``
(read, validate, build, solve, extract, verify, marginals, summary, report), the model size (rows,
columns, integer columns, nonzeros of the model as solved), the peak resident memory of the process
that ran the case (one fresh process per case), and the same model written as MPS
(``model.solve.write_model``) then read and solved by a fresh ``highspy.Highs`` with the same options:
HiGHS's own time and objective. ``ratio`` = whole run / HiGHS alone. With the plain comparison (default),
the plain statement of formulation.md (``build_model(data, strengthen=False)``) is solved the same way
(MPS + HiGHS alone), so that the strengthened and plain solves are measured alike.

Writes ``benchmarks.csv`` (one row per case), ``benchmarks.md`` (tables) and ``time_vs_size.png``
(log-log) into ``--out``; the case workbooks, MPS files and reports go to ``--out/work``.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import resource
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from .generate import spec_by_name, with_limits, write_case

#: Default time limit of each solve, by size (seconds).
DEFAULT_TIME_LIMIT = {"tiny": 60.0, "small": 120.0, "medium": 240.0, "large": 300.0, "xlarge": 600.0,
                      "small_rebuild": 120.0, "medium_rebuild": 300.0}
PHASES = ("read", "validate", "build", "solve", "extract", "verify", "marginals", "summary", "report")
DEFAULT_OUT = Path(__file__).resolve().parent / "results"


# --------------------------------------------------------------------------- HiGHS alone
def highs_alone(mps: str | os.PathLike, *, time_limit_s: float, mip_rel_gap: float, threads: int | None = None,
                extra: dict | None = None) -> dict[str, Any]:
    """Read ``mps`` into a fresh ``highspy.Highs`` and solve it with the pipeline's options; timed."""
    from .levers import solve_mps

    r = solve_mps(str(mps), gap=mip_rel_gap, time_limit_s=time_limit_s, options=extra or {}, threads=threads)
    r.pop("_col_values")
    return r


# --------------------------------------------------------------------------- one case
def run_case(size: str, seed: int, *, gap: float, time_limit_s: float, workdir: str, plain: bool = True,
             threads: int | None = None, report: bool = True) -> dict[str, Any]:
    """Run one case end to end and measure it; returns one flat record (never raises)."""
    rec: dict[str, Any] = {"case": f"{size}_s{seed}", "size": size, "seed": seed, "gap_setting": gap,
                           "time_limit_s": time_limit_s, "error": ""}
    try:
        _run_case(rec, size, seed, gap, time_limit_s, Path(workdir), plain, threads, report)
    except Exception as exc:  # noqa: BLE001 - a benchmark row says what went wrong
        rec["error"] = f"{type(exc).__name__}: {exc}"
        rec["traceback"] = traceback.format_exc(limit=5)
    rec["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    return rec


def _run_case(rec, size, seed, gap, time_limit_s, workdir: Path, plain, threads, report) -> None:
    from model.errors import ModelError
    from model.formulation import build_model
    from model.pipeline import Timer, prepare_case, solve_case, summarise
    from model.solve import write_model
    from model.verify import verify

    spec = with_limits(spec_by_name(size), time_limit_s=time_limit_s, mip_rel_gap=gap)
    rec.update(sites=spec.sites, years=spec.years, origins=spec.origins, chemistries=spec.chemistries,
               products=spec.products)
    workdir.mkdir(parents=True, exist_ok=True)
    name = f"{size}_s{seed}"
    path = write_case(workdir / f"{name}.xlsx", spec, seed)

    timer = Timer()
    data, log = prepare_case(path, timer=timer)  # read, validate
    rec["facilities"] = len(data.facilities)
    results = solve_case(data, time_limit_s=time_limit_s, mip_rel_gap=gap, threads=threads, timer=timer,
                         check=False)  # build, solve, extract
    info = results.solve
    rec.update(status=info.status, objective=info.objective, bound=info.bound, mip_gap=info.mip_gap,
               highs_in_pipeline_s=info.solve_seconds)
    rec["verify"] = ""
    if info.has_solution:
        with timer.phase("verify"):
            try:
                results.notes.extend(verify(results))
                rec["verify"] = "passed"
            except ModelError as exc:
                rec["verify"] = "FAILED: " + str(exc).splitlines()[0]
        try:
            from model.marginals import add_marginal_costs
        except ImportError:  # pragma: no cover - older tree
            add_marginal_costs = None
        if add_marginal_costs is not None:
            with timer.phase("marginals"):
                add_marginal_costs(results)
    with timer.phase("summary"):
        results.summary = summarise(results, input_file=str(path), overrides_log=log)
    if report:
        try:
            from model.report import write_report
        except ImportError:  # pragma: no cover - report module not there yet
            write_report = None
        if write_report is not None:
            with timer.phase("report"):
                write_report(results, workdir / f"{name}_results.xlsx")
    for ph in PHASES:
        rec[f"t_{ph}"] = timer.phases.get(ph, 0.0)
    rec["t_total"] = sum(timer.phases.get(ph, 0.0) for ph in PHASES)

    # the same model, as MPS, solved by HiGHS alone
    mps = workdir / f"{name}.mps"
    t0 = time.perf_counter()
    write_model(results.model, str(mps))
    rec["t_write_mps"] = time.perf_counter() - t0
    alone = highs_alone(mps, time_limit_s=time_limit_s, mip_rel_gap=gap, threads=threads)
    for k in ("rows", "cols", "integers", "nonzeros"):
        rec[k] = alone[k]
    for k in ("seconds", "cpu_seconds", "status", "objective", "bound", "gap", "nodes", "lp_iterations",
              "t_1e-3", "t_1e-4", "root_gap", "t_first_sol"):
        rec[f"highs_{k}"] = alone[k]
    rec["ratio_total_to_highs"] = rec["t_total"] / alone["seconds"] if alone["seconds"] > 0 else math.nan
    rec["objectives_agree"] = _agree(rec["objective"], alone["objective"], gap, rec.get("bound"), alone["bound"],
                                     info.status == "optimal", alone["status"] == "Optimal")
    results.model = None  # free the model before the plain one

    if plain:
        t0 = time.perf_counter()
        mp = build_model(data, strengthen=False)
        rec["plain_t_build"] = time.perf_counter() - t0
        pmps = workdir / f"{name}_plain.mps"
        write_model(mp, str(pmps))
        del mp
        p = highs_alone(pmps, time_limit_s=time_limit_s, mip_rel_gap=gap, threads=threads)
        for k in ("rows", "cols", "integers", "nonzeros", "seconds", "cpu_seconds", "status", "objective", "bound",
                  "gap", "nodes", "lp_iterations", "t_1e-3", "t_1e-4", "root_gap", "t_first_sol"):
            rec[f"plain_{k}"] = p[k]
        rec["plain_objective_agrees"] = _agree(alone["objective"], p["objective"], gap, alone["bound"], p["bound"],
                                               alone["status"] == "Optimal", p["status"] == "Optimal")
        rec["speedup"] = p["seconds"] / alone["seconds"] if alone["seconds"] > 0 else math.nan
        rec["speedup_is_lower_bound"] = p["status"] != "Optimal"  # plain stopped by the time limit


def _agree(a, b, gap: float, a_bound=None, b_bound=None, a_opt: bool = True, b_opt: bool = True) -> str:
    """Do two solves of models with the same optimum agree?

    Both proven to ``gap``: the objectives agree to 2 * gap (relative) -> "yes". Otherwise (a time
    limit) each run only brackets the optimum, ``bound <= optimum <= objective`` (minimisation):
    the brackets must overlap -> "consistent (not proven)".
    """
    def bad(v):
        return v is None or (isinstance(v, float) and math.isnan(v))

    if bad(a) or bad(b):
        return "n/a"
    scale = max(1.0, abs(a), abs(b))
    if a_opt and b_opt:
        rel = abs(a - b) / scale
        return "yes" if rel <= 2 * gap + 1e-9 else f"NO ({rel:.2e})"
    lo_a = a_bound if not bad(a_bound) else -math.inf
    lo_b = b_bound if not bad(b_bound) else -math.inf
    tol = 1e-6 * scale
    if lo_a <= b + tol and lo_b <= a + tol:
        return "consistent (not proven)"
    return "NO (brackets do not overlap)"


# --------------------------------------------------------------------------- tables and plot
def _fmt(v, nd=2):
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if abs(v) >= 1e6:
            return f"{v:.7e}"
        return f"{v:.{nd}f}"
    return str(v)


def _fmt_e(v) -> str:
    return "" if v is None or v == "" or (isinstance(v, float) and math.isnan(v)) else f"{v:.2e}"


def write_tables(records: list[dict], out: Path, machine: str) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    cols: list[str] = []
    for r in records:
        for k in r:
            if k not in cols and k != "traceback":
                cols.append(k)
    csv_path = out / "benchmarks.csv"
    with open(csv_path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in records:
            w.writerow({k: r.get(k, "") for k in cols})

    md = ["# Benchmarks\n", f"Machine: {machine}\n"]
    md.append("\n## Model size and phases (seconds)\n")
    head = ["case", "rows", "cols", "integers", "nonzeros", *PHASES, "total", "HiGHS alone", "ratio", "peak RSS MB",
            "status", "verify"]
    md.append("| " + " | ".join(head) + " |")
    md.append("|" + "---|" * len(head))
    for r in records:
        row = [r["case"], r.get("rows", ""), r.get("cols", ""), r.get("integers", ""), r.get("nonzeros", "")]
        row += [_fmt(r.get(f"t_{ph}")) for ph in PHASES]
        row += [_fmt(r.get("t_total")), _fmt(r.get("highs_seconds")), _fmt(r.get("ratio_total_to_highs")),
                _fmt(r.get("peak_rss_mb"), 0), r.get("status", r.get("error", "")), r.get("verify", "")]
        md.append("| " + " | ".join(map(str, row)) + " |")
    md.append("\n## Objective: pipeline vs HiGHS alone on the same model (MPS)\n")
    head = ["case", "pipeline objective", "HiGHS alone objective", "agree", "HiGHS status", "HiGHS gap"]
    md.append("| " + " | ".join(head) + " |")
    md.append("|" + "---|" * len(head))
    for r in records:
        md.append("| " + " | ".join([r["case"], _fmt(r.get("objective")), _fmt(r.get("highs_objective")),
                                     r.get("objectives_agree", ""), r.get("highs_status", ""),
                                     _fmt(r.get("highs_gap"), 6)]) + " |")
    if any("plain_seconds" in r for r in records):
        md.append("\n## Plain statement vs strengthened (HiGHS alone on each model's MPS, same options)\n")
        head = ["case", "plain rows x cols", "strengthened rows x cols", "plain s", "strengthened s", "speed-up",
                "plain objective", "strengthened objective", "agree", "plain status (gap)", "strengthened status (gap)",
                "plain nodes", "strengthened nodes"]
        md.append("| " + " | ".join(head) + " |")
        md.append("|" + "---|" * len(head))
        for r in records:
            if "plain_seconds" not in r:
                continue
            md.append("| " + " | ".join(map(str, [
                r["case"], f"{r.get('plain_rows')} x {r.get('plain_cols')}", f"{r.get('rows')} x {r.get('cols')}",
                _fmt(r.get("plain_seconds")), _fmt(r.get("highs_seconds")),
                (">= " if r.get("speedup_is_lower_bound") else "") + _fmt(r.get("speedup"), 1),
                _fmt(r.get("plain_objective")), _fmt(r.get("highs_objective")), r.get("plain_objective_agrees", ""),
                f"{r.get('plain_status')} ({_fmt(r.get('plain_gap'), 6)})",
                f"{r.get('highs_status')} ({_fmt(r.get('highs_gap'), 6)})",
                r.get("plain_nodes", ""), r.get("highs_nodes", "")])) + " |")
    md.append("\n## Time to gap (HiGHS alone; '-' = not reached within the time limit)\n")
    head = ["case", "form", "t to 1e-3 s", "t to 1e-4 s", "nodes", "root gap", "first solution s", "status"]
    md.append("| " + " | ".join(head) + " |")
    md.append("|" + "---|" * len(head))
    for r in records:
        for form, pre in (("strengthened", "highs_"), ("plain", "plain_")):
            if f"{pre}seconds" not in r:
                continue
            md.append("| " + " | ".join(map(str, [
                r["case"], form, _fmt(r.get(f"{pre}t_1e-3")) or "-", _fmt(r.get(f"{pre}t_1e-4")) or "-",
                r.get(f"{pre}nodes", ""), _fmt_e(r.get(f"{pre}root_gap")), _fmt(r.get(f"{pre}t_first_sol")),
                r.get(f"{pre}status", "")])) + " |")
    errors = [r for r in records if r.get("error")]
    if errors:
        md.append("\n## Errors\n")
        for r in errors:
            md.append(f"- {r['case']}: {r['error']}")
    fits = slopes(records)
    if fits:
        md.append("\n## Log-log slopes (time ~ size^slope, size = columns of the solved model)\n")
        md.append("| series | slope | points |")
        md.append("|---|---|---|")
        for k, (b, n) in fits.items():
            md.append(f"| {k} | {b:.2f} | {n} |")
    md_path = out / "benchmarks.md"
    md_path.write_text("\n".join(md) + "\n")
    return csv_path, md_path


SERIES = {"build": "t_build", "extract+verify+report": None, "pipeline total": "t_total",
          "HiGHS alone (strengthened)": "highs_seconds", "HiGHS alone (plain)": "plain_seconds"}


def _series(r: dict, key: str):
    if key == "extract+verify+report":
        return sum(r.get(f"t_{p}", 0.0) or 0.0 for p in ("extract", "verify", "report"))
    return r.get(SERIES[key])


def slopes(records: list[dict]) -> dict[str, tuple[float, int]]:
    """Least-squares slope of log(time) against log(columns), per series (cases without error)."""
    out = {}
    ok = [r for r in records if not r.get("error") and r.get("cols")]
    for key in SERIES:
        pts = [(math.log(r["cols"]), math.log(_series(r, key))) for r in ok
               if _series(r, key) and _series(r, key) > 0]
        if len(pts) >= 2 and len({x for x, _ in pts}) >= 2:
            mx = sum(x for x, _ in pts) / len(pts)
            my = sum(y for _, y in pts) / len(pts)
            sxx = sum((x - mx) ** 2 for x, _ in pts)
            sxy = sum((x - mx) * (y - my) for x, y in pts)
            out[key] = (sxy / sxx, len(pts))
    return out


def plot(records: list[dict], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover
        return None
    ok = [r for r in records if not r.get("error") and r.get("cols")]
    if not ok:
        return None
    fig, ax = plt.subplots(figsize=(7, 5))
    for key, marker in zip(SERIES, "osD^v"):
        pts = sorted((r["cols"], _series(r, key)) for r in ok if _series(r, key))
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, label=key)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("model size (columns of the solved model)")
    ax.set_ylabel("seconds")
    ax.set_title("battery-plan: time against size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def machine_text(threads: int | None) -> str:
    try:
        from importlib import metadata

        hv = metadata.version("highspy")
    except Exception:  # noqa: BLE001
        hv = "?"
    import pyomo

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores, Python "
            f"{platform.python_version()}, Pyomo {pyomo.version.version}, highspy {hv}, HiGHS threads "
            f"{threads or 'default'}")


# --------------------------------------------------------------------------- command line
def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.sizes", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="tiny,small,medium,large,small_rebuild,medium_rebuild",
                    help="comma-separated sizes (tiny, small, medium, large, small_rebuild, medium_rebuild, xlarge); "
                         "default all but xlarge")
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    ap.add_argument("--gap", type=float, default=1e-4, help="MIP relative gap of every solve (default 1e-4)")
    ap.add_argument("--time-limit", type=float, default=None,
                    help="seconds per solve (default by size: " + ", ".join(f"{k} {v:g}" for k, v in
                                                                          DEFAULT_TIME_LIMIT.items()) + ")")
    ap.add_argument("--threads", type=int, default=None, help="HiGHS threads (default: HiGHS's own choice)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default benchmarks/results)")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain-statement comparison")
    ap.add_argument("--no-report", action="store_true", help="skip writing the output workbook")
    ap.add_argument("--no-plot", action="store_true", help="skip the PNG")
    ap.add_argument("--in-process", action="store_true",
                    help="run the cases in this process (peak memory is then cumulative)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    for s in sizes:
        spec_by_name(s)  # unknown size -> KeyError with the list
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    out: Path = args.out
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    records = []
    t_all = time.perf_counter()
    for size in sizes:
        for seed in seeds:
            tl = args.time_limit if args.time_limit is not None else DEFAULT_TIME_LIMIT.get(size, 300.0)
            kw = dict(gap=args.gap, time_limit_s=tl, workdir=str(work), plain=not args.no_plain,
                      threads=args.threads, report=not args.no_report)
            print(f"[{time.perf_counter() - t_all:7.1f}s] {size} seed {seed} (time limit {tl:g} s per solve) ...",
                  flush=True)
            if args.in_process:
                rec = run_case(size, seed, **kw)
            else:  # a fresh process per case: its own peak memory, its own HiGHS thread pool
                with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as ex:
                    rec = ex.submit(run_case, size, seed, **kw).result()
            records.append(rec)
            line = (f"    total {rec.get('t_total', math.nan):.2f}s (build {rec.get('t_build', math.nan):.2f}, "
                    f"solve {rec.get('t_solve', math.nan):.2f}), HiGHS alone {rec.get('highs_seconds', math.nan):.2f}s"
                    f", plain {rec.get('plain_seconds', math.nan):.2f}s, status {rec.get('status', '?')}, "
                    f"objective {rec.get('objective')} / alone {rec.get('highs_objective')}"
                    f" / plain {rec.get('plain_objective')}")
            print(line + (f"  ERROR {rec['error']}" if rec.get("error") else ""), flush=True)
            write_tables(records, out, machine_text(args.threads))  # after every case: a partial run still reports
    csv_path, md_path = write_tables(records, out, machine_text(args.threads))
    png = None if args.no_plot else plot(records, out / "time_vs_size.png")
    print(f"wrote {csv_path}, {md_path}" + (f", {png}" if png else "") +
          f" in {time.perf_counter() - t_all:.0f} s")
    return 1 if any(r.get("error") for r in records) else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
