"""The strengthening keeps the optimum on version-2 cases (formulation.md "Version 2").

Random small cases from :func:`test_strengthening.random_tables` get every version-2 feature on top:
a two-tier recipe (cathode <- pCAM <- lithium, pCAM made by buildable candidates or imported),
cell imports (limits, first years, escalation) priced around the local cost, a committed build,
capex that changes with the vintage (also on identical and near-identical candidates, so the
symmetry and dominance chains meet it) and a cell conversion value in local content. Each case is
solved at a zero MIP gap plain, strengthened (default) and with every switch on; the optimal
objectives must agree.
"""
from __future__ import annotations

import random

import pytest

from cases import raw_workbook
from model.data import build_case
from test_strengthening import EVERYTHING, _assert_same, _solve, random_tables


def random_v2_tables(seed: int) -> dict:
    rng = random.Random(1000 + seed)
    t = random_tables(seed)
    years = [d["year"] for d in t["demand"]]
    start = years[0]
    chems = sorted({r["chemistry"] for r in t["chemistry_mix"]})
    mats = [r["material"] for r in t["materials"]]
    # two-tier recipe: cam <- pcam <- lithium (pcam and lithium are not cell materials: not in M_c)
    t["materials"] += [{"material": "pcam", "unit": "t", "reference_price_usd_per_unit": 3000.0},
                       {"material": "lithium", "unit": "t", "reference_price_usd_per_unit": 12_000.0}]
    t["recipes"] = [{"product": "cam", "input": "pcam", "amount_per_unit": round(rng.uniform(0.8, 1.0), 3)},
                    {"product": "pcam", "input": "lithium", "amount_per_unit": round(rng.uniform(0.1, 0.3), 3)}]
    if "anode" in mats and rng.random() < 0.5:
        t["recipes"].append({"product": "anode", "input": "lithium", "amount_per_unit": 0.0})  # zero row: inert
    pcam = {"facility": "pcam_0", "product": "pcam", "site": "A", "module_size": 10_000.0,
            "max_modules": rng.randint(1, 2), "earliest_online_year": start + rng.choice([0, 1]),
            "lifetime_years": rng.choice([2, 25]), "capex_usd_per_module": round(rng.uniform(1e7, 4e7), -3),
            "fixed_om_usd_per_module_year": 3e5, "variable_cost_usd_per_unit": round(rng.uniform(300, 900), 2),
            "opening_cost_usd": rng.choice([0.0, 5e6]), "ramp_up_first_year": rng.choice([1.0, 0.5])}
    t["facilities"].append(pcam)
    if rng.random() < 0.6:
        copy = dict(pcam, facility="pcam_1")
        if rng.random() < 0.5:
            copy["capex_usd_per_module"] = round(copy["capex_usd_per_module"] * rng.choice([0.9, 1.1]), -3)
        t["facilities"].append(copy)
    t["imports"] += [{"material": "pcam", "origin": "China", "price_usd_per_unit": 3000.0, "freight_usd_per_unit": 100.0,
                      "max_per_year": rng.choice([None, 8_000.0])},
                     {"material": "lithium", "origin": "Chile", "price_usd_per_unit": 12_000.0}]
    # vintage capex: per product, one rate for all its candidates (or per facility)
    rates = {}
    for f in t["facilities"]:
        if rng.random() < 0.3:
            f["capex_change_per_year"] = rng.choice([-0.05, 0.0, 0.04])
        else:
            f["capex_change_per_year"] = rates.setdefault(f["product"], rng.choice([-0.03, 0.0, 0.02]))
    # cell imports around the local cost (about 30 USD/kWh); unmet demand mostly dearer than both
    t["settings"]["unmet_penalty_usd_per_kwh"] = rng.choice([200.0, 1000.0, 1000.0])
    t["cell_imports"] = [{"chemistry": k, "origin": "China", "price_usd_per_kwh": round(rng.uniform(20, 50), 1),
                          "price_escalation_per_year": rng.choice([0.0, -0.03, 0.02]), "freight_usd_per_kwh": 2.0,
                          "tariff_rate": rng.choice([0.0, 0.1]), "max_gwh_per_year": rng.choice([None, 5.0, 15.0]),
                          "first_year": start + rng.choice([0, 0, 1])} for k in chems if rng.random() < 0.8]
    # one committed build on a facility that can build
    buildable = [f for f in t["facilities"] if f.get("max_modules", 0) > 0]
    f = rng.choice(buildable)
    year = rng.choice([y for y in years if y >= f.get("earliest_online_year", start)])
    t["committed_builds"] = [{"facility": f["facility"], "year": year, "modules": 1}]
    t["settings"]["cell_conversion_value_usd_per_kwh"] = rng.choice([0.0, 10.0, 30.0])
    return t


@pytest.mark.parametrize("seed", range(24))
def test_random_v2_cases(seed):
    data = build_case(raw_workbook(random_v2_tables(seed)))
    assert data.recipes and data.committed_builds
    plain = _solve(data, False)
    _assert_same(plain, _solve(data, True), f"v2 seed {seed}")
    _assert_same(plain, _solve(data, EVERYTHING), f"v2 seed {seed}, everything on")
