"""Issue 13 goal 4: which Version 2 feature makes the generated v2 cases hard? One feature off at a time.

    python -m benchmarks.v2_ablation [--size medium_v2] [--seeds 0,1,2] [--variants ...]
                                     [--time-limit 60] [--out benchmarks/results/v2_ablation]

Each variant takes the generated v2 case's tables (``benchmarks.generate``) and removes one group
of Version 2 inputs, so that the difference in HiGHS's time is that group's:

* ``full``: the case as generated;
* ``no_cell_imports``: no ``cell_imports`` rows (cells are made locally or the demand is unmet);
* ``no_recipes``: no ``recipes`` rows (the precursor and lithium carbonate are then used by nothing;
  their plants stay candidates, never worth building);
* ``no_committed_vintage``: no ``committed_builds`` and no ``capex_change_per_year``.

Every variant is written as a workbook, read and validated like any case, built with the default
(strengthened) formulation, written as MPS and solved by HiGHS alone (``benchmarks.levers.solve_mps``)
to a 1e-4 gap. Writes ``v2_ablation.csv`` and ``v2_ablation.md`` into ``--out``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "v2_ablation"


def _no_cell_imports(t: dict) -> None:
    t["cell_imports"] = []


def _no_recipes(t: dict) -> None:
    t["recipes"] = []


def _no_committed_vintage(t: dict) -> None:
    t["committed_builds"] = []
    for f in t["facilities"]:
        f["capex_change_per_year"] = 0.0


VARIANTS = {"full": None, "no_cell_imports": _no_cell_imports, "no_recipes": _no_recipes,
            "no_committed_vintage": _no_committed_vintage}


def prepare(size: str, seed: int, variant: str, work: Path) -> Path:
    """The variant's workbook and its strengthened model as MPS (cached by name)."""
    from benchmarks.generate import generate_tables
    from model.formulation import build_model
    from model.pipeline import prepare_case
    from model.solve import write_model
    from model.xlsx_util import write_input_workbook

    work.mkdir(parents=True, exist_ok=True)
    mps = work / f"{size}_s{seed}_{variant}.mps"
    if mps.exists():
        return mps
    t = generate_tables(size, seed)
    if VARIANTS[variant] is not None:
        VARIANTS[variant](t)
    case = write_input_workbook(work / f"{size}_s{seed}_{variant}.xlsx", t)
    data, _ = prepare_case(case)
    write_model(build_model(data), str(mps))
    return mps


def main(argv: list[str] | None = None) -> int:
    from benchmarks.levers import _fmt, geo_mean, solve_mps, time_to_gap, write_csv

    ap = argparse.ArgumentParser(prog="python -m benchmarks.v2_ablation", description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="medium_v2")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = ap.parse_args(argv)
    variants = [v.strip() for v in a.variants.split(",") if v.strip()]
    for v in variants:
        if v not in VARIANTS:
            ap.error(f"unknown variant {v!r}; choose from {', '.join(VARIANTS)}")
    rows = []
    for seed in [int(s) for s in a.seeds.split(",") if s.strip()]:
        for v in variants:
            mps = prepare(a.size, seed, v, a.out / "work")
            r = solve_mps(str(mps), gap=1e-4, time_limit_s=a.time_limit, options={})
            r.pop("_col_values")
            rows.append({"case": f"{a.size}_s{seed}", "variant": v, **r})
            print(f"{a.size}_s{seed} {v:>22}: 1e-3 {_fmt(r['t_1e-3'])} s, 1e-4 {_fmt(r['t_1e-4'])} s, {r['nodes']} "
                  f"nodes, root gap {_fmt(r['root_gap'], '.2e')}, {r['status']}", flush=True)
    a.out.mkdir(parents=True, exist_ok=True)
    write_csv(rows, a.out / "v2_ablation.csv")
    lines = ["| case | variant | t to 1e-3 s | t to 1e-4 s | nodes | root gap | status | gap at the end |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['variant']} | {_fmt(r['t_1e-3'])} | {_fmt(r['t_1e-4'])} | {r['nodes']} | "
                     f"{_fmt(r['root_gap'], '.1e')} | {r['status']} | {_fmt(r['gap'], '.1e')} |")
    lines += ["", "| variant | geometric mean of the time to 1e-4 (limit counted) s |", "|---|---|"]
    for v in variants:
        lines.append(f"| {v} | {geo_mean(time_to_gap(r) for r in rows if r['variant'] == v):.1f} |")
    text = "\n".join(lines) + "\n"
    (a.out / "v2_ablation.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
