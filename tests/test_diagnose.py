"""Infeasibility and unboundedness explanations (model.diagnose) on tiny hand-checked cases."""
from __future__ import annotations

from pathlib import Path

import pytest

from clirun import run_cli
from model.data import load_case
from model.diagnose import COLUMNS, explain
from model.pipeline import solve_case
from model.xlsx_util import write_input_workbook

ROOT = Path(__file__).resolve().parents[1]
TOL = 1e-6

CATHODE = {"material": "cathode", "unit": "t", "reference_price_usd_per_unit": 5000}
CATHODE_USE = {"chemistry": "LFP", "material": "cathode", "amount_per_gwh": 2000}  # 40,000 t per 20 GWh
CHINA = {"material": "cathode", "origin": "China", "price_usd_per_unit": 4700, "tariff_rate": 0.025,
         "freight_usd_per_unit": 200}  # landed 5,017.5 USD/t


def tables(*, years=(2026, 2027, 2028), gwh=20.0, materials=(CATHODE,), intensity=(), facilities=(), imports=(),
           exports=None, local_content=None, **settings):
    """One chemistry (LFP); ``gwh`` is the yearly demand (a number or a {year: GWh} dict)."""
    demand = gwh if isinstance(gwh, dict) else {y: gwh for y in years}
    t = {
        "settings": {"start_year": years[0], "end_year": years[-1], "discount_rate": 0.0, "mip_rel_gap": 0.0,
                     "allow_unmet_demand": False, **settings},
        "demand": [{"year": y, "vehicles": demand[y] * 1e6 / 50.0, "kwh_per_vehicle": 50} for y in years],
        "chemistry_mix": [{"year": y, "chemistry": "LFP", "share": 1.0} for y in years],
        "materials": list(materials),
        "intensity": list(intensity),
        "facilities": list(facilities),
        "imports": list(imports),
    }
    if exports is not None:
        t["exports"] = list(exports)
    if local_content is not None:
        t["local_content"] = list(local_content)
    return t


def solve(tmp_path, name="case", **kw):
    path = tmp_path / f"{name}.xlsx"
    write_input_workbook(path, tables(**kw))
    return solve_case(load_case(path))


def explained(tmp_path, **kw):
    res = solve(tmp_path, **kw)
    explain(res)
    return res, res.tables.get("infeasibility")


def rows(table, kind):
    return table[table.kind == kind].reset_index(drop=True)


# --------------------------------------------------------------------------- (1) cell capacity
GIGA = {"facility": "giga", "product": "cells", "existing_capacity": 20, "module_size": 10, "max_modules": 2,
        "earliest_online_year": 2027}


def test_demand_above_all_possible_capacity(tmp_path):
    # capacity can reach 20, 40, 40 GWh; demand 20, 40, 60 -> only 2028 is short, by 20 GWh
    res, t = explained(tmp_path, gwh={2026: 20.0, 2027: 40.0, 2028: 60.0}, facilities=[GIGA])
    assert res.solve.status == "infeasible"
    assert list(t.columns) == list(COLUMNS)
    cells = rows(t, "cell_demand")
    assert cells.year.tolist() == [2028]
    assert cells.item.tolist() == ["LFP"]
    assert cells.shortfall[0] == pytest.approx(20.0, abs=TOL)
    assert cells.required[0] == pytest.approx(60.0, abs=TOL)
    assert cells.achievable[0] == pytest.approx(40.0, abs=TOL)
    assert cells.unit[0] == "GWh"
    assert set(t.kind) <= {"cell_demand", "iis"}  # nothing else is blamed
    text = next(n for n in res.notes if n.startswith("2028: cell demand"))
    assert "LFP" in text and "short by 20.0 GWh" in text and "at most 40.0 GWh" in text
    assert "giga: existing 20.0 GWh + 2 modules x 10.0 GWh" in text
    assert not any(n.startswith(("2026:", "2027:")) for n in res.notes)


def test_iis_names_the_conflict_in_planner_words(tmp_path):
    res, t = explained(tmp_path, gwh={2026: 20.0, 2027: 40.0, 2028: 60.0}, facilities=[GIGA])
    iis = rows(t, "iis")
    assert "cell_demand[LFP,2028]" in iis.item.tolist()
    assert "cell_capacity[giga,2028]" in iis.item.tolist()
    words = " | ".join(iis.explanation)
    assert "cell demand of LFP in 2028" in words
    assert "unmet demand of LFP in 2028 is not allowed" in words
    assert "giga can have at most 2 modules" in words or "at most 2 modules of giga" in words
    assert iis.shortfall.isna().all()
    assert any(n.startswith("Conflicting constraints") for n in res.notes)


def test_module_lifetime_limits_show_as_best_plan(tmp_path):
    # one 10 GWh module living 2 years cannot serve all three years: one year is 10 GWh short,
    # although 10 GWh of capacity could exist in any single year
    line = {"facility": "line", "product": "cells", "module_size": 10, "max_modules": 1, "lifetime_years": 2}
    res, t = explained(tmp_path, gwh=10.0, facilities=[line])
    cells = rows(t, "cell_demand")
    assert cells.shortfall.sum() == pytest.approx(10.0, abs=TOL)
    assert len(cells) == 1
    text = cells.explanation[0]
    assert "at most 10.0 GWh of cell capacity can exist" in text and "the best plan makes only 0" in text


def test_infeasible_only_because_of_whole_modules(tmp_path):
    # half a module in each year would do (LP relaxation feasible), a whole one serves only one year
    line = {"facility": "line", "product": "cells", "module_size": 10, "max_modules": 1, "lifetime_years": 1}
    res, t = explained(tmp_path, years=(2026, 2027), gwh=5.0, facilities=[line])
    assert res.solve.status == "infeasible"
    assert rows(t, "cell_demand").shortfall.sum() == pytest.approx(5.0, abs=TOL)
    assert rows(t, "iis").empty
    assert any("whole numbers" in n for n in res.notes)


# --------------------------------------------------------------------------- (2) local content
def test_unreachable_local_content_target(tmp_path):
    # cathode 40,000 t/yr worth 2e8 USD; the only plant (10,000 t) runs from 2027:
    # 2026 can reach 0 %, 2027 25 % (target 40 %), 2028's 20 % is reachable
    cam = {"facility": "cam", "product": "cathode", "module_size": 10_000, "max_modules": 1,
           "capex_usd_per_module": 1e6, "earliest_online_year": 2027}
    res, t = explained(tmp_path, intensity=[CATHODE_USE], facilities=[{**GIGA, "max_modules": 0}, cam],
                       imports=[CHINA], local_content=[{"year": 2026, "min_local_value_share": 0.2},
                                                       {"year": 2027, "min_local_value_share": 0.4},
                                                       {"year": 2028, "min_local_value_share": 0.2}])
    assert res.solve.status == "infeasible"
    lc = rows(t, "local_content")
    assert lc.year.tolist() == [2026, 2027]
    assert lc.achievable.tolist() == pytest.approx([0.0, 25.0], abs=TOL)
    assert lc.required.tolist() == pytest.approx([20.0, 40.0], abs=TOL)
    assert lc.shortfall.tolist() == pytest.approx([20.0, 15.0], abs=TOL)
    assert set(t.kind) <= {"local_content", "iis"}
    text = next(n for n in res.notes if n.startswith("2027:"))
    assert "local-content target 40%" in text and "at most 25% of material value" in text
    assert "short by 15 points" in text and "cam: 1 module x 10,000 t" in text
    assert "no new modules before 2027" in next(n for n in res.notes if n.startswith("2026:"))


# --------------------------------------------------------------------------- (3) material with no source
def test_material_without_any_source(tmp_path):
    anode = {"material": "anode", "unit": "t", "reference_price_usd_per_unit": 1000}
    anode_use = {"chemistry": "LFP", "material": "anode", "amount_per_gwh": 1000}
    anode_imp = {"material": "anode", "origin": "China", "price_usd_per_unit": 1000}
    res, t = explained(tmp_path, materials=[CATHODE, anode], intensity=[CATHODE_USE, anode_use],
                       facilities=[GIGA], imports=[anode_imp])
    assert res.solve.status == "infeasible"
    mat = rows(t, "material_supply")
    assert set(mat.item) == {"cathode"}  # anode has an unlimited import route
    assert mat.year.tolist() == [2026, 2027, 2028]
    assert mat.shortfall.tolist() == pytest.approx([40_000.0] * 3, abs=TOL)
    assert mat.achievable.tolist() == pytest.approx([0.0] * 3, abs=TOL)
    assert rows(t, "cell_demand").empty  # the cells can be made; the cathode cannot be had
    text = next(n for n in res.notes if "cathode" in n and "no source" in n)
    assert text.startswith("2026-2028 (each year): cathode") and "no facility makes cathode" in text


def test_import_limit_and_late_route(tmp_path):
    # China capped at 30,000 t; Korea opens in 2027 -> only 2026 is short, by 10,000 t
    korea = {"material": "cathode", "origin": "Korea", "price_usd_per_unit": 8000, "first_year": 2027}
    res, t = explained(tmp_path, years=(2026, 2027), intensity=[CATHODE_USE], facilities=[GIGA],
                       imports=[{**CHINA, "max_per_year": 30_000}, korea])
    mat = rows(t, "material_supply")
    assert mat.year.tolist() == [2026]
    assert mat.shortfall[0] == pytest.approx(10_000.0, abs=TOL)
    text = mat.explanation[0]
    assert "import from China max 30,000 t/yr" in text and "import from Korea only from 2027" in text
    assert "short by 10,000 t" in text


# --------------------------------------------------------------------------- (4) unbounded
def test_export_arbitrage_is_no_longer_unbounded(tmp_path):
    # Version 2 correction (exports <= local output): the import-and-re-export arbitrage that made
    # this case unbounded in the core is gone; with no local plant nothing is exported.
    res = solve(tmp_path, years=(2026,), intensity=[CATHODE_USE], facilities=[GIGA], imports=[CHINA],
                exports=[{"material": "cathode", "price_usd_per_unit": 9000}], allow_unmet_demand=True)
    assert res.solve.status == "optimal"
    explain(res)  # does nothing for a solved case
    assert "unbounded" not in res.tables.get("infeasibility", {"item": []})


def test_limited_export_is_not_unbounded(tmp_path):
    res = solve(tmp_path, years=(2026,), intensity=[CATHODE_USE], facilities=[GIGA], imports=[CHINA],
                exports=[{"material": "cathode", "price_usd_per_unit": 9000, "max_per_year": 1000}],
                allow_unmet_demand=True)
    assert res.solve.status == "optimal"
    explain(res)  # does nothing for a solved case
    assert "infeasibility" not in res.tables


# --------------------------------------------------------------------------- other outcomes
def test_time_limit_without_solution_on_a_feasible_case(tmp_path):
    res = solve(tmp_path, facilities=[GIGA])
    res.solve.status = "time_limit_no_solution"  # as if HiGHS had stopped before finding a plan
    explain(res)
    assert res.tables["infeasibility"].empty
    assert any("feasible plan exists" in n for n in res.notes)


def test_explain_never_raises(tmp_path):
    res = solve(tmp_path, gwh=30.0, facilities=[GIGA])
    assert res.solve.status == "infeasible"
    res.case = None  # broken input to the explanation
    explain(res)
    assert any("could not be computed" in n for n in res.notes)


def test_explains_a_15_year_case(tmp_path):
    years = tuple(range(2026, 2041))
    gwh = {y: 20.0 + 10 * i for i, y in enumerate(years)}
    res = solve(tmp_path, years=years, gwh=gwh, intensity=[CATHODE_USE],
                facilities=[{**GIGA, "max_modules": 8, "lifetime_years": 10}], imports=[CHINA])
    assert res.solve.status == "infeasible"
    explain(res)
    cells = rows(res.tables["infeasibility"], "cell_demand")
    # capacity 100 GWh at most; lifetime 10 over a 15-year horizon -> a shortfall every year demand > 100
    assert cells.shortfall.sum() >= sum(max(0.0, d - 100.0) for d in gwh.values()) - TOL


# --------------------------------------------------------------------------- end to end (CLI)
def test_cli_infeasible_case_exits_1_with_infeasibility_sheet(tmp_path):
    import openpyxl

    path = tmp_path / "short.xlsx"
    write_input_workbook(path, tables(gwh={2026: 20.0, 2027: 40.0, 2028: 60.0}, facilities=[GIGA]))
    out = tmp_path / "out" / "short_results.xlsx"
    proc = run_cli("run", path, "-o", out, "--no-figures")  # in this process (tests/clirun.py)
    assert proc.returncode == 1, proc.stderr
    assert "2028: cell demand" in proc.stdout
    wb = openpyxl.load_workbook(out, read_only=True)
    try:
        assert "infeasibility" in wb.sheetnames
        data = list(wb["infeasibility"].values)
    finally:
        wb.close()
    assert list(data[0]) == list(COLUMNS)
    first = dict(zip(data[0], data[1]))
    assert first["kind"] == "cell_demand" and first["year"] == 2028 and first["item"] == "LFP"
    assert first["shortfall"] == pytest.approx(20.0, abs=TOL)
