"""Measure solver levers on the benchmark set: HiGHS options, objective scaling, plain vs strengthened.

    python -m benchmarks.levers [--sizes medium,medium_rebuild] [--seeds 0,1,2]
                                [--configs plain,strengthened,fast,...] [--time-limit 120] [--out DIR]

Every case (``benchmarks.generate``, by size and seed) is built once per formulation and written as
MPS; each configuration then solves that MPS in a fresh ``highspy.Highs`` (so the measurement is
HiGHS's own work, not Pyomo's) to a relative gap of ``--gap`` (default 1e-4). A HiGHS callback
records, per solve: the time at which the gap first reached 1e-3 and 1e-4, the gap at the end of the
root node (the last gap seen before the first branching node), the nodes and the final objective.
Objectives are compared with the first configuration's (``obj_rel_diff``): a lever that changes the
optimum beyond the gap is a bug.

Writes ``levers.csv`` and ``levers.md`` into ``--out`` (default ``benchmarks/results/levers``).
"""
from __future__ import annotations

import argparse
import csv
import math
import statistics
import time
from pathlib import Path
from typing import Any

from .generate import spec_by_name, with_limits, write_case

#: name -> (formulation, HiGHS options). "strengthened" is the project's default formulation.
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "plain": ("plain", {}),
    "strengthened": ("strengthened", {}),
    "scaled": ("strengthened", {"user_objective_scale": -20}),
    "heur_off": ("strengthened", {"mip_heuristic_effort": 0.0}),
    "heur_0.2": ("strengthened", {"mip_heuristic_effort": 0.2}),
    "heur_0.01": ("strengthened", {"mip_heuristic_effort": 0.01}),
    "nosym": ("strengthened", {"mip_detect_symmetry": False}),
    "norestart": ("strengthened", {"mip_allow_restart": False}),
    "nopresolve": ("strengthened", {"presolve": "off"}),
    # upper bound on what any MIP start can buy: the strengthened model started from the best
    # solution an earlier configuration of the same run found (its optimum)
    "perfect_start": ("strengthened", {"_start": "best"}),
    # the strengthened model handed to HiGHS from memory (model.warmstart.compile_model: another
    # column order than the MPS), without and with the relax-and-fix MIP start of model.warmstart;
    # the heuristic's own time is added to every time of "rf_start"
    # existing switches of model.formulation.strengthen that are off by default, measured here
    "int_stocks": ("int_stocks", {}),
    # issue 13 second pass: the default now has the supply covers; "pass1" is the default of the
    # first pass (without them), "content" / "covers" add the local-content covers (off by default)
    "pass1": ("pass1", {}),
    "content": ("content", {}),
    "covers": ("covers", {}),
    "recipe": ("recipe", {}),
    # issue 13 third pass: the window covers on top of the default (off by default)
    "window": ("window", {}),
    "all_covers": ("all_covers", {}),
    "direct": ("direct", {}),
    "rf_start": ("direct", {"_start": "relax_and_fix"}),
    # issue 13 fourth pass: HiGHS 1.16's parallel tree search on both cores ("using up to 2 workers
    # across 2 threads"), and the spread over HiGHS's random seed (what racing two seeds could buy)
    "par2": ("strengthened", {"parallel": "on", "threads": 2}),
    "seed1": ("strengthened", {"random_seed": 1}),
    "seed2": ("strengthened", {"random_seed": 2}),
    "seed3": ("strengthened", {"random_seed": 3}),
    # branching: pseudo-cost reliability (strong-branching effort; HiGHS default 8), cuts at nodes
    "rel2": ("strengthened", {"mip_pscost_minreliable": 2}),
    "rel16": ("strengthened", {"mip_pscost_minreliable": 16}),
    "rel32": ("strengthened", {"mip_pscost_minreliable": 32}),
    "nodecuts_off": ("strengthened", {"mip_allow_cut_separation_at_nodes": False}),
}
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "levers"


#: formulations written as MPS per case: name -> the ``strengthen`` argument of ``build_model`` (True: the
#: default; False: the plain statement; a dict: these switches of ``Strengthening`` on top of the default)
FORMS: dict[str, bool | dict[str, bool]] = {
    "plain": False, "strengthened": True,
    "int_stocks": {"integer_stocks": True},
    "pass1": {"supply_covers": False},  # the first pass's default
    "content": {"supply_covers": False, "content_covers": True},
    "covers": {"content_covers": True},
    "recipe": {"recipe_covers": True},
    "window": {"window_covers": True},
    "all_covers": {"content_covers": True, "recipe_covers": True},
}


def strengthening(form: str):
    """The ``strengthen`` argument of ``build_model`` for a formulation of :data:`FORMS`."""
    spec = FORMS[form]
    if isinstance(spec, bool):
        return spec
    from model.formulation import Strengthening

    return Strengthening(**spec)


def attach_tracker(h) -> dict[str, float]:
    """Record, through HiGHS callbacks, the times to gaps 1e-3 / 1e-4, the root gap, the first solution.

    The root gap is the last gap seen at node 0 (after the root's cuts and heuristics).
    """
    import highspy

    track = {"t_1e-3": math.nan, "t_1e-4": math.nan, "root_gap": math.nan, "t_first_sol": math.nan}

    def cb(kind, message, out, inp, user):  # noqa: ARG001 - HiGHS callback signature
        p, d = out.mip_primal_bound, out.mip_dual_bound
        if not (math.isfinite(p) and math.isfinite(d)):
            return
        g = abs(p - d) / max(1.0, abs(p))
        t = out.running_time
        if math.isnan(track["t_first_sol"]):
            track["t_first_sol"] = t
        if out.mip_node_count == 0:
            track["root_gap"] = g
        for key, lim in (("t_1e-3", 1e-3), ("t_1e-4", 1e-4)):
            if g <= lim and math.isnan(track[key]):
                track[key] = t

    h.setCallback(cb, None)
    for kind in (highspy.cb.HighsCallbackType.kCallbackMipInterrupt,
                 highspy.cb.HighsCallbackType.kCallbackMipImprovingSolution,
                 highspy.cb.HighsCallbackType.kCallbackMipLogging):
        h.startCallback(kind)
    return track


def finish_tracker(track: dict[str, float], h, seconds: float) -> None:
    """Close the record with the final state (the callbacks may not fire after the last change)."""
    info = h.getInfo()
    final_gap = info.mip_gap if info.primal_solution_status == 2 else math.nan
    for key, g in (("t_1e-3", 1e-3), ("t_1e-4", 1e-4)):
        if math.isnan(track[key]) and final_gap <= g + 1e-12:
            track[key] = seconds
    if math.isnan(track["root_gap"]) and int(info.mip_node_count) <= 1:
        track["root_gap"] = final_gap


def solve_mps(mps: str, *, gap: float, time_limit_s: float, options: dict[str, Any],
              threads: int | None = None, start: list[float] | None = None) -> dict[str, Any]:
    """Solve ``mps`` (a file, or a ``model.warmstart.StandardForm``) in a fresh ``highspy.Highs`` with the
    pipeline's options: status, objective, bound, gap, nodes, LP iterations, times to gaps 1e-3 / 1e-4,
    root gap, first solution, wall and CPU seconds, the read time and the model's size."""
    import resource

    import highspy

    from model.solve import reset_thread_scheduler

    reset_thread_scheduler()  # each solve starts HiGHS's scheduler with its own thread count
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    t0 = time.perf_counter()
    if isinstance(mps, (str, Path)):
        h.readModel(str(mps))
    else:
        from model.warmstart import _pass

        _pass(h, mps)
    t_read = time.perf_counter() - t0
    h.setOptionValue("time_limit", float(time_limit_s))  # the options of model.solve.make_solver
    h.setOptionValue("mip_rel_gap", float(gap))
    h.setOptionValue("mip_abs_gap", 1e-6)
    if threads:
        h.setOptionValue("threads", int(threads))
    for k, v in options.items():
        if not k.startswith("_"):
            h.setOptionValue(k, v)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(start)
        sol.value_valid = True
        h.setSolution(sol)
    track = attach_tracker(h)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    finish_tracker(track, h, seconds)
    info = h.getInfo()
    has_sol = info.primal_solution_status == 2
    lp = h.getLp()
    return {"_col_values": list(h.getSolution().col_value) if has_sol else None,
            "status": h.modelStatusToString(h.getModelStatus()), "seconds": seconds,
            "cpu_seconds": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), "read_seconds": t_read,
            "objective": info.objective_function_value if has_sol else math.nan, "bound": info.mip_dual_bound,
            "gap": info.mip_gap if has_sol else math.nan, "nodes": int(info.mip_node_count),
            "lp_iterations": int(info.simplex_iteration_count), "rows": h.getNumRow(), "cols": h.getNumCol(),
            "integers": sum(1 for t in lp.integrality_ if int(t) != 0), "nonzeros": h.getNumNz(), **track}


def prepare_mps(size: str, seed: int, workdir: Path, forms=tuple(FORMS)) -> dict[str, str]:
    """The case workbook and the models of ``forms`` as MPS, each file written only when missing (cached by name)."""
    from model.formulation import build_model
    from model.pipeline import prepare_case
    from model.solve import write_model

    workdir.mkdir(parents=True, exist_ok=True)
    name = f"{size}_s{seed}"
    case = workdir / f"{name}.xlsx"
    out = {f: str(workdir / f"{name}_{f}.mps") for f in forms}
    if not case.exists():
        write_case(case, with_limits(spec_by_name(size)), seed)
    out["case"] = str(case)
    missing = [f for f in forms if not Path(out[f]).exists()]
    if missing:
        data, _ = prepare_case(case)
        for form in missing:
            write_model(build_model(data, strengthen=strengthening(form)), out[form])
    return out


def _direct(case: str, start_kind: str | None, threads: int | None):
    """The strengthened model compiled in memory; with ``relax_and_fix``, its start (timed)."""
    from model.formulation import build_model
    from model.pipeline import prepare_case
    from model.warmstart import compile_model, relax_and_fix

    data, _ = prepare_case(case)
    m = build_model(data)
    sf = compile_model(m)
    if start_kind != "relax_and_fix":
        return sf, None, 0.0
    t0 = time.perf_counter()
    start, info = relax_and_fix(m, data.years, threads=threads)
    seconds = time.perf_counter() - t0
    if not start:
        return sf, None, seconds
    pos = {id(v): j for j, v in enumerate(sf.columns)}
    values = [0.0] * sf.n_cols
    for v, x in start:
        values[pos[id(v)]] = x
    return sf, values, seconds


def _fmt(x, spec=".2f") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def time_to_gap(r: dict) -> float:
    """A solve's time to 1e-4, or its whole time when it stopped before (the time limit counted as reached)."""
    return r["t_1e-4"] if not math.isnan(r["t_1e-4"]) else r["seconds"]


def geo_mean(xs) -> float:
    """Geometric mean (times under 10 ms count as 10 ms); nan for no values."""
    xs = [max(float(x), 0.01) for x in xs]
    return math.exp(statistics.fmean(math.log(x) for x in xs)) if xs else math.nan


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def write_tables(rows: list[dict], out: Path, configs: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out / "levers.csv")
    lines = ["| case | config | t to 1e-3 s | t to 1e-4 s | nodes | root gap | status | obj rel diff |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['config']} | {_fmt(r['t_1e-3'])} | {_fmt(r['t_1e-4'])} | {r['nodes']} | "
                     f"{_fmt(r['root_gap'], '.2e')} | {r['status']} | {_fmt(r['obj_rel_diff'], '.1e')} |")
    lines += ["", "Geometric mean over cases of the time to 1e-4 (time limit counted as reached), "
              "relative to the first configuration:", "", "| config | geo-mean t to 1e-4 s | vs first |", "|---|---|---|"]
    base = None
    for c in configs:
        ts = [time_to_gap(r) for r in rows if r["config"] == c]
        if not ts:
            continue
        gm = geo_mean(ts)
        base = base or gm
        lines.append(f"| {c} | {gm:.2f} | {gm / base:.2f} |")
    (out / "levers.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.levers", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="medium,medium_rebuild")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--configs", default="strengthened,scaled,heur_off,heur_0.2,nosym,norestart")
    ap.add_argument("--gap", type=float, default=1e-4)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--work", type=Path, default=None,
                    help="where the case workbooks and MPS files are cached (default OUT/work)")
    a = ap.parse_args(argv)
    configs = [c.strip() for c in a.configs.split(",") if c.strip()]
    for c in configs:
        if c not in CONFIGS:
            ap.error(f"unknown config {c!r}; choose from {', '.join(CONFIGS)}")
    rows: list[dict] = []
    for size in [s.strip() for s in a.sizes.split(",") if s.strip()]:
        for seed in [int(s) for s in a.seeds.split(",") if s.strip()]:
            mps = prepare_mps(size, seed, a.work or a.out / "work",
                              forms=tuple({CONFIGS[c][0] for c in configs} - {"direct"}))
            ref = None
            best: dict[str, tuple[float, list[float]]] = {}  # formulation -> (objective, column values)
            for c in configs:
                form, opts = CONFIGS[c]
                start = best[form][1] if opts.get("_start") == "best" and form in best else None
                extra_s = 0.0
                model_in = mps.get(form)
                if form == "direct":
                    model_in, start, extra_s = _direct(mps["case"], opts.get("_start"), a.threads)
                r = solve_mps(model_in, gap=a.gap, time_limit_s=a.time_limit, options=opts, threads=a.threads,
                              start=start)
                r["heuristic_s"] = extra_s
                for k in ("seconds", "t_1e-3", "t_1e-4", "t_first_sol"):
                    r[k] += extra_s
                cols = r.pop("_col_values")
                if cols is not None and (form not in best or r["objective"] < best[form][0]):
                    best[form] = (r["objective"], cols)
                ref = r["objective"] if ref is None else ref
                r.update(case=f"{size}_s{seed}", config=c,
                         obj_rel_diff=abs(r["objective"] - ref) / max(1.0, abs(ref)))
                rows.append({"case": r.pop("case"), "config": r.pop("config"), **r})
                print(f"{rows[-1]['case']:>20} {c:>13}: 1e-3 {_fmt(r['t_1e-3'])} s, 1e-4 {_fmt(r['t_1e-4'])} s, "
                      f"{r['nodes']} nodes, root gap {_fmt(r['root_gap'], '.2e')}, {r['status']}", flush=True)
            write_tables(rows, a.out, configs)
    print(f"written {a.out / 'levers.md'}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
