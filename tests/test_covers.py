"""The issue-13 cover cuts (``supply_covers``, ``recipe_covers``, ``content_covers``, ``window_covers``) keep the optimum and lift the LP bound.

Each randomised case (version 1 from :func:`test_strengthening.random_tables`, version 2 with
recipes, cell imports, committed builds and vintage capex from
:func:`test_strengthening_v2.random_v2_tables`) is solved at a zero MIP gap as the plain statement,
with the new switches on top of the default strengthening and with the new switches alone; the
optimal objectives must agree. The LP relaxation with the cuts is never weaker, and on a case whose
imports cannot cover a material's demand the supply cover strictly lifts the plain statement's.
"""
from __future__ import annotations

import pytest
import pyomo.environ as pyo

from cases import raw_workbook, tiny_tables
from model.data import build_case
from model.formulation import Strengthening, build_model
from model.solve import SolverOptions, solve_model
from test_strengthening import _assert_same, _load, _solve, random_tables
from test_strengthening_v2 import random_v2_tables

COVERS = Strengthening(supply_covers=True, recipe_covers=True, content_covers=True)
COVERS_ALONE = Strengthening(**{**{f: False for f in Strengthening.__dataclass_fields__},
                                "supply_covers": True, "recipe_covers": True, "content_covers": True})
WINDOW = Strengthening(window_covers=True)
WINDOW_ALONE = Strengthening(**{**{f: False for f in Strengthening.__dataclass_fields__}, "window_covers": True})


def _lp_bound(data, strengthen) -> float | None:
    """The LP relaxation's optimum; None when it is infeasible."""
    m = build_model(data, strengthen=strengthen)
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(m)
    info = solve_model(m, SolverOptions(mip_rel_gap=0.0, time_limit_s=60.0))
    if info.status == "infeasible":
        return None
    assert info.status == "optimal"
    return info.objective


#: Each switch set under test: on top of the default strengthening, and alone; with its seeds
#: (version-1 cases, version-2 cases, LP-bound cases).
SWITCHES = {
    "covers": (COVERS, COVERS_ALONE, [200 + i for i in range(12)], [300 + i for i in range(12)], [400 + i for i in range(4)]),
    "window covers": (WINDOW, WINDOW_ALONE, [600 + i for i in range(6)], [700 + i for i in range(6)], [800 + i for i in range(3)]),
}


@pytest.mark.parametrize("name,seed", [(n, s) for n, v in SWITCHES.items() for s in v[2]])
def test_random_cases_keep_the_optimum(tmp_path, name, seed):
    on_default, alone = SWITCHES[name][:2]
    data = _load(tmp_path, random_tables(seed))
    plain = _solve(data, False)
    _assert_same(plain, _solve(data, on_default), f"seed {seed}, {name} on the default")
    _assert_same(plain, _solve(data, alone), f"seed {seed}, {name} alone")


@pytest.mark.parametrize("name,seed", [(n, s) for n, v in SWITCHES.items() for s in v[3]])
def test_random_v2_cases_keep_the_optimum(name, seed):
    on_default, alone = SWITCHES[name][:2]
    data = build_case(raw_workbook(random_v2_tables(seed)))
    plain = _solve(data, False)
    _assert_same(plain, _solve(data, on_default), f"v2 seed {seed}, {name} on the default")
    _assert_same(plain, _solve(data, alone), f"v2 seed {seed}, {name} alone")


@pytest.mark.parametrize("name,seed", [(n, s) for n, v in SWITCHES.items() for s in v[4]])
def test_lp_bound_never_weaker(name, seed):
    on_default = SWITCHES[name][0]
    data = build_case(raw_workbook(random_v2_tables(seed)))
    default, cut = _lp_bound(data, True), _lp_bound(data, on_default)
    if default is None:
        assert cut is None  # valid cuts cannot make an infeasible relaxation feasible
    else:
        assert cut is not None and cut >= default - 1e-7 * abs(default)


def _capped_import_case() -> dict:
    """Tiny case whose LFP cathode imports are capped and whose modules are dear: the LP builds fractions."""
    t = tiny_tables()
    t["settings"]["allow_unmet_demand"] = False
    t.pop("local_content", None)  # no target and no exports: only the import cap forces local output
    t.pop("exports", None)
    for f in t["facilities"]:
        if f["facility"] == "cathode_plant":
            f["capex_usd_per_module"] = 400e6
    for r in t["imports"]:
        if r["material"] == "cathode_LFP":
            r["max_per_year"] = 100.0
    return t


def test_supply_cover_lifts_the_lp_bound_and_keeps_the_optimum():
    data = build_case(raw_workbook(_capped_import_case()))
    m = build_model(data, strengthen=COVERS)
    assert len(m.s_supply_cover) > 0
    supply_alone = Strengthening(**{**{f: False for f in Strengthening.__dataclass_fields__}, "supply_covers": True})
    assert _lp_bound(data, supply_alone) > _lp_bound(data, False) * (1 + 1e-3)  # on the plain statement
    assert _lp_bound(data, COVERS) >= _lp_bound(data, True) * (1 - 1e-9)
    _assert_same(_solve(data, False), _solve(data, COVERS), "capped imports")


def test_content_cover_rows_only_with_a_target():
    t = tiny_tables()
    t.pop("local_content", None)
    data = build_case(raw_workbook(t))
    assert not hasattr(build_model(data, strengthen=COVERS), "s_content_cover")
    years = [d["year"] for d in t["demand"]]
    t["local_content"] = [{"year": y, "min_local_value_share": 0.37} for y in years]
    data = build_case(raw_workbook(t))
    m = build_model(data, strengthen=COVERS)
    assert len(m.s_content_cover) > 0
    _assert_same(_solve(data, False), _solve(data, COVERS), "local content")


def test_recipe_floor_adds_the_products_floor():
    """The recipe input's floor is its cells' use plus r times each product's floor (recipe_floors)."""
    from model.formulation.strengthen import demand_floor, recipe_floors

    data = build_case(raw_workbook(random_v2_tables(500)))
    m = build_model(data, strengthen=COVERS)
    floors = recipe_floors(m, data)
    base = demand_floor(data)
    y = data.years[-1]
    # pcam feeds cam (a cell material), lithium feeds pcam: both floors come from cam's cell use
    r_cam = data.recipes["cam", "pcam"]
    r_pcam = data.recipes["pcam", "lithium"]
    assert floors["pcam", y][0] == pytest.approx(r_cam * base["cam", y][0])
    assert floors["lithium", y][0] == pytest.approx(r_pcam * floors["pcam", y][0])
    assert floors["pcam", y][0] > 0
    assert len(m.s_recipe_cover) > 0  # rows for pcam (made by candidates) and its whole-module rounding


def test_window_rows_on_a_capped_import_case_with_rebuilds():
    t = _capped_import_case()
    for f in t["facilities"]:
        f["lifetime_years"] = 2  # modules retire and are rebuilt inside the horizon
    data = build_case(raw_workbook(t))
    m = build_model(data, strengthen=WINDOW)
    assert len(m.s_window_cover) > 0
    assert _lp_bound(data, WINDOW_ALONE) >= _lp_bound(data, False) * (1 - 1e-9)
    _assert_same(_solve(data, False), _solve(data, WINDOW), "capped imports, rebuilds")
