"""Marginal costs (model.marginals): duals of the LP with the build plan fixed, checked by hand and
against finite-difference re-solves (same build plan, perturbed data), and the make-vs-buy table."""
from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pandas as pd
import pyomo.environ as pyo
import pytest

from clirun import run_cli
from model.data import load_case
from model.marginals import MAKE_VS_BUY_COLUMNS, MARGINAL_COLUMNS, add_marginal_costs, plan_of, solve_fixed_plan
from model.pipeline import solve_case
from model.xlsx_util import write_input_workbook

ROOT = Path(__file__).resolve().parents[1]
REL = 1e-6

CATHODE = {"material": "cathode", "unit": "t", "reference_price_usd_per_unit": 5000}
ANODE = {"material": "anode", "unit": "t", "reference_price_usd_per_unit": 1000}
CATHODE_USE = {"chemistry": "LFP", "material": "cathode", "amount_per_gwh": 2000}
ANODE_USE = {"chemistry": "LFP", "material": "anode", "amount_per_gwh": 1000}
CHINA = {"material": "cathode", "origin": "China", "price_usd_per_unit": 4700, "tariff_rate": 0.025,
         "freight_usd_per_unit": 200}  # landed 5,017.5 USD/t
ANODE_CHINA = {"material": "anode", "origin": "China", "price_usd_per_unit": 1000}
LANDED = 1.025 * 4700 + 200


def tables(*, years=(2026,), gwh=20.0, r=0.0, materials=(CATHODE,), intensity=(CATHODE_USE,), facilities=(),
           imports=(CHINA,), exports=None, local_content=None, **settings):
    demand = gwh if isinstance(gwh, dict) else {y: gwh for y in years}
    t = {
        "settings": {"start_year": years[0], "end_year": years[-1], "discount_rate": r, "mip_rel_gap": 0.0,
                     **settings},
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


def solve(tmp_path, **kw):
    path = tmp_path / "case.xlsx"
    write_input_workbook(path, tables(**kw))
    res = solve_case(load_case(path))
    assert res.solve.status == "optimal"
    return res


def marginal(res, kind, item, year):
    t = res.tables["marginal_costs"]
    row = t[(t.kind == kind) & (t.item == item) & (t.year == year)]
    assert len(row) == 1
    return float(row.marginal_usd_per_unit.iloc[0]), float(row.discounted_usd_per_unit.iloc[0])


def fixed_objective(data, plan):
    lp = solve_fixed_plan(data, plan)
    assert lp.ok, lp.message
    return lp.objective


def with_vehicles(data, year, extra_gwh):
    v = dict(data.vehicles)
    v[year] += extra_gwh * 1e6 / data.kwh_per_vehicle[year]
    return replace(data, vehicles=MappingProxyType(v))


def with_intensity(data, key, delta):
    a = dict(data.intensity)
    a[key] = a.get(key, 0.0) + delta
    return replace(data, intensity=MappingProxyType(a))


def with_target(data, year, delta):
    s = dict(data.local_content_target)
    s[year] += delta
    return replace(data, local_content_target=MappingProxyType(s))


# A two-year case with discounting and build decisions; every row used is non-degenerate:
# cell line of 10 GWh modules (2 built in 2026, 1 more in 2027: spare capacity 5 GWh both years),
# cathode plant at its 20,000 t limit with imports at the margin (30,000 / 50,000 t used), anode imported.
LINE = {"facility": "line", "product": "cells", "module_size": 10, "max_modules": 3, "lifetime_years": 10,
        "capex_usd_per_module": 1e8, "variable_cost_usd_per_unit": 1e6}
CAM = {"facility": "cam", "product": "cathode", "existing_capacity": 20_000, "variable_cost_usd_per_unit": 4000}
TWO_YEARS = dict(years=(2026, 2027), gwh={2026: 15.0, 2027: 25.0}, r=0.08, materials=(CATHODE, ANODE),
                 intensity=(CATHODE_USE, ANODE_USE), facilities=(LINE, CAM), imports=(CHINA, ANODE_CHINA))


@pytest.fixture
def two_years(tmp_path):
    res = solve(tmp_path, **TWO_YEARS)
    add_marginal_costs(res)
    return res


def test_tables_and_hand_values(two_years):
    res = two_years
    assert list(res.tables["marginal_costs"].columns) == list(MARGINAL_COLUMNS)
    assert list(res.tables["make_vs_buy"].columns) == list(MAKE_VS_BUY_COLUMNS)
    b = res.tables["build_schedule"]
    b = b[b.facility == "line"]
    assert dict(zip(b.year, b.modules_built)) == {2026: 2, 2027: 1}
    df27 = 1 / 1.08
    # material: cathode plant at capacity -> imports at the margin; anode imported
    for y, df in ((2026, 1.0), (2027, df27)):
        mc, disc = marginal(res, "material", "cathode", y)
        assert mc == pytest.approx(LANDED, rel=REL)
        assert disc == pytest.approx(LANDED * df, rel=REL)
        assert marginal(res, "material", "anode", y)[0] == pytest.approx(1000.0, rel=REL)
        # cells: variable cost + the materials of one GWh at their marginal cost (sign: positive)
        assert marginal(res, "cells", "LFP", y)[0] == pytest.approx(1e6 + 2000 * LANDED + 1000 * 1000, rel=REL)
    # the LP with the plan fixed reproduces the MIP objective
    assert fixed_objective(res.case, plan_of(res.model)) == pytest.approx(res.solve.objective, rel=1e-9)
    assert any("given the modules already in the plan" in n for n in res.notes)


@pytest.mark.parametrize("year", [2026, 2027])
def test_cell_dual_matches_finite_difference(two_years, year):
    res = two_years
    plan = plan_of(res.model)
    delta = 1.0  # GWh (within the 5 GWh of spare capacity)
    base = fixed_objective(res.case, plan)
    up = fixed_objective(with_vehicles(res.case, year, delta), plan)
    fd = (up - base) / delta
    mc, disc = marginal(res, "cells", "LFP", year)
    assert disc == pytest.approx(fd, rel=REL)
    assert mc == pytest.approx(fd / res.case.discount_factor(year), rel=REL)


def test_material_dual_matches_finite_difference(two_years):
    # more cathode per GWh raises cathode use by delta * cells[y] in every year
    res = two_years
    plan = plan_of(res.model)
    delta = 10.0  # t/GWh
    base = fixed_objective(res.case, plan)
    up = fixed_objective(with_intensity(res.case, ("LFP", "cathode"), delta), plan)
    cells = {2026: 15.0, 2027: 25.0}
    expected = sum(marginal(res, "material", "cathode", y)[1] * delta * cells[y] for y in cells)
    assert up - base == pytest.approx(expected, rel=REL)


def test_material_dual_is_variable_cost_when_the_plant_has_spare_capacity(tmp_path):
    res = solve(tmp_path, facilities=({"facility": "giga", "product": "cells", "existing_capacity": 30},
                                      {**CAM, "existing_capacity": 50_000}))
    add_marginal_costs(res)
    assert marginal(res, "material", "cathode", 2026)[0] == pytest.approx(4000.0, rel=REL)
    mvb = res.tables["make_vs_buy"].iloc[0]
    assert mvb.decision == "make" and mvb.cheapest_import_usd_per_unit == pytest.approx(LANDED)
    assert mvb.marginal_cost_usd_per_unit == pytest.approx(4000.0)


# local plant 40 kt at 6,000 USD/t against imports at 5,017.5; target 50 % of 2e8 USD of cathode value
LC_CASE = dict(facilities=({"facility": "giga", "product": "cells", "existing_capacity": 30},
                           {"facility": "cam", "product": "cathode", "existing_capacity": 40_000,
                            "variable_cost_usd_per_unit": 6000}),
               local_content=[{"year": 2026, "min_local_value_share": 0.5}])


def test_local_content_dual_per_point(tmp_path):
    res = solve(tmp_path, **LC_CASE)
    add_marginal_costs(res)
    # one point = 2e6 USD of local value = 400 t moved from import to local at a premium of 982.5 USD/t
    per_point = 400 * (6000 - LANDED)
    mc, disc = marginal(res, "local_content", "target", 2026)
    assert mc == pytest.approx(per_point, rel=REL) and mc > 0
    # finite difference: raise the target by 0.1 point
    plan = plan_of(res.model)
    base = fixed_objective(res.case, plan)
    up = fixed_objective(with_target(res.case, 2026, 0.001), plan)
    assert (up - base) / 0.1 == pytest.approx(disc, rel=REL)
    # one more tonne in the cathode balance (rhs) is imported: the target's base is the cells' use, which
    # that tonne does not raise. One more GWh of cells raises the base too: its 2,000 t come half
    # local (6,000) and half imported (5,017.5) to keep the 50 % share.
    assert marginal(res, "material", "cathode", 2026)[0] == pytest.approx(LANDED, rel=REL)
    cells_mc = marginal(res, "cells", "LFP", 2026)[0]
    assert cells_mc == pytest.approx(2000 * (0.5 * 6000 + 0.5 * LANDED), rel=REL)
    up = fixed_objective(with_vehicles(res.case, 2026, 0.5), plan)
    assert (up - base) / 0.5 == pytest.approx(cells_mc, rel=REL)


@pytest.mark.parametrize("capex, decision", [(1e8, "make"), (3e9, "buy")])
def test_make_vs_buy_break_even(tmp_path, capex, decision):
    # one module of 40 kt, lifetime 10, r = 0 -> CRF 0.1; variable cost 100 USD/t; use 40 kt
    plant = {"facility": "cam", "product": "cathode", "module_size": 40_000, "max_modules": 1,
             "lifetime_years": 10, "capex_usd_per_module": capex, "variable_cost_usd_per_unit": 100}
    res = solve(tmp_path, facilities=({"facility": "giga", "product": "cells", "existing_capacity": 20}, plant))
    add_marginal_costs(res)
    row = res.tables["make_vs_buy"].iloc[0]
    assert row.decision == decision
    assert row.best_facility == "cam" and row.cheapest_import_origin == "China"
    full = 0.1 * capex / 40_000 + 100
    assert row.local_full_cost_usd_per_unit == pytest.approx(full)
    assert row.break_even_import_usd_per_unit == pytest.approx(full)
    # capex at which the module matches the import: 0.1 capex + 100 * 40k = 40k * landed
    assert row.break_even_capex_usd_per_module == pytest.approx((40_000 * LANDED - 100 * 40_000) / 0.1)
    if decision == "buy":
        assert "making becomes cheaper when the landed import price exceeds" in row.break_even
        assert row.marginal_cost_usd_per_unit == pytest.approx(LANDED)
    else:
        assert "cheaper than importing" in row.break_even


def test_does_not_change_existing_results(tmp_path):
    res = solve(tmp_path, **TWO_YEARS)
    before = {k: v.copy() for k, v in res.tables.items()}
    solve_before = copy.deepcopy(res.solve)
    values = {v.name: v.value for v in res.model.component_data_objects(ctype=pyo.Var)}
    add_marginal_costs(res)
    for k, v in before.items():
        pd.testing.assert_frame_equal(res.tables[k], v)
    assert res.solve == solve_before
    after = {v.name: v.value for v in res.model.component_data_objects(ctype=pyo.Var)}
    assert after == values
    assert set(res.tables) == set(before) | {"marginal_costs", "make_vs_buy"}


def test_lp_failure_gives_a_note_and_no_table(tmp_path, monkeypatch):
    import model.marginals as mm

    res = solve(tmp_path, **TWO_YEARS)
    monkeypatch.setattr(mm, "solve_fixed_plan", lambda *a, **k: mm.FixedPlanLP(False, "simulated failure"))
    add_marginal_costs(res)
    assert "marginal_costs" not in res.tables and "make_vs_buy" not in res.tables
    assert any("simulated failure" in n for n in res.notes)

    def boom(*a, **k):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(mm, "solve_fixed_plan", boom)
    add_marginal_costs(res)  # never raises
    assert "marginal_costs" not in res.tables
    assert any("solver exploded" in n for n in res.notes)


def test_no_solution_adds_nothing(tmp_path):
    path = tmp_path / "inf.xlsx"
    write_input_workbook(path, tables(facilities=({"facility": "giga", "product": "cells", "existing_capacity": 10},),
                                      allow_unmet_demand=False))
    res = solve_case(load_case(path))
    assert res.solve.status == "infeasible"
    add_marginal_costs(res)
    assert "marginal_costs" not in res.tables


def test_cli_writes_marginal_sheets(tmp_path):
    import openpyxl

    path = tmp_path / "two.xlsx"
    write_input_workbook(path, tables(**TWO_YEARS))
    out = tmp_path / "two_results.xlsx"
    proc = run_cli("run", path, "-o", out, "--no-figures", "-q")  # in this process (tests/clirun.py)
    assert proc.returncode == 0, proc.stderr
    wb = openpyxl.load_workbook(out, read_only=True)
    try:
        assert {"marginal_costs", "make_vs_buy"} <= set(wb.sheetnames)
        header = next(wb["marginal_costs"].values)
    finally:
        wb.close()
    assert list(header) == list(MARGINAL_COLUMNS)
