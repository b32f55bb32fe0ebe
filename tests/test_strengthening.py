"""The optional strengthening never changes the optimum: strengthened and plain models agree.

Every case is solved to a zero MIP gap twice (``build_model(data, strengthen=False)`` and the
default ``strengthen=True``; some also with every switch of :class:`Strengthening` on) and the
optimal objectives must agree to 1e-6 (relative). The cases: the tiny shared case, small generated
benchmark cases and randomised cases from a seeded generator that stresses what the strengthening
relies on (identical and near-identical candidates, opening costs, lifetimes shorter than the
horizon, ramp-up fractions, existing capacity, capped and uncapped exports, import limits, local
content, zero discount rate, unmet demand not allowed).
"""
from __future__ import annotations

import random

import pytest

from benchmarks.generate import CaseSpec, generate_tables
from cases import tiny_tables
from model.data import load_case
from model.formulation import Strengthening, build_model
from model.formulation.strengthen import fill_chains, identical_groups
from model.solve import SolverOptions, solve_model
from model.xlsx_util import write_input_workbook

REL = 1e-6
EXACT = SolverOptions(mip_rel_gap=0.0, time_limit_s=60.0)
EVERYTHING = Strengthening.everything()


# --------------------------------------------------------------------------- random cases
def random_tables(seed: int) -> dict:
    """A small random case (2-6 years, 1-2 chemistries, 2-3 materials, up to ~8 candidates)."""
    rng = random.Random(seed)
    start = 2026
    n_years = rng.randint(2, 6)
    years = list(range(start, start + n_years))
    chems = ["LFP", "NMC"][: rng.randint(1, 2)]
    mats = ["cam", "anode", "sep"][: rng.randint(2, 3)]
    allow = rng.random() < 0.8
    settings = {"start_year": start, "end_year": years[-1], "discount_rate": rng.choice([0.0, 0.05, 0.08]),
                "allow_unmet_demand": allow, "unmet_penalty_usd_per_kwh": rng.choice([20.0, 200.0, 1000.0]),
                "mip_rel_gap": 0.0, "time_limit_s": 60}
    if rng.random() < 0.3:
        settings["base_year"] = start + rng.choice([-2, 1])
    demand = [{"year": y, "vehicles": round(rng.uniform(100_000, 600_000) * (1 + 0.3 * i), -3),
               "kwh_per_vehicle": 50.0} for i, y in enumerate(years)]
    mix = []
    for y in years:
        if len(chems) == 1:
            mix.append({"year": y, "chemistry": chems[0], "share": 1.0})
        else:
            s = round(rng.uniform(0.3, 0.9), 2)
            mix += [{"year": y, "chemistry": "LFP", "share": s}, {"year": y, "chemistry": "NMC", "share": round(1 - s, 2)}]
    price = {"cam": 5000.0, "anode": 3500.0, "sep": 120.0}
    per_gwh = {"cam": 2000.0, "anode": 1000.0, "sep": 12_000.0}
    materials = [{"material": m, "unit": "t", "reference_price_usd_per_unit": price[m]} for m in mats]
    intensity = [{"chemistry": k, "material": m, "amount_per_gwh": per_gwh[m] * rng.uniform(0.8, 1.2)}
                 for k in chems for m in mats if rng.random() < 0.9]

    def candidate(product, name, size, unit_cost):
        return {"facility": name, "product": product, "site": rng.choice(["A", "B", "C"]),
                "existing_capacity": rng.choice([0.0, 0.0, 0.0, size * 0.5]),
                "module_size": size, "max_modules": rng.randint(1, 3),
                "earliest_online_year": start + rng.choice([0, 0, 1]),
                "lifetime_years": rng.choice([1, 2, 3, 25]),
                "capex_usd_per_module": round(unit_cost * size * rng.uniform(0.7, 1.3), -3),
                "fixed_om_usd_per_module_year": round(0.03 * unit_cost * size, -3),
                "variable_cost_usd_per_unit": round(unit_cost * rng.uniform(0.1, 0.3), 2),
                "opening_cost_usd": rng.choice([0.0, round(unit_cost * size * rng.uniform(0.05, 0.3), -3)]),
                "ramp_up_first_year": rng.choice([1.0, 0.5, 0.3, 0.25])}

    facilities = []
    for product, size, unit_cost in [("cells", 5.0, 6e7)] + [(m, 10_000.0 if m != "sep" else 100_000.0,
                                                                 {"cam": 8000.0, "anode": 6000.0, "sep": 500.0}[m])
                                                                for m in mats]:
        base = candidate(product, f"{product}_0", size, unit_cost)
        facilities.append(base)
        for i in range(1, rng.randint(1, 3)):
            kind = rng.random()
            if kind < 0.45:  # exact copy
                f = dict(base)
            elif kind < 0.8:  # near copy: cheaper or dearer capex or opening
                f = dict(base)
                key = rng.choice(["capex_usd_per_module", "opening_cost_usd", "fixed_om_usd_per_module_year"])
                f[key] = round(f[key] * rng.choice([0.9, 1.1]), -3)
            else:
                f = candidate(product, "", size, unit_cost)
            f["facility"] = f"{product}_{i}"
            f["site"] = rng.choice(["A", "B", "C"])
            facilities.append(f)
    imports = []
    for m in mats:
        imports.append({"material": m, "origin": "China", "price_usd_per_unit": price[m],
                        "freight_usd_per_unit": 0.05 * price[m], "tariff_rate": 0.025,
                        "price_escalation_per_year": rng.choice([0.0, 0.02]),
                        "max_per_year": rng.choice([None, None, 15_000.0 if m != "sep" else 150_000.0])})
        if rng.random() < 0.5:
            imports.append({"material": m, "origin": "EU", "price_usd_per_unit": 1.5 * price[m],
                            "max_per_year": 5_000.0 if m != "sep" else 50_000.0,
                            "first_year": start + rng.choice([0, 1])})
    tables = {"settings": settings, "demand": demand, "chemistry_mix": mix, "materials": materials,
              "intensity": intensity, "facilities": facilities, "imports": imports}
    if rng.random() < 0.6:
        tables["exports"] = [{"material": mats[0], "price_usd_per_unit": price[mats[0]] * rng.uniform(0.3, 0.9),
                              "max_per_year": rng.choice([None, 5_000.0])}]
    if rng.random() < 0.6:
        tables["local_content"] = [{"year": y, "min_local_value_share": round(rng.uniform(0.1, 0.6), 2)}
                                   for y in years if rng.random() < 0.7]
    return tables


def _solve(data, strengthen):
    m = build_model(data, strengthen=strengthen)
    info = solve_model(m, EXACT)
    return info


def _load(tmp_path, tables, name="case.xlsx"):
    path = tmp_path / name
    write_input_workbook(path, tables)
    return load_case(path)


def _assert_same(plain, strong, label=""):
    assert strong.status == plain.status, f"{label}: status {strong.status} != plain {plain.status}"
    if plain.has_solution:
        assert plain.status == "optimal"
        assert strong.objective == pytest.approx(plain.objective, rel=REL, abs=1e-3), label


# --------------------------------------------------------------------------- the cases
TINY_GENERATED = [CaseSpec("t1", sites=2, years=4, origins=2, chemistries=1),
                  CaseSpec("t2", sites=3, years=3, origins=1, chemistries=2),
                  CaseSpec("t3", sites=2, years=6, origins=2, chemistries=2)]


def test_shared_tiny_case(tmp_path):
    data = _load(tmp_path, tiny_tables())
    plain = _solve(data, False)
    _assert_same(plain, _solve(data, True), "tiny")
    _assert_same(plain, _solve(data, EVERYTHING), "tiny, everything on")


@pytest.mark.parametrize("spec", TINY_GENERATED, ids=lambda s: s.name)
def test_generated_cases(tmp_path, spec):
    tables = generate_tables(spec, seed=7)
    tables["settings"]["mip_rel_gap"] = 0.0
    data = _load(tmp_path, tables)
    assert identical_groups(data), "the generator makes identical candidates"
    plain = _solve(data, False)
    _assert_same(plain, _solve(data, True), spec.name)


@pytest.mark.parametrize("seed", range(16))
def test_random_cases(tmp_path, seed):
    data = _load(tmp_path, random_tables(seed))
    plain = _solve(data, False)
    _assert_same(plain, _solve(data, True), f"seed {seed}")
    _assert_same(plain, _solve(data, EVERYTHING), f"seed {seed}, everything on")


# --------------------------------------------------------------------------- the pieces
def test_each_switch_alone_keeps_the_optimum(tmp_path):
    tables = generate_tables(CaseSpec("t", sites=3, years=4, origins=2, chemistries=2), seed=3)
    tables["settings"]["mip_rel_gap"] = 0.0
    data = _load(tmp_path, tables)
    plain = _solve(data, False)
    off = Strengthening.none()
    for name in ("bounds", "cumulative_link", "open_at_first_build", "symmetry", "dominance", "cover_cuts",
                 "open_output", "integer_in_service", "integer_product_total", "stock_variables", "integer_stocks"):
        from dataclasses import replace

        _assert_same(plain, _solve(data, replace(off, **{name: True})), name)


def test_plain_statement_has_no_strengthening_rows(tmp_path):
    data = _load(tmp_path, tiny_tables())
    plain = build_model(data, strengthen=False)
    strong = build_model(data)
    assert not [c for c in plain.component_objects() if c.local_name.startswith("s_")]
    assert [c for c in strong.component_objects() if c.local_name.startswith("s_")]
    # the core components keep their names either way (reports, IIS and marginals rely on them)
    for name in ("build", "open", "prodc", "prodm", "imp", "unmet", "module_limit", "open_once",
                 "open_before_modules", "cell_capacity", "cell_demand", "material_balance"):
        assert hasattr(plain, name) and hasattr(strong, name)


def test_only_exact_copies_are_grouped(tmp_path):
    t = tiny_tables()
    plant = t["facilities"][1]
    copy = dict(plant, facility="copy", site="elsewhere")
    near = dict(plant, facility="near", capex_usd_per_module=plant["capex_usd_per_module"] * 1.0001)
    t["facilities"] += [copy, near]
    data = _load(tmp_path, t)
    assert identical_groups(data) == [("cathode_plant", "copy")]
    # the dominance order also chains the near copy, after the cheaper ones
    assert fill_chains(data, dominance=True) == [("cathode_plant", "copy", "near")]


def test_dominance_needs_both_costs_ordered(tmp_path):
    t = tiny_tables()
    plant = t["facilities"][1]
    # cheaper modules but a dearer opening: no order can be imposed
    t["facilities"].append(dict(plant, facility="other", capex_usd_per_module=plant["capex_usd_per_module"] * 0.9,
                                opening_cost_usd=5e6))
    plant["opening_cost_usd"] = 1e6
    data = _load(tmp_path, t)
    assert fill_chains(data, dominance=True) == []


def test_pipeline_default_is_strengthened_and_verifies(tmp_path):
    from model.pipeline import solve_case

    data = _load(tmp_path, tiny_tables())
    res = solve_case(data)
    assert res.solve.status == "optimal"
    assert any(c.local_name.startswith("s_") for c in res.model.component_objects())
    assert any("independent check passed" in n for n in res.notes)
