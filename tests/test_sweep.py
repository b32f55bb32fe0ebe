"""Batch sensitivity sweeps (model.sweep): designs, the worker (the same solver path as ``run``), the store.

Kept small: tiny cases solve in tens of milliseconds, most sweeps run in this process (workers=0);
one CLI test (in this process) exercises the local process pool and one the Dask path (the session's
cluster, tests/conftest.py).
"""
from __future__ import annotations

import json
import math
import os
import signal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from clirun import run_cli
from model.formulation import build_model
from model.pipeline import prepare_case, run_case, solve_case
from model.solve import SolverOptions, solve_model
from model.sweep import csv_safe, run_sweep
from model.workbook import read_workbook

ROOT = Path(__file__).resolve().parents[1]

OAT_ROWS = [
    {"address": "settings.discount_rate", "operation": "=", "low": 0.04, "high": 0.12, "steps": 3, "design": "oat"},
    {"address": "facilities[*].capex_usd_per_module", "operation": "*=", "low": 0.5, "high": 1.5, "steps": 2},
    {"address": "imports[cathode_LFP,China].price_usd_per_unit", "operation": "*=", "low": 0.8, "high": 1.2},
]  # 3 + 2 + 2 cases, plus the base case: 8


def sweep_case(make_case, rows=OAT_ROWS, name="case.xlsx", **settings):
    def edit(t):
        t["settings"].update(mip_rel_gap=0.0, **settings)
        if rows is not None:
            t["sensitivity"] = [dict(r) for r in rows]
    return make_case(edit, name=name)


# --------------------------------------------------------------------------- the worker's solver path
def test_sweep_case_objective_equals_run_objective(make_case, tmp_path):
    """Parity: a sweep case's stored objective is the objective ``run`` finds for the same overrides
    (both at a zero MIP gap, so to HiGHS's tolerances), and its status is ``run``'s."""
    rows = [{"address": "settings.discount_rate", "operation": "=", "low": 0.03, "high": 0.11, "steps": 2,
             "design": "oat"}]
    path = sweep_case(make_case, rows)
    res = run_sweep(path, output=tmp_path / "p" / "s.xlsx", workers=0, mip_rel_gap=0.0, figures=False,
                    write_outputs=False)
    assert res.n_computed == 3 and res.n_failed == 0
    store = tmp_path / "p" / "s_cases"
    for c, h in zip(res.cases, res.hashes):
        stored = json.loads((store / f"{h}.json").read_text())
        ran = run_case(path, overrides=list(c.overrides), mip_rel_gap=0.0)
        assert stored["status"] == ran.solve.status == "optimal", c.overrides
        assert stored["objective_npv_usd"] == pytest.approx(ran.solve.objective, rel=1e-9, abs=1e-6), c.overrides


def test_a_results_workbook_sweeps_like_its_case(make_case, tmp_path):
    """``run`` accepts its own results workbook as a case, so does ``sweep``: same cases, same objectives."""
    rows = [{"address": "settings.discount_rate", "operation": "=", "low": 0.04, "high": 0.12, "steps": 2,
             "design": "oat"}]
    path = sweep_case(make_case, rows)
    results = tmp_path / "r" / "case_results.xlsx"
    assert run_cli("run", path, "-o", results).returncode == 0
    a = run_sweep(path, output=tmp_path / "a" / "s.xlsx", workers=0, mip_rel_gap=0.0, figures=False,
                  write_outputs=False)
    b = run_sweep(results, output=tmp_path / "b" / "s.xlsx", workers=0, mip_rel_gap=0.0, figures=False,
                  write_outputs=False)
    assert b.n_failed == 0 and len(b.table) == len(a.table) == 3
    assert b.table.net_present_cost_usd.tolist() == pytest.approx(a.table.net_present_cost_usd.tolist(), rel=1e-9)


def test_sweep_worker_solves_with_one_thread_after_another_thread_count(make_case, tmp_path):
    """HiGHS's thread scheduler is per process: a solve with threads=2 earlier in the process must not
    stop the worker's threads=1 solves (the in-process sweep resets the scheduler before each case)."""
    import highspy

    path = sweep_case(make_case, OAT_ROWS[:1])
    data, _ = prepare_case(path)
    highspy.Highs.resetThreadScheduler(False)  # whatever earlier tests started
    assert solve_model(build_model(data), SolverOptions(mip_rel_gap=0.0, threads=2)).status == "optimal"
    res = run_sweep(path, output=tmp_path / "t" / "s.xlsx", workers=0, mip_rel_gap=0.0, figures=False,
                    write_outputs=False)
    assert (res.table.status == "optimal").all() and res.n_failed == 0


# --------------------------------------------------------------------------- sweeps
def test_oat_sweep_matches_single_solves(make_case, tmp_path):
    # the last row changes the model's structure (no build variables at 0 modules)
    rows = OAT_ROWS + [{"address": "facilities[cathode_plant].max_modules", "operation": "=", "low": 0, "high": 1}]
    path = sweep_case(make_case, rows)
    res = run_sweep(path, output=tmp_path / "out" / "s.xlsx", workers=0, mip_rel_gap=0.0, figures=False)
    t = res.table
    assert len(t) == 10 and list(t.case) == list(range(10))
    assert (t.status == "optimal").all() and res.n_failed == 0 and res.n_computed == 10
    assert "solve_mode" not in t.columns  # every case is solved afresh through solve_case, as run does
    assert (t.highs_seconds > 0).all() and (t.highs_cpu_seconds >= 0).all()
    assert t.overrides.iloc[0] == ""  # case 0 is the base case
    raw = read_workbook(path)
    for c in res.cases:
        single = solve_case(prepare_case(raw, list(c.overrides))[0], mip_rel_gap=0.0)
        row = t[t.case == c.index].iloc[0]
        assert row.net_present_cost_usd == pytest.approx(single.solve.objective, rel=1e-6), c.overrides
    # one column per varied input, holding the value used
    assert t["settings.discount_rate ="].dropna().tolist() == pytest.approx([0.04, 0.08, 0.12])
    tor = res.analysis["tornado"]
    assert len(tor) == 4 and tor.swing_usd.is_monotonic_decreasing
    assert {"capacity_cells_2028", "local_value_share_2028", "modules_built_cell_plant",
            "first_build_year_cell_plant"} <= set(t.columns)


def test_resume_after_interruption_recomputes_nothing_finished(make_case, tmp_path):
    path = sweep_case(make_case)
    out = tmp_path / "r" / "s.xlsx"
    store = out.parent / "s_cases"
    seen = []

    def stop_after_3(rec):
        seen.append(rec["hash"])
        if len(seen) == 3:
            raise KeyboardInterrupt("simulated Ctrl-C")

    with pytest.raises(KeyboardInterrupt):
        run_sweep(path, output=out, workers=0, mip_rel_gap=0.0, figures=False, on_case_done=stop_after_3)
    assert sorted(p.stem for p in store.glob("*.json")) == sorted(seen)
    assert not list(store.glob(".*")) and not out.exists()  # nothing half-written, no workbook
    before = {p.name: p.read_bytes() for p in store.glob("*.json")}

    computed = []
    second = run_sweep(path, output=out, workers=0, mip_rel_gap=0.0, figures=False,
                       on_case_done=lambda r: computed.append(r["hash"]))
    assert second.n_reused == 3 and second.n_computed == 5 and not set(computed) & set(seen)
    assert {p.name: p.read_bytes() for p in store.glob("*.json") if p.name in before} == before

    fresh = run_sweep(path, output=tmp_path / "f" / "s.xlsx", workers=0, mip_rel_gap=0.0, figures=False)
    cols = [c for c in fresh.table.columns
            if c not in ("highs_seconds", "case_seconds", "highs_cpu_seconds", "cpu_seconds")]
    pd.testing.assert_frame_equal(second.table[cols], fresh.table[cols])

    third = run_sweep(path, output=out, workers=0, mip_rel_gap=0.0, figures=False)
    assert third.n_computed == 0 and third.n_reused == 8
    pd.testing.assert_frame_equal(third.table, second.table)

    # a damaged file is recomputed; --fresh recomputes everything
    victim = store / f"{second.hashes[4]}.json"
    victim.write_text("{not json")
    assert run_sweep(path, output=out, workers=0, mip_rel_gap=0.0, figures=False).n_computed == 1
    assert run_sweep(path, output=out, workers=0, mip_rel_gap=0.0, figures=False, fresh=True).n_computed == 8


def test_failures_are_recorded_and_the_sweep_finishes(make_case, tmp_path):
    rows = [
        {"address": "local_content[2028].min_local_value_share", "operation": "=", "low": 0.1, "high": 1.0,
         "steps": 2, "design": "oat"},
        {"address": "settings.discount_rate", "operation": "=", "low": -0.1, "high": 0.1, "steps": 2},
    ]
    path = sweep_case(make_case, rows, allow_unmet_demand=False)
    res = run_sweep(path, output=tmp_path / "o" / "s.xlsx", workers=0, mip_rel_gap=0.0)
    t = res.table.set_index("overrides")
    assert t.loc["", "status"] == "optimal"
    assert t.loc["local_content[2028].min_local_value_share=1", "status"] == "infeasible"
    assert t.loc["local_content[2028].min_local_value_share=1", "message"]
    bad = t.loc["settings.discount_rate=-0.1"]
    assert bad.status == "invalid_input" and "discount_rate" in bad.message and "out of range" in bad.message
    assert math.isnan(bad.net_present_cost_usd)
    assert t.loc["settings.discount_rate=0.1", "status"] == "optimal"
    assert res.n_failed == 2
    assert res.paths["workbook"].exists()
    tor = res.analysis["tornado"]
    assert tor.swing_usd.isna().all()  # each input has a failing end
    wb = openpyxl.load_workbook(res.paths["workbook"], read_only=True)
    summary = {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True)}
    wb.close()
    assert summary["n_failed"] == 2 and summary["n_status_infeasible"] == 1 and summary["n_status_invalid_input"] == 1


def test_sampled_designs_and_csv_definition(make_case, tmp_path):
    path = sweep_case(make_case, rows=None)
    definition = tmp_path / "def.csv"
    definition.write_text("address,operation,low,high,steps,design\n"
                          "settings.discount_rate,=,0.04,0.1,,sobol\n"
                          "\"imports[*].price_usd_per_unit\",*=,0.8,1.2,,\n")
    res = run_sweep(path, output=tmp_path / "s" / "sobol.xlsx", definition=definition, samples=4, workers=0,
                    figures=False)
    assert res.design.kind == "sobol" and len(res.table) == 1 + 4 * (2 + 2)
    assert set(res.analysis["sobol"].columns) >= {"S1", "S1_conf", "ST", "ST_conf"}
    wb = openpyxl.load_workbook(res.paths["workbook"], read_only=True)
    assert {"summary", "cases", "sobol", "definition"} <= set(wb.sheetnames)
    wb.close()

    definition.write_text(definition.read_text().replace("sobol", "morris"))
    res = run_sweep(path, output=tmp_path / "s" / "morris.xlsx", definition=definition, samples=2, workers=0,
                    figures=False)
    assert len(res.table) == 1 + 2 * 3 and {"mu_star", "sigma"} <= set(res.analysis["morris"].columns)


def test_dask_local_cluster_gives_the_same_results(make_case, tmp_path, dask_cluster):
    path = sweep_case(make_case, rows=OAT_ROWS[:2])
    here = run_sweep(path, output=tmp_path / "a" / "s.xlsx", workers=0, mip_rel_gap=0.0, figures=False)
    # the session's LocalCluster (tests/conftest.py): two worker processes, one thread each
    res = run_sweep(path, output=tmp_path / "d" / "s.xlsx", scheduler=dask_cluster.scheduler_address,
                    mip_rel_gap=0.0, figures=False)
    assert res.n_computed == len(here.table) and res.run_info["backend"] == "dask"
    workers = {json.loads(p.read_text())["worker"] for p in (tmp_path / "d" / "s_cases").glob("*.json")}
    assert all(str(os.getpid()) not in w for w in workers)
    pd.testing.assert_series_equal(res.table.net_present_cost_usd, here.table.net_present_cost_usd, rtol=1e-9)
    assert list(res.table.status) == list(here.table.status)


def test_cli_sweep_with_process_pool_writes_workbook(make_case, tmp_path):
    path = sweep_case(make_case, rows=OAT_ROWS[:2])
    out = tmp_path / "out" / "case_sweep.xlsx"
    p = run_cli("sweep", path, "-o", out, "--workers", "2", "--quiet", cwd=tmp_path)  # in this process (clirun.py)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    assert "6 cases" in p.stdout and "0 failed" in p.stdout
    wb = openpyxl.load_workbook(out)
    assert {"summary", "cases", "tornado", "definition"} <= set(wb.sheetnames)
    assert len(wb["tornado"]._charts) == 1
    summary = {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["backend"] == "process-pool" and summary["workers"] == 2 and summary["n_cases"] == 6
    assert len(summary["input_sha256"]) == 64
    # presentation: a cover with units, the base case first with its difference, print-ready sheets
    ws = wb["summary"]
    assert [c.value for c in ws[1]] == ["key", "value", "unit", "meaning"]
    row = {c.value: c.row for c in ws["A"]}["base_net_present_cost_usd"]
    assert ws.cell(row, 3).value == "USD" and ws.cell(row, 2).number_format.endswith('" bn"')
    cases = [dict(zip([c.value for c in wb["cases"][1]], r)) for r in wb["cases"].iter_rows(min_row=2, values_only=True)]
    assert cases[0]["case"] == 0 and cases[0]["cost_change_vs_base_usd"] == 0
    changes = [abs(c["cost_change_vs_base_usd"]) for c in cases[1:]]
    assert changes == sorted(changes, reverse=True)  # the biggest change reads first
    tor = wb["tornado"]
    assert tor["A1"].value == "input" and tor.column_dimensions["A"].width >= len(str(tor["A2"].value)) - 1
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.freeze_panes == "A2" and ws.auto_filter.ref, ws.title
    for suffix in (".parquet", ".csv"):
        assert out.with_suffix(suffix).exists()
    assert pd.read_parquet(out.with_suffix(".parquet")).shape[0] == 6
    assert (out.parent / "case_sweep_tornado.png").exists() and (out.parent / "case_sweep_cost_hist.png").exists()
    workers = {json.loads(f.read_text())["worker"] for f in (out.parent / "case_sweep_cases").glob("*.json")}
    assert len(workers) >= 1


def _main_exit(argv):
    from model.cli import main

    old = signal.getsignal(signal.SIGTERM)
    try:
        return main(argv)
    finally:
        signal.signal(signal.SIGTERM, old)


@pytest.mark.parametrize("rows, where", [
    ([{**OAT_ROWS[0]}, {**OAT_ROWS[1], "design": "grid"}], "row 3, column 'design'"),
    ([{**OAT_ROWS[0], "address": "settings.discount_rat"}], "row 2, column 'address'"),
    ([{**OAT_ROWS[0], "address": "facilities[nowhere].capex_usd_per_module"}], "row 2, column 'address'"),
    ([{**OAT_ROWS[0], "low": 0.2}], "row 2, column 'high'"),
    ([{**OAT_ROWS[0], "steps": 1}], "row 2, column 'steps'"),
    ([{**OAT_ROWS[0], "operation": "-="}], "row 2, column 'operation'"),
    ([{**OAT_ROWS[0], "design": "taguchi"}], "row 2, column 'design'"),
    (None, "sheet 'sensitivity'"),
])
def test_bad_sensitivity_sheet_exits_2_and_writes_nothing(make_case, tmp_path, capsys, rows, where):
    path = sweep_case(make_case, rows)
    out = tmp_path / "o" / "s.xlsx"
    assert _main_exit(["sweep", str(path), "-o", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "sheet 'sensitivity'" in err and where in err, err
    assert "Traceback" not in err
    assert not out.parent.exists()


def test_bad_arguments_exit_2(make_case, tmp_path, capsys):
    path = sweep_case(make_case)
    assert _main_exit(["sweep", str(path), "--samples", "8", "-o", str(tmp_path / "x.xlsx")]) == 2
    assert "--samples applies" in capsys.readouterr().err
    assert _main_exit(["sweep", str(path), "-o", str(path)]) == 2
    assert _main_exit(["sweep", str(path), "--definition", str(tmp_path / "none.csv")]) == 2
    assert not (tmp_path / "x.xlsx").exists()


def test_csv_cells_cannot_become_formulas():
    df = pd.DataFrame({"a": ["=1+1", "+x", "-y", "@z", "\tt", "ok", None], "b": range(7)})
    out = csv_safe(df)
    assert out.a.tolist()[:6] == ["'=1+1", "'+x", "'-y", "'@z", "'\tt", "ok"]
    assert out.b.tolist() == list(range(7))


def test_tornado_marks_inputs_whose_swing_is_mostly_penalty():
    import pandas as pd

    from model.sweep import Case, Design, Factor, tornado_label, tornado_table

    fd = Factor("demand[*].vehicles", "*=", 0.8, 1.2, 3, False, 2)
    fc = Factor("facilities[*].capex_usd_per_module", "*=", 0.7, 1.3, 3, False, 3)
    design = Design("oat", (fd, fc), "sensitivity")
    cases = [Case(0, ()), Case(1, ("d",), ((fd.label, 0.8),)), Case(2, ("d",), ((fd.label, 1.2),)),
             Case(3, ("c",), ((fc.label, 0.7),)), Case(4, ("c",), ((fc.label, 1.3),))]
    # demand x1.2: +30 bn, of which 25 bn penalty; capex: +-1 bn, no penalty
    table = pd.DataFrame({"case": [0, 1, 2, 3, 4],
                          "net_present_cost_usd": [20e9, 18e9, 50e9, 19e9, 21e9],
                          "unmet_penalty_usd": [0.0, 0.0, 25e9, 0.0, 0.0]})
    tor = tornado_table(design, cases, table)
    row = tor.set_index("address").loc["demand[*].vehicles"]
    assert row.swing_usd == pytest.approx(32e9) and row.penalty_share_of_swing == pytest.approx(25 / 32)
    assert bool(row.mostly_penalty)
    assert not bool(tor.set_index("address").loc["facilities[*].capex_usd_per_module"].mostly_penalty)
    assert "mostly unmet-demand penalty" in tornado_label(tor.iloc[0])
    assert list(tor.address) == ["demand[*].vehicles", "facilities[*].capex_usd_per_module"]  # biggest swing first
