"""Tiny cases whose optimum is worked out by hand (formulation.md), solved at mip_rel_gap = 0."""
from __future__ import annotations

import math

import pytest

from model.data import load_case
from model.pipeline import solve_case
from model.xlsx_util import write_input_workbook

REL = 1e-7


def case(tmp_path, *, years=(2026,), r=0.0, vehicles=400_000, kwh=50.0, materials=(), intensity=(), facilities=(),
         imports=(), exports=None, local_content=None, **settings):
    """A one-chemistry (LFP) case; 400k vehicles x 50 kWh = 20 GWh a year unless told otherwise."""
    tables = {
        "settings": {"start_year": years[0], "end_year": years[-1], "discount_rate": r, "mip_rel_gap": 0.0, **settings},
        "demand": [{"year": y, "vehicles": vehicles if not callable(vehicles) else vehicles(y), "kwh_per_vehicle": kwh}
                   for y in years],
        "chemistry_mix": [{"year": y, "chemistry": "LFP", "share": 1.0} for y in years],
        "materials": list(materials) or [{"material": "cathode", "unit": "t", "reference_price_usd_per_unit": 5000}],
        "intensity": list(intensity),
        "facilities": list(facilities),
        "imports": list(imports),
    }
    if exports is not None:
        tables["exports"] = list(exports)
    if local_content is not None:
        tables["local_content"] = list(local_content)
    path = tmp_path / "case.xlsx"
    write_input_workbook(path, tables)
    return solve_case(load_case(path))


GIGA = {"facility": "giga", "product": "cells", "existing_capacity": 20}
CATHODE_USE = [{"chemistry": "LFP", "material": "cathode", "amount_per_gwh": 2000}]  # 40,000 t a year
CHINA = {"material": "cathode", "origin": "China", "price_usd_per_unit": 4700, "tariff_rate": 0.025,
         "freight_usd_per_unit": 200}  # landed 1.025 * 4700 + 200 = 5017.5 USD/t


def built(res, f):
    b = res.tables["build_schedule"]
    return {int(y): int(n) for y, n in zip(b[b.facility == f].year, b[b.facility == f].modules_built) if n}


def test_import_only_with_escalation_and_discounting(tmp_path):
    res = case(tmp_path, years=(2026, 2027), r=0.1, intensity=CATHODE_USE,
               facilities=[{**GIGA, "existing_fixed_om_usd_per_year": 1e7}],
               imports=[{**CHINA, "price_escalation_per_year": 0.05}])
    c2026 = 1.025 * 4700 + 200
    c2027 = 1.025 * 4700 * 1.05 + 200
    expected = (40_000 * c2026 + 1e7) + (40_000 * c2027 + 1e7) / 1.1
    assert res.solve.status == "optimal"
    assert res.solve.objective == pytest.approx(expected, rel=REL)
    s = res.tables["sourcing"]
    assert list(s.source_kind) == ["import", "import"] and s.quantity.tolist() == pytest.approx([40_000, 40_000])
    assert res.tables["costs"]["discounted_usd"].sum() == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize("capex, expect_build", [(1e8, True), (3e9, False)])
def test_one_build_decision(tmp_path, capex, expect_build):
    # one module of 40 kt, lifetime 10, r = 0 -> CRF = 0.1; variable cost 100 USD/t
    plant = {"facility": "cam", "product": "cathode", "module_size": 40_000, "max_modules": 1,
             "lifetime_years": 10, "capex_usd_per_module": capex, "variable_cost_usd_per_unit": 100}
    res = case(tmp_path, intensity=CATHODE_USE, facilities=[GIGA, plant], imports=[CHINA])
    make = 0.1 * capex + 100 * 40_000
    buy = 40_000 * 5017.5
    assert res.solve.objective == pytest.approx(min(make, buy), rel=REL)
    assert built(res, "cam") == ({2026: 1} if expect_build else {})


def test_ramp_up_first_year(tmp_path):
    # module of 10 GWh gives 5 GWh in its first year; demand 10 GWh in both years; 10 USD/kWh penalty.
    # Build in 2026: 2 years x 1e7 annualised + 5 GWh unmet x 1e7 = 7e7 (no build: 20 GWh x 1e7 = 2e8).
    line = {"facility": "line", "product": "cells", "module_size": 10, "max_modules": 1, "lifetime_years": 10,
            "capex_usd_per_module": 1e8, "ramp_up_first_year": 0.5}
    res = case(tmp_path, years=(2026, 2027), vehicles=200_000, facilities=[line], unmet_penalty_usd_per_kwh=10)
    assert res.solve.objective == pytest.approx(7e7, rel=REL)
    assert built(res, "line") == {2026: 1}
    d = res.tables["demand"]
    assert d.unmet_gwh.tolist() == pytest.approx([5.0, 0.0])
    b = res.tables["build_schedule"]
    assert b.capacity.tolist() == pytest.approx([5.0, 10.0])


def test_lifetime_retirement(tmp_path):
    # lifetime 2 -> a module built in 2026 serves 2026-2027 and must be replaced in 2028
    line = {"facility": "line", "product": "cells", "module_size": 10, "max_modules": 2, "lifetime_years": 2,
            "capex_usd_per_module": 1e8}
    res = case(tmp_path, years=(2026, 2027, 2028, 2029), vehicles=200_000, facilities=[line])
    assert built(res, "line") == {2026: 1, 2028: 1}
    b = res.tables["build_schedule"]
    assert b.modules_in_service.tolist() == [1, 1, 1, 1]
    # CRF at r = 0 with n = 2 is 1/2: 5e7 a year for four years
    assert res.solve.objective == pytest.approx(4 * 5e7, rel=REL)
    assert res.tables["demand"].unmet_gwh.sum() == pytest.approx(0.0, abs=1e-9)


def test_lifetime_retirement_without_replacement_leaves_unmet(tmp_path):
    line = {"facility": "line", "product": "cells", "module_size": 10, "max_modules": 1, "lifetime_years": 2,
            "capex_usd_per_module": 1e8}
    res = case(tmp_path, years=(2026, 2027, 2028), vehicles=200_000, facilities=[line], unmet_penalty_usd_per_kwh=100)
    b = res.tables["build_schedule"]
    assert b.capacity.tolist() == pytest.approx([10.0, 10.0, 0.0]) or b.capacity.tolist() == pytest.approx([0.0, 10.0, 10.0])
    assert res.tables["demand"].unmet_gwh.sum() == pytest.approx(10.0)


@pytest.mark.parametrize("opening, choose", [(5e7, "B"), (1e7, "A")])
def test_opening_cost(tmp_path, opening, choose):
    # A: 1e7/yr annualised capex + opening cost; B: 3e7/yr, no opening cost (r = 0, lifetime 10)
    a = {"facility": "A", "product": "cathode", "module_size": 40_000, "max_modules": 1, "lifetime_years": 10,
         "capex_usd_per_module": 1e8, "opening_cost_usd": opening}
    b = {"facility": "B", "product": "cathode", "module_size": 40_000, "max_modules": 1, "lifetime_years": 10,
         "capex_usd_per_module": 3e8}
    res = case(tmp_path, intensity=CATHODE_USE, facilities=[GIGA, a, b], imports=[CHINA])
    assert res.solve.objective == pytest.approx(min(1e7 + opening, 3e7), rel=REL)
    assert built(res, choose) == {2026: 1}
    sched = res.tables["build_schedule"]
    assert sched[sched.facility == "A"].opened.sum() == (1 if choose == "A" else 0)


def test_opening_happens_once_in_first_module_year(tmp_path):
    # discounting makes a late opening cheaper, so it opens exactly when its first module arrives
    a = {"facility": "A", "product": "cathode", "module_size": 20_000, "max_modules": 2, "lifetime_years": 10,
         "capex_usd_per_module": 1e8, "opening_cost_usd": 1e7, "earliest_online_year": 2027}
    res = case(tmp_path, years=(2026, 2027, 2028), r=0.05, intensity=CATHODE_USE, facilities=[GIGA, a], imports=[CHINA])
    s = res.tables["build_schedule"]
    s = s[s.facility == "A"]
    assert built(res, "A") == {2027: 2}
    assert s.opened.tolist() == [0, 1, 0]


def test_local_content_target_binding(tmp_path):
    # local existing plant costs 6,000 USD/t against 5,017.5 imported: only the 50 % target makes it run
    plant = {"facility": "cam", "product": "cathode", "existing_capacity": 40_000, "variable_cost_usd_per_unit": 6000}
    free = case(tmp_path, intensity=CATHODE_USE, facilities=[GIGA, plant], imports=[CHINA])
    assert free.solve.objective == pytest.approx(40_000 * 5017.5, rel=REL)
    bound = case(tmp_path, intensity=CATHODE_USE, facilities=[GIGA, plant], imports=[CHINA],
                 local_content=[{"year": 2026, "min_local_value_share": 0.5}])
    assert bound.solve.objective == pytest.approx(20_000 * 6000 + 20_000 * 5017.5, rel=REL)
    lc = bound.tables["local_content"]
    assert lc.local_value_share.iloc[0] == pytest.approx(0.5)
    assert lc.target.iloc[0] == pytest.approx(0.5)


def test_local_content_values_materials_at_reference_prices(tmp_path):
    # two materials; making the expensive one locally reaches the target more cheaply per value
    mats = [{"material": "cathode", "unit": "t", "reference_price_usd_per_unit": 5000},
            {"material": "anode", "unit": "t", "reference_price_usd_per_unit": 1000}]
    use = CATHODE_USE + [{"chemistry": "LFP", "material": "anode", "amount_per_gwh": 1000}]  # 40 kt + 20 kt
    facs = [GIGA,
            {"facility": "cam", "product": "cathode", "existing_capacity": 40_000, "variable_cost_usd_per_unit": 5500},
            {"facility": "an", "product": "anode", "existing_capacity": 20_000, "variable_cost_usd_per_unit": 1500}]
    imps = [{"material": "cathode", "origin": "China", "price_usd_per_unit": 5000},
            {"material": "anode", "origin": "China", "price_usd_per_unit": 1000}]
    # value of need: 40k*5000 + 20k*1000 = 2.2e8; target 0.25 -> 5.5e7 local value.
    # Premium per USD of local value: cathode 500/5000 = 0.1, anode 500/1000 = 0.5 -> make 11,000 t cathode.
    res = case(tmp_path, materials=mats, intensity=use, facilities=facs, imports=imps,
               local_content=[{"year": 2026, "min_local_value_share": 0.25}])
    expected = 40_000 * 5000 + 20_000 * 1000 + 11_000 * 500
    assert res.solve.objective == pytest.approx(expected, rel=REL)
    p = res.tables["production"]
    assert p[p.facility == "cam"].quantity.sum() == pytest.approx(11_000)
    assert p[p.facility == "an"].quantity.sum() == pytest.approx(0.0, abs=1e-6)


def test_export_revenue(tmp_path):
    # local plant 60 kt at 3,000 USD/t; 40 kt used at home, up to 10 kt exported at 4,000 USD/t
    plant = {"facility": "cam", "product": "cathode", "existing_capacity": 60_000, "variable_cost_usd_per_unit": 3000}
    res = case(tmp_path, intensity=CATHODE_USE, facilities=[GIGA, plant], imports=[CHINA],
               exports=[{"material": "cathode", "price_usd_per_unit": 4000, "max_per_year": 10_000}])
    assert res.solve.objective == pytest.approx(50_000 * 3000 - 10_000 * 4000, rel=REL)
    s = res.tables["sourcing"]
    assert s[s.source_kind == "export"].quantity.sum() == pytest.approx(10_000)
    c = res.tables["costs"]
    assert c[c.category == "export_revenue"].undiscounted_usd.sum() == pytest.approx(-4e7)


def test_import_limit_and_first_year(tmp_path):
    # China route capped at 30 kt, Korea opens only in 2027 at a higher price -> 2026 short of cathode
    korea = {"material": "cathode", "origin": "Korea", "price_usd_per_unit": 8000, "first_year": 2027}
    res = case(tmp_path, years=(2026, 2027), intensity=CATHODE_USE, facilities=[GIGA],
               imports=[{**CHINA, "max_per_year": 30_000}, korea], unmet_penalty_usd_per_kwh=100)
    s = res.tables["sourcing"]
    assert s[(s.year == 2026) & (s.source == "Korea")].empty
    assert s[(s.year == 2027) & (s.source == "Korea")].quantity.sum() == pytest.approx(10_000)
    d = res.tables["demand"]
    assert d.unmet_gwh.tolist() == pytest.approx([5.0, 0.0])  # 10 kt cathode short = 5 GWh of cells


def test_infeasible_when_unmet_not_allowed(tmp_path):
    res = case(tmp_path, facilities=[{"facility": "giga", "product": "cells", "existing_capacity": 10}],
               allow_unmet_demand=False)
    assert res.solve.status == "infeasible"
    assert not res.solve.has_solution


def test_no_export_arbitrage_without_local_plant(tmp_path):
    # Version 2 correction (exp <= local output): the core was unbounded here (import at 5,017.5,
    # export at 9,000 without limit); with no local cathode plant nothing can be exported.
    res = case(tmp_path, intensity=CATHODE_USE, facilities=[GIGA], imports=[CHINA],
               exports=[{"material": "cathode", "price_usd_per_unit": 9000}])
    assert res.solve.status == "optimal"
    assert res.solve.objective == pytest.approx(40_000 * (1.025 * 4700 + 200), rel=REL)
    s = res.tables["sourcing"]
    assert s[s.source_kind == "export"].empty


def test_crf_with_discounting(tmp_path):
    # one module built in 2026, r = 8 %, lifetime 20: pays CRF * capex in each of the two horizon years
    line = {"facility": "line", "product": "cells", "module_size": 20, "max_modules": 1, "lifetime_years": 20,
            "capex_usd_per_module": 1e9}
    res = case(tmp_path, years=(2026, 2027), r=0.08, facilities=[line])
    crf = 0.08 / (1 - 1.08 ** -20)
    assert res.solve.objective == pytest.approx(crf * 1e9 * (1 + 1 / 1.08), rel=REL)
    assert math.isclose(res.tables["costs"].discounted_usd.sum(), res.solve.objective, rel_tol=1e-9)
