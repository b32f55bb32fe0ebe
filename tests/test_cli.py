"""The command line's contract: exit statuses, outputs written or not, no tracebacks (interface.md)."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from clirun import run_cli, run_entry_point
from model.xlsx_util import write_input_workbook

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd=None):
    """The command line in this process (tests/clirun.py); asserts no traceback was printed."""
    return run_cli(*args, cwd=cwd)


def tiny(path, **settings):
    years = (2026, 2027)
    write_input_workbook(path, {
        "settings": {"start_year": 2026, "end_year": 2027, "mip_rel_gap": 0.0, **settings},
        "demand": [{"year": y, "vehicles": 400_000, "kwh_per_vehicle": 50} for y in years],
        "chemistry_mix": [{"year": y, "chemistry": "LFP", "share": 1} for y in years],
        "materials": [{"material": "cathode", "unit": "t", "reference_price_usd_per_unit": 5000}],
        "intensity": [{"chemistry": "LFP", "material": "cathode", "amount_per_gwh": 2000}],
        "facilities": [{"facility": "giga", "product": "cells", "existing_capacity": 15, "module_size": 10,
                        "max_modules": 1, "capex_usd_per_module": 6.5e8, "earliest_online_year": 2027},
                       {"facility": "cam", "product": "cathode", "module_size": 20_000, "max_modules": 2,
                        "capex_usd_per_module": 1.6e8, "opening_cost_usd": 5e7}],
        "imports": [{"material": "cathode", "origin": "China", "price_usd_per_unit": 4700}],
    })
    return path


def test_run_writes_results_and_exits_0(tmp_path):
    case = tiny(tmp_path / "case.xlsx")
    out = tmp_path / "out" / "case_results.xlsx"
    p = cli("run", case, "-o", out, "--no-figures")
    assert p.returncode == 0, p.stderr
    assert "status: optimal" in p.stdout
    wb = openpyxl.load_workbook(out, read_only=True)
    for sheet in ("summary", "build_schedule", "production", "sourcing", "demand", "costs", "capex_cashflow",
                  "local_content", "settings", "facilities"):
        assert sheet in wb.sheetnames
    summary = {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True) if r[0]}
    wb.close()
    assert summary["status"] == "optimal"
    for key in ("net_present_cost_usd", "mip_gap", "solve_seconds", "unmet_gwh_total", "input_file", "input_sha256",
                "solver", "solver_version", "model_version"):
        assert key in summary, key
    assert len(summary["input_sha256"]) == 64
    assert "objective_npv_usd" not in summary  # interface.md version 2 name only
    # the planner's KPIs (model.kpis): cost split, penalty share, capacity, imports, local share
    npc = summary["net_present_cost_usd"]
    assert summary["penalty_share_of_cost"] == pytest.approx(summary["unmet_penalty_usd"] / npc, rel=1e-9)
    costs = sum(v for k, v in summary.items() if k.startswith("cost_") and k.endswith("_usd"))
    assert costs + summary["unmet_penalty_usd"] == pytest.approx(npc, rel=1e-9)  # the categories add up
    assert any(k.startswith("capacity_cells_") for k in summary)
    assert any(k.startswith("imports_") and k.endswith("_total") for k in summary)
    assert summary["scenarios_applied"] == "none"
    assert summary["unmet_gwh_total"] > 0  # this tiny case cannot meet its demand: said loudly
    assert "UNMET DEMAND" in p.stderr and f"{summary['unmet_gwh_total']:,.1f} GWh" in p.stderr
    assert "UNMET DEMAND" in summary["unmet_demand_alert"]


def test_validate_good_and_bad(tmp_path):
    case = tiny(tmp_path / "case.xlsx")
    p = cli("validate", case)
    assert p.returncode == 0 and "valid" in p.stdout
    bad = tiny(tmp_path / "bad.xlsx", discount_rate=1.5)
    p = cli("validate", bad)
    assert p.returncode == 2
    assert "sheet 'settings'" in p.stderr and "discount_rate" in p.stderr


def test_bad_input_writes_nothing_and_keeps_existing_output(tmp_path):
    bad = tiny(tmp_path / "bad.xlsx", time_limit_s=0)
    out = tmp_path / "res.xlsx"
    p = cli("run", bad, "-o", out)
    assert p.returncode == 2 and not out.exists()
    out.write_bytes(b"previous results")
    p = cli("run", bad, "-o", out)
    assert p.returncode == 2 and out.read_bytes() == b"previous results"


def test_bad_arguments_exit_2(tmp_path):
    assert cli("run").returncode == 2
    assert cli("frobnicate").returncode == 2
    case = tiny(tmp_path / "case.xlsx")
    assert cli("run", case, "--time-limit", "-3").returncode == 2
    assert cli("run", case, "--mip-gap", "abc").returncode == 2
    assert cli("run", tmp_path / "missing.xlsx").returncode == 2
    # the output may never be the input
    p = cli("run", case, "-o", case)
    assert p.returncode == 2 and "input" in p.stderr


def test_infeasible_exits_1_with_report(tmp_path):
    case = tiny(tmp_path / "case.xlsx", allow_unmet_demand=False)
    out = tmp_path / "inf.xlsx"
    # 15 GWh existing; demand 20 GWh in 2026 and only 2027 can add a module -> infeasible
    p = cli("run", case, "-o", out, "--no-figures")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "infeasible" in p.stdout
    wb = openpyxl.load_workbook(out, read_only=True)
    summary = {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True) if r[0]}
    wb.close()
    assert summary["status"] == "infeasible"


def test_write_model_mps(tmp_path):
    case = tiny(tmp_path / "case.xlsx")
    mps = tmp_path / "model.mps"
    p = cli("run", case, "-o", tmp_path / "r.xlsx", "--write-model", mps, "--no-figures")
    assert p.returncode == 0
    assert "ROWS" in mps.read_text()


def test_no_arguments_solves_default_case(tmp_path):
    # run from a copy of the project layout so the real outputs/ folder is untouched
    if not (ROOT / "inputs" / "base_case.xlsx").exists():
        pytest.skip("default case not built")
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "base_case.xlsx").write_bytes((ROOT / "inputs" / "base_case.xlsx").read_bytes())
    p = run_entry_point(cwd=tmp_path)  # the README's first command: the real entry point, in its own process
    assert p.returncode == 0, p.stdout + p.stderr
    assert (tmp_path / "outputs" / "base_case_results.xlsx").exists()
    # the console names what the plan buys and sells abroad, each as the sourcing sheet totals it
    wb = openpyxl.load_workbook(tmp_path / "outputs" / "base_case_results.xlsx", read_only=True)
    rows = list(wb["sourcing"].iter_rows(values_only=True))
    wb.close()
    head = rows[0]
    exported: dict = {}
    for r in rows[1:]:
        rec = dict(zip(head, r))
        if rec["source_kind"] == "export":
            exported[rec["material"]] = exported.get(rec["material"], 0.0) + rec["quantity"]
    assert exported, "the default case exports pCAM"
    line = next(x for x in p.stdout.splitlines() if x.startswith("exported over the horizon: "))
    for mat, q in exported.items():
        if q > 0.5:
            assert f"{mat} {q:,.0f}" in line, (mat, q, line)



def test_a_closed_output_pipe_is_not_an_internal_error(monkeypatch, capsys):
    """`battery-plan verify ... | head`: the reader leaving early is no crash and no 'internal error'."""
    from model import cli

    def reader_gone(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setitem(cli.COMMANDS, "validate", reader_gone)
    code = cli.main(["validate", "x.xlsx"])
    assert code == 1
    assert "internal error" not in capsys.readouterr().err
