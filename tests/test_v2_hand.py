"""Version 2 (formulation.md "Version 2"): tiny cases whose optimum is worked out by hand, solved at
mip_rel_gap = 0, and the validation of the new sheets.

Every expected objective is written out as its formula. Unless told otherwise a case has one
chemistry (LFP), 400k vehicles x 50 kWh = 20 GWh a year, discount rate 0 and 2,000 t of cathode per
GWh (40,000 t a year).
"""
from __future__ import annotations

import pytest

from model import overrides as O
from model.data import build_case, load_case
from model.errors import InputError
from model.pipeline import solve_case
from model.xlsx_util import write_input_workbook

from cases import add_v2_sheets, raw_workbook, tiny_tables

REL = 1e-7


def tables(*, years=(2026,), r=0.0, vehicles=400_000, kwh=50.0, materials=None, intensity=None, facilities=(),
           imports=(), exports=None, local_content=None, recipes=None, cell_imports=None, committed_builds=None,
           **settings):
    t = {
        "settings": {"start_year": years[0], "end_year": years[-1], "discount_rate": r, "mip_rel_gap": 0.0, **settings},
        "demand": [{"year": y, "vehicles": vehicles, "kwh_per_vehicle": kwh} for y in years],
        "chemistry_mix": [{"year": y, "chemistry": "LFP", "share": 1.0} for y in years],
        "materials": list(materials) if materials is not None else list(MATERIALS),
        "intensity": list(intensity) if intensity is not None else list(CATHODE_USE),
        "facilities": list(facilities),
        "imports": list(imports),
    }
    for name, rows in (("exports", exports), ("local_content", local_content), ("recipes", recipes),
                       ("cell_imports", cell_imports), ("committed_builds", committed_builds)):
        if rows is not None:
            t[name] = list(rows)
    return t


def case(tmp_path, **kw):
    path = tmp_path / "case.xlsx"
    write_input_workbook(path, tables(**kw))
    return solve_case(load_case(path))


MATERIALS = [{"material": "cathode", "unit": "t", "reference_price_usd_per_unit": 5000},
             {"material": "pCAM", "unit": "t", "reference_price_usd_per_unit": 3000}]
CATHODE_USE = [{"chemistry": "LFP", "material": "cathode", "amount_per_gwh": 2000}]  # 40,000 t a year
GIGA = {"facility": "giga", "product": "cells", "existing_capacity": 20}
LANDED = 1.025 * 4700 + 200  # 5,017.5 USD/t
CHINA = {"material": "cathode", "origin": "China", "price_usd_per_unit": 4700, "tariff_rate": 0.025,
         "freight_usd_per_unit": 200}


def rows(res, table, **eq):
    t = res.tables[table]
    for k, v in eq.items():
        t = t[t[k] == v]
    return t


def assert_optimal(res, expected):
    assert res.solve.status == "optimal", res.solve
    assert res.solve.objective == pytest.approx(expected, rel=REL)
    assert res.tables["costs"]["discounted_usd"].sum() == pytest.approx(expected, rel=REL)


# --------------------------------------------------------------------------- 1. exports <= local output
def test_re_export_is_forbidden(tmp_path):
    # Export price 9,000 USD/t (no limit) far above the landed import 5,017.5: the core re-exported
    # without bound. Now exports <= local output. The 10 kt plant (3,000 USD/t) exists from 2027 only:
    # 2026 exports nothing; in 2027 it makes 10 kt and exports all of it (exporting local output while
    # importing for home use is allowed), the cells' 40 kt are imported in both years.
    plant = {"facility": "cam", "product": "cathode", "existing_capacity": 10_000, "existing_from_year": 2027,
             "variable_cost_usd_per_unit": 3000}
    res = case(tmp_path, years=(2026, 2027), facilities=[GIGA, plant], imports=[CHINA],
               exports=[{"material": "cathode", "price_usd_per_unit": 9000}])
    expected = 2 * 40_000 * LANDED + 10_000 * (3000 - 9000)
    assert_optimal(res, expected)
    exp = rows(res, "sourcing", source_kind="export")
    assert exp.year.tolist() == [2027] and exp.quantity.tolist() == pytest.approx([10_000])
    imp = rows(res, "sourcing", source_kind="import")
    assert imp.quantity.tolist() == pytest.approx([40_000, 40_000])


# --------------------------------------------------------------------------- 2. recipes
@pytest.mark.parametrize("capex, expect_build", [(5e8, True), (1.5e9, False)])
def test_recipe_with_one_build(tmp_path, capex, expect_build):
    # A 40 kt cathode module (lifetime 10, r = 0: CRF = 0.1, variable 100 USD/t) needs 0.9 t of pCAM
    # per t, imported at 3,000 USD/t; imported cathode (5,017.5 USD/t) brings its pCAM with it.
    #   make = 0.1 capex + 100 * 40,000 + 0.9 * 40,000 * 3,000;   buy = 40,000 * 5,017.5 = 200.7e6
    plant = {"facility": "cam", "product": "cathode", "module_size": 40_000, "max_modules": 1,
             "lifetime_years": 10, "capex_usd_per_module": capex, "variable_cost_usd_per_unit": 100}
    pcam = {"material": "pCAM", "origin": "China", "price_usd_per_unit": 3000}
    res = case(tmp_path, facilities=[GIGA, plant], imports=[CHINA, pcam],
               recipes=[{"product": "cathode", "input": "pCAM", "amount_per_unit": 0.9}])
    make = 0.1 * capex + 100 * 40_000 + 0.9 * 40_000 * 3000
    buy = 40_000 * LANDED
    assert (make < buy) == expect_build
    assert_optimal(res, min(make, buy))
    use = rows(res, "material_use", material="pCAM")
    s = res.tables["sourcing"]
    if expect_build:
        assert use[["use_kind", "consumer"]].values.tolist() == [["recipe", "cathode"]]
        assert use.quantity.tolist() == pytest.approx([36_000])
        assert s[(s.material == "pCAM") & (s.source_kind == "import")].quantity.sum() == pytest.approx(36_000)
    else:
        assert use.empty and s[s.material == "pCAM"].empty
    # local + import - export = sum of material_use, for every material and year
    mu = res.tables["material_use"].groupby(["material", "year"]).quantity.sum()
    signed = s.assign(q=s.quantity.where(s.source_kind != "export", -s.quantity)).groupby(["material", "year"]).q.sum()
    assert signed.to_dict() == pytest.approx(mu.to_dict())


def test_recipe_input_without_any_source_keeps_the_plant_idle(tmp_path):
    # The local cathode plant is free but has no pCAM (no plant, no route): it cannot run, so the
    # cathode is imported: 40,000 * 5,017.5.
    plant = {"facility": "cam", "product": "cathode", "existing_capacity": 40_000}
    res = case(tmp_path, facilities=[GIGA, plant], imports=[CHINA],
               recipes=[{"product": "cathode", "input": "pCAM", "amount_per_unit": 0.9}])
    assert_optimal(res, 40_000 * LANDED)
    assert rows(res, "production", facility="cam").quantity.sum() == pytest.approx(0.0, abs=1e-6)


def test_two_tier_recipe_and_local_content_counts_only_cell_materials(tmp_path):
    # cathode (local, 40 kt existing, 200 USD/t) <- 0.9 pCAM (local, 50 kt existing, 100 USD/t) <- 0.5
    # lithium (imported 10,000 USD/t). Target 100 %: the cathode (in M_c) is local, so the share is
    # 1 whatever its inputs; pCAM is not in M_c and is not counted.
    #   cost = 40,000 * 200 + 36,000 * 100 + 18,000 * 10,000
    mats = MATERIALS + [{"material": "lithium", "unit": "t", "reference_price_usd_per_unit": 9000}]
    facs = [GIGA, {"facility": "cam", "product": "cathode", "existing_capacity": 40_000, "variable_cost_usd_per_unit": 200},
            {"facility": "pcam", "product": "pCAM", "existing_capacity": 50_000, "variable_cost_usd_per_unit": 100}]
    res = case(tmp_path, materials=mats, facilities=facs,
               imports=[CHINA, {"material": "lithium", "origin": "Chile", "price_usd_per_unit": 10_000}],
               recipes=[{"product": "cathode", "input": "pCAM", "amount_per_unit": 0.9},
                        {"product": "pCAM", "input": "lithium", "amount_per_unit": 0.5}],
               local_content=[{"year": 2026, "min_local_value_share": 1.0}])
    assert_optimal(res, 40_000 * 200 + 36_000 * 100 + 18_000 * 10_000)
    lc = res.tables["local_content"].iloc[0]
    assert lc.local_value_share == pytest.approx(1.0)
    assert lc.basis_value_usd == pytest.approx(40_000 * 5000)


# --------------------------------------------------------------------------- 3. cell imports
@pytest.mark.parametrize("price, expect_import", [(14.0, True), (14.5, False)])
def test_cell_imports_cheaper_or_dearer_than_a_module(tmp_path, price, expect_import):
    # A 20 GWh cell module (lifetime 10, r = 0: 0.1 * 1e9 a year) needs 40 kt of cathode at 5,017.5:
    #   make = 1e8 + 40,000 * 5,017.5 = 300.7e6
    # Imported cells carry their materials: buy = 20 GWh * 1e6 * ((1 + 0.05) * price + 0.3)
    #   price 14.0 -> 15.0 USD/kWh -> 300.0e6 (import);  price 14.5 -> 15.525 -> 310.5e6 (build)
    line = {"facility": "line", "product": "cells", "module_size": 20, "max_modules": 1, "lifetime_years": 10,
            "capex_usd_per_module": 1e9}
    res = case(tmp_path, facilities=[line], imports=[CHINA],
               cell_imports=[{"chemistry": "LFP", "origin": "China", "price_usd_per_kwh": price, "tariff_rate": 0.05,
                              "freight_usd_per_kwh": 0.3}])
    make = 0.1 * 1e9 + 40_000 * LANDED
    buy = 20 * 1e6 * (1.05 * price + 0.3)
    assert (buy < make) == expect_import
    assert_optimal(res, min(make, buy))
    d = res.tables["demand"].iloc[0]
    assert d.met_gwh == pytest.approx(20) and d.unmet_gwh == pytest.approx(0, abs=1e-9)
    assert d.imported_gwh == pytest.approx(20 if expect_import else 0, abs=1e-9)
    assert d.local_gwh == pytest.approx(0 if expect_import else 20, abs=1e-9)
    cells = rows(res, "sourcing", material="cells_LFP")
    assert cells.quantity.sum() == pytest.approx(20 if expect_import else 0, abs=1e-9)
    c = rows(res, "costs", category="cell_imports")
    assert c.undiscounted_usd.sum() == pytest.approx(buy if expect_import else 0, abs=1e-3)
    cathode = rows(res, "sourcing", material="cathode")
    assert cathode.quantity.sum() == pytest.approx(0 if expect_import else 40_000, abs=1e-6)


def test_cell_import_limit_first_year_and_escalation(tmp_path):
    # Existing 10 GWh locally (free, no materials); 20 GWh demand; imports max 6 GWh a year, only
    # from 2027, price 50 USD/kWh escalating 10 %/yr; penalty 100 USD/kWh; r = 0.
    #   2026: 10 unmet -> 10 * 1e8;  2027: 6 GWh at 55 + 4 unmet;  base_year 2026
    res = case(tmp_path, years=(2026, 2027), intensity=[], facilities=[{**GIGA, "existing_capacity": 10}],
               unmet_penalty_usd_per_kwh=100,
               cell_imports=[{"chemistry": "LFP", "origin": "China", "price_usd_per_kwh": 50,
                              "price_escalation_per_year": 0.1, "max_gwh_per_year": 6, "first_year": 2027}])
    expected = 10 * 1e8 + 6 * 1e6 * 50 * 1.1 + 4 * 1e8
    assert_optimal(res, expected)
    assert res.tables["demand"].unmet_gwh.tolist() == pytest.approx([10, 4])


# --------------------------------------------------------------------------- 4. committed builds
def test_forced_uneconomic_committed_build(tmp_path):
    # The cathode module costs 0.1 * 3e9 a year (+ 1e7 opening) against importing at 5,017.5:
    # uneconomic (the free choice imports: 200.7e6), but committed in 2026, so built, opened and used.
    #   cost = 0.1 * 3e9 + 1e7 + 100 * 40,000
    plant = {"facility": "cam", "product": "cathode", "module_size": 40_000, "max_modules": 2, "lifetime_years": 10,
             "capex_usd_per_module": 3e9, "variable_cost_usd_per_unit": 100, "opening_cost_usd": 1e7}
    free = case(tmp_path, facilities=[GIGA, plant], imports=[CHINA])
    assert_optimal(free, 40_000 * LANDED)
    res = case(tmp_path, facilities=[GIGA, plant], imports=[CHINA],
               committed_builds=[{"facility": "cam", "year": 2026, "modules": 1}])
    assert_optimal(res, 0.1 * 3e9 + 1e7 + 100 * 40_000)
    b = rows(res, "build_schedule", facility="cam").iloc[0]
    assert (b.modules_built, b.committed_modules, b.opened) == (1, 1, 1)


def test_committed_build_ramps_up_like_any_module(tmp_path):
    # Committed 20 GWh cell module in 2026 with a 0.25 first-year ramp: 5 GWh in 2026, 20 in 2027;
    # demand 20 GWh a year, penalty 10 USD/kWh: 15 GWh unmet in 2026. Lifetime 10, r = 0.
    #   cost = 2 * 0.1 * 1e9 + 15 * 1e7
    line = {"facility": "line", "product": "cells", "module_size": 20, "max_modules": 1, "lifetime_years": 10,
            "capex_usd_per_module": 1e9, "ramp_up_first_year": 0.25}
    res = case(tmp_path, years=(2026, 2027), intensity=[], facilities=[line], unmet_penalty_usd_per_kwh=10,
               committed_builds=[{"facility": "line", "year": 2026, "modules": 1}])
    assert_optimal(res, 2 * 0.1 * 1e9 + 15 * 1e7)


# --------------------------------------------------------------------------- 5. vintage capex
def test_late_build_with_falling_capex(tmp_path):
    # Cell module possible from 2028 only, capex 1e9 in base_year 2026 falling 10 %/yr: the 2028
    # vintage costs 1e9 * 0.9 ** 2 = 8.1e8 and pays 0.1 * 8.1e8 in 2028 (lifetime 10, r = 0).
    # 2026-2027: 20 GWh unmet a year at 10 USD/kWh = 2e8 each.
    line = {"facility": "line", "product": "cells", "module_size": 20, "max_modules": 1, "lifetime_years": 10,
            "capex_usd_per_module": 1e9, "capex_change_per_year": -0.1, "earliest_online_year": 2028,
            "lead_time_years": 2}
    res = case(tmp_path, years=(2026, 2027, 2028), intensity=[], facilities=[line], unmet_penalty_usd_per_kwh=10)
    capex_2028 = 1e9 * 0.9 ** 2
    assert_optimal(res, 2 * 2e8 + 0.1 * capex_2028)
    b = rows(res, "build_schedule", facility="line", year=2028).iloc[0]
    assert b.modules_built == 1 and b.capex_usd_per_module == pytest.approx(capex_2028)
    cf = res.tables["capex_cashflow"]
    assert cf.year.tolist() == [2026, 2027] and cf.capex_usd.tolist() == pytest.approx([capex_2028 / 2] * 2)


def test_vintage_capex_with_discounting(tmp_path):
    # Two years, r = 10 %, capex rising 5 %/yr, lifetime 2; demand 20 GWh in 2026 and 40 in 2027;
    # module 20 GWh, max 2, penalty 1000 USD/kWh (always build). Vintages 2026 and 2027:
    #   CRF = 0.1 / (1 - 1.1 ** -2);  2026: CRF * 1e9;  2027: CRF * (1e9 + 1.05e9), discounted / 1.1
    line = {"facility": "line", "product": "cells", "module_size": 20, "max_modules": 2, "lifetime_years": 2,
            "capex_usd_per_module": 1e9, "capex_change_per_year": 0.05}
    res = case(tmp_path, years=(2026, 2027), r=0.1, intensity=[], facilities=[line],
               vehicles=400_000, kwh=50.0)
    crf = 0.1 / (1 - 1.1 ** -2)
    # demand is 20 GWh both years here: one module in 2026 suffices
    assert_optimal(res, crf * 1e9 * (1 + 1 / 1.1))
    res2 = case(tmp_path, years=(2026, 2027), r=0.1, intensity=[], facilities=[line], kwh=50.0,
                vehicles=400_000, committed_builds=[{"facility": "line", "year": 2027, "modules": 1}])
    assert_optimal(res2, crf * 1e9 * (1 + 1 / 1.1) + crf * 1.05e9 / 1.1)


# --------------------------------------------------------------------------- 6. conversion value
@pytest.mark.parametrize("value, expected", [
    # v = 0: any local cell breaks the 30 % target (all cathode imported, local value 0), so all
    # 20 GWh are unmet at 1,000 USD/kWh: 20 * 1e9.
    (0.0, 20 * 1e9),
    # v = 20 USD/kWh: 1e6 * 20 * 20 = 4e8 >= 0.3 * (4e8 + 40,000 * 5,000) = 1.8e8: the target is met
    # making all cells; cost = the imported cathode 40,000 * 5,017.5.
    (20.0, 40_000 * LANDED),
])
def test_conversion_value_makes_the_target_reachable(tmp_path, value, expected):
    res = case(tmp_path, facilities=[GIGA], imports=[CHINA], local_content=[{"year": 2026, "min_local_value_share": 0.3}],
               cell_conversion_value_usd_per_kwh=value)
    assert_optimal(res, expected)
    lc = res.tables["local_content"].iloc[0]
    if value:
        assert lc.conversion_value_usd == pytest.approx(4e8)
        assert lc.basis_value_usd == pytest.approx(4e8 + 2e8)
        assert lc.local_value_share == pytest.approx(4e8 / 6e8)


def test_imported_cells_are_on_neither_side_of_local_content(tmp_path):
    # 10 GWh made locally (free plant, all cathode imported: 10.035 USD/kWh), 10 GWh imported at
    # 12 USD/kWh; v = 10 USD/kWh: share = 1e6*10*10 / (1e6*10*10 + 20,000 * 5,000) = 1e8 / 2e8 = 0.5
    # meets a 50 % target exactly (imported cells on the basis would make it 1/3).
    #   cost = 20,000 * 5,017.5 + 10 * 1e6 * 12
    res = case(tmp_path, facilities=[{**GIGA, "existing_capacity": 10}], imports=[CHINA],
               cell_imports=[{"chemistry": "LFP", "origin": "Korea", "price_usd_per_kwh": 12}],
               local_content=[{"year": 2026, "min_local_value_share": 0.5}], cell_conversion_value_usd_per_kwh=10)
    assert_optimal(res, 20_000 * LANDED + 10 * 1e6 * 12)
    assert res.tables["local_content"].local_value_share.iloc[0] == pytest.approx(0.5)


# --------------------------------------------------------------------------- overrides reach the new sheets
def test_overrides_address_the_version2_sheets():
    t = add_v2_sheets(tiny_tables())
    raw = O.apply_overrides(raw_workbook(t), O.parse_overrides([
        "cell_imports[LFP,China].price_usd_per_kwh=55",
        "recipes[cathode_LFP,anode].amount_per_unit*=3",
        "committed_builds[cathode_plant,2027].modules=2",
        "facilities[*].capex_change_per_year=-0.02",
        "settings.cell_conversion_value_usd_per_kwh=12",
    ]))
    data = build_case(raw)
    assert data.cell_imports["LFP", "China"].price_usd_per_kwh == 55
    assert data.recipes["cathode_LFP", "anode"] == pytest.approx(0.3)
    assert data.committed_builds["cathode_plant", 2027] == 2
    assert {f.capex_change_per_year for f in data.facilities.values()} == {-0.02}
    assert data.settings.cell_conversion_value_usd_per_kwh == 12
    with pytest.raises(InputError):
        O.apply_overrides(raw_workbook(t), O.parse_overrides(["cell_imports[LFP,Mars].price_usd_per_kwh=1"]))


# --------------------------------------------------------------------------- validation of the new sheets
def problems(change):
    t = add_v2_sheets(tiny_tables())
    change(t)
    with pytest.raises(InputError) as ei:
        build_case(raw_workbook(t))
    return ei.value.problems


def only(change):
    p = problems(change)
    assert len(p) == 1, "\n".join(map(str, p))
    return p[0]


def test_recipe_cycle_is_named_with_its_rows():
    def change(t):
        t["materials"].append({"material": "pCAM", "unit": "t", "reference_price_usd_per_unit": 3000})
        t["facilities"].append({"facility": "pcam_plant", "product": "pCAM", "existing_capacity": 100})
        t["recipes"] = [{"product": "cathode_LFP", "input": "pCAM", "amount_per_unit": 1.0},
                        {"product": "pCAM", "input": "anode", "amount_per_unit": 0.0},  # zero: no need
                        {"product": "pCAM", "input": "cathode_LFP", "amount_per_unit": 0.1}]
    p = only(change)
    assert (p.sheet, p.row, p.column) == ("recipes", 2, "input")
    assert "cycle cathode_LFP -> pCAM -> cathode_LFP" in p.message and "rows 2, 4" in p.message


def test_recipe_self_loop_is_a_cycle():
    p = only(lambda t: t.__setitem__("recipes", [{"product": "cathode_LFP", "input": "cathode_LFP", "amount_per_unit": 1}]))
    assert "cycle cathode_LFP -> cathode_LFP" in p.message


def test_recipe_names():
    p = problems(lambda t: t.__setitem__("recipes", [
        {"product": "cathode_LFP", "input": "lithum", "amount_per_unit": 1},
        {"product": "cathode_NMC", "input": "anode", "amount_per_unit": 1},  # no facility makes it
        {"product": "cells", "input": "anode", "amount_per_unit": 1}]))
    where = [(x.sheet, x.row, x.column) for x in p]
    assert where == [("recipes", 2, "input"), ("recipes", 3, "product"), ("recipes", 4, "product")]
    assert "unknown material 'lithum'" in p[0].message
    assert "no facility makes 'cathode_NMC'" in p[1].message
    assert "unknown material 'cells'" in p[2].message


def test_cell_import_chemistry_must_be_known():
    p = only(lambda t: t["cell_imports"][0].__setitem__("chemistry", "LPF"))
    assert (p.sheet, p.row, p.column) == ("cell_imports", 2, "chemistry")
    assert "unknown chemistry 'LPF'" in p.message and "did you mean 'LFP'" in p.message


@pytest.mark.parametrize("row, column, fragment", [
    ({"facility": "cathode_plant", "year": 2025, "modules": 1}, "year", "outside the horizon"),
    ({"facility": "cell_plant", "year": 2026, "modules": 4}, "modules", "max_modules is 3"),
    ({"facility": "cel_plant", "year": 2026, "modules": 1}, "facility", "unknown facility 'cel_plant'"),
])
def test_committed_build_rules(row, column, fragment):
    p = only(lambda t: t["committed_builds"].append(row))
    assert (p.sheet, p.row, p.column) == ("committed_builds", 3, column)
    assert fragment in p.message


def test_committed_build_before_earliest_online_year():
    def change(t):
        t["facilities"][1]["earliest_online_year"] = 2028
    p = only(change)  # the committed row of cathode_plant is for 2027
    assert (p.sheet, p.row, p.column) == ("committed_builds", 2, "year")
    assert "before the earliest_online_year 2028" in p.message


def test_committed_total_over_max_modules_names_the_rows():
    p = only(lambda t: t["committed_builds"].append({"facility": "cathode_plant", "year": 2028, "modules": 2}))
    assert (p.sheet, p.row, p.column) == ("committed_builds", 3, "modules")
    assert "3 modules committed" in p.message and "rows 2, 3" in p.message and "max_modules is 2" in p.message


def test_committed_build_needs_a_facility_that_can_build():
    def change(t):
        t["facilities"].append({"facility": "old", "product": "anode", "existing_capacity": 10})
        t["committed_builds"].append({"facility": "old", "year": 2026, "modules": 1})
    p = only(change)
    assert (p.sheet, p.row, p.column) == ("committed_builds", 3, "facility") and "cannot build" in p.message


def test_all_problems_of_the_new_sheets_are_reported_together():
    def change(t):
        t["recipes"][0]["input"] = "nope"
        t["cell_imports"][0]["chemistry"] = "XX"
        t["committed_builds"][0]["year"] = 2030
    assert {x.sheet for x in problems(change)} == {"recipes", "cell_imports", "committed_builds"}


# --------------------------------------------------------------------------- round trip
def test_v2_case_round_trips_through_the_results_workbook(tmp_path):
    # every v2 feature at once; the results workbook, read back as a case, solves to the same cost
    from model.report import write_report

    t = add_v2_sheets(tiny_tables())
    t["cell_imports"][0]["price_usd_per_kwh"] = 30
    t["settings"]["cell_conversion_value_usd_per_kwh"] = 15
    t["settings"]["mip_rel_gap"] = 0.0
    t["facilities"][0]["capex_change_per_year"] = -0.04
    path = tmp_path / "v2.xlsx"
    write_input_workbook(path, t)
    first = solve_case(load_case(path))
    assert first.solve.status == "optimal"
    assert rows(first, "sourcing", material="cells_LFP").quantity.sum() > 0  # the plan imports cells
    out = write_report(first, tmp_path / "v2_results.xlsx")
    again = load_case(out)
    assert again.recipes == load_case(path).recipes and again.committed_builds == {("cathode_plant", 2027): 1}
    second = solve_case(again)
    assert second.solve.objective == pytest.approx(first.solve.objective, rel=1e-9)
