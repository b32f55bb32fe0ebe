"""The default case: valid, reproducible from model/basecase.py, and every figure traceable."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from model import basecase
from model import schema as S
from model.data import load_case
from model.workbook import read_workbook

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "inputs" / "base_case.xlsx"
DATA_SHEETS = ("settings", "demand", "chemistry_mix", "materials", "intensity", "facilities", "imports",
               "exports", "local_content")
#: columns that name things rather than carry a figure
NAME_COLUMNS = {"facility", "product", "site", "material", "origin", "chemistry", "year", "unit", "notes"}


@pytest.fixture(scope="module")
def tables():
    return basecase.base_case_tables()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    path = tmp_path_factory.mktemp("basecase") / "base_case.xlsx"
    assert basecase.main([str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def case():
    return load_case(COMMITTED)


def test_committed_base_case_validates_without_warnings(case):
    assert case.warnings == ()
    assert case.years == tuple(range(2026, 2041))


def test_committed_file_matches_the_code(case, fresh):
    """inputs/base_case.xlsx must be regenerated whenever model/basecase.py changes."""
    new = load_case(fresh)
    assert new.warnings == ()
    for name in ("settings", "years", "chemistries", "materials", "vehicles", "kwh_per_vehicle", "share",
                 "intensity", "facilities", "imports", "exports", "local_content_target"):
        assert getattr(new, name) == getattr(case, name), f"{name} differs: run python -m model.basecase"
    assert new == case
    # extra sheets and columns (sources, notes) too
    a, b = read_workbook(COMMITTED), read_workbook(fresh)
    assert set(a.sheets) == set(b.sheets)
    for key in a.sheets:
        assert a.sheets[key] == b.sheets[key], f"sheet {key} differs: run python -m model.basecase"


def test_tables_are_fresh_copies():
    t1 = basecase.base_case_tables()
    t1["facilities"][0]["capex_usd_per_module"] = -1
    t1["settings"]["discount_rate"] = 0.5
    t2 = basecase.base_case_tables()
    assert t2["facilities"][0]["capex_usd_per_module"] > 0
    assert t2["settings"]["discount_rate"] == 0.08


def test_settings(case):
    s = case.settings
    assert (s.start_year, s.end_year, s.base_year) == (2026, 2040, 2026)
    assert s.discount_rate == 0.08 and s.allow_unmet_demand is True
    assert s.unmet_penalty_usd_per_kwh == 1000 and s.mip_rel_gap == 1e-4 and s.time_limit_s == 600


def test_demand_ramps_from_20_to_100_gwh(case):
    total = {y: sum(case.demand_gwh(k, y) for k in case.chemistries) for y in case.years}
    assert total[2026] == pytest.approx(20.0)
    assert total[2040] == pytest.approx(100.0)
    assert case.vehicles[2026] == 400_000 and case.vehicles[2040] == 2_000_000
    assert all(case.kwh_per_vehicle[y] == 50 for y in case.years)
    assert all(total[b] >= total[a] for a, b in zip(case.years, case.years[1:]))


def test_shares_sum_exactly_to_one(tables):
    by_year: dict[int, float] = {}
    for r in tables["chemistry_mix"]:
        by_year[r["year"]] = by_year.get(r["year"], 0.0) + r["share"]
        assert r["share"] == round(r["share"], 2)
    assert by_year and all(abs(v - 1.0) < 1e-12 for v in by_year.values())


def test_existing_gigafactory_covers_2026_and_can_reach_100_gwh(case):
    cells = [case.facilities[f] for f in case.cell_facilities]
    assert len(cells) == 1
    g = cells[0]
    assert case.existing_capacity(g.facility, 2026) >= sum(case.demand_gwh(k, 2026) for k in case.chemistries)
    assert g.existing_capacity + g.module_size * g.max_modules >= 100
    assert g.capex_usd_per_module / g.module_size == pytest.approx(65e6)


def test_small_model_and_plausible_data(case):
    assert 8 <= len(case.facilities) <= 12
    assert 10 <= len(case.imports) <= 12
    for f in case.facilities.values():
        if f.can_build:
            assert f.earliest_online_year >= 2027, f.facility
            assert f.earliest_online_year - f.lead_time_years >= 2025, f.facility
            assert 0.02 <= f.fixed_om_usd_per_module_year / f.capex_usd_per_module <= 0.05, f.facility
        if not f.makes_cells:
            assert f.opening_cost_usd > 0, f"{f.facility}: new sites carry an opening cost"
    for m in case.materials:
        origins = [o for (mm, o) in case.imports if mm == m]
        assert "China" in origins and len(origins) >= 2, m
        china = case.landed_cost(m, "China", 2026)
        assert all(case.landed_cost(m, o, 2026) > china for o in origins if o != "China"), m


def test_units(case):
    units = {m.material: m.unit for m in case.materials.values()}
    assert units == {"cathode_LFP": "t", "cathode_NMC": "t", "anode": "t", "separator": "1000 m2",
                     "electrolyte": "t"}


def test_local_content_targets_are_feasible(case):
    """Even with every plant built as early as allowed, the targets can be met (upper bound check)."""
    price = {m: v.reference_price_usd_per_unit for m, v in case.materials.items()}
    for y, target in case.local_content_target.items():
        cells = {k: case.demand_gwh(k, y) for k in case.chemistries}
        need = {m: sum(case.intensity.get((k, m), 0.0) * g for k, g in cells.items()) for m in price}
        local = {m: 0.0 for m in price}
        for f in case.facilities.values():
            if f.makes_cells:
                continue
            cap = case.existing_capacity(f.facility, y)
            if f.can_build and f.earliest_online_year <= y:
                full = f.earliest_online_year < y
                cap += f.module_size * f.max_modules * (1.0 if full else f.ramp_up_first_year)
            local[f.product] += cap
        share = sum(price[m] * min(local[m], need[m]) for m in price) / sum(price[m] * need[m] for m in price)
        assert share >= target, (y, share, target)
    assert max(case.local_content_target.values()) <= 0.6
    assert min(case.local_content_target) >= 2028


def test_every_figure_has_a_source(tables):
    sources = {(r["sheet"], r["key"], r["column"]): r for r in tables["sources"]}
    for r in tables["sources"]:
        assert r["source"].startswith(("market_data 3", "assumption")), r
    assert all(isinstance(r["source"], str) and r["source"] for r in tables["sources"])

    def check(sheet: str, key: str, column: str, value):
        assert (sheet, key, column) in sources, f"no source for {sheet}[{key}].{column}"
        v = sources[(sheet, key, column)]["value"]
        assert v == value or (isinstance(v, float) and math.isclose(v, value)), (sheet, key, column)

    for k, v in tables["settings"].items():
        check("settings", k, "value", v)
    for name in DATA_SHEETS[1:]:
        sheet = S.SHEETS_BY_NAME[name]
        for rec in tables[name]:
            key = ",".join(str(rec[c]) for c in sheet.key)
            for col, v in rec.items():
                if col in NAME_COLUMNS or v is None:
                    continue
                if col in sheet.column_names and not sheet.column(col).required and v == sheet.column(col).default:
                    if (name, key, col) not in sources:
                        continue  # an explicit default (e.g. no escalation) needs no citation
                check(name, key, col, v)


def test_every_facility_and_import_row_is_sourced_and_noted(tables):
    sources = tables["sources"]
    for rec in tables["facilities"]:
        assert rec.get("notes"), rec["facility"]
        cited = [r for r in sources if r["sheet"] == "facilities" and r["key"] == rec["facility"]]
        assert any(r["source"].startswith("market_data 3") for r in cited), rec["facility"]
        assert {"capex_usd_per_module", "module_size", "max_modules", "earliest_online_year"} <= \
            {r["column"] for r in cited}, rec["facility"]
    for rec in tables["imports"]:
        assert rec.get("notes"), (rec["material"], rec["origin"])
        key = f"{rec['material']},{rec['origin']}"
        cited = {r["column"]: r for r in sources if r["sheet"] == "imports" and r["key"] == key}
        assert cited["price_usd_per_unit"]["source"].startswith("market_data 3b"), key
        assert "freight_usd_per_unit" in cited and "tariff_rate" in cited, key


def test_sources_sheet_is_written_and_ignored(fresh):
    raw = read_workbook(fresh)
    src = raw.sheet("sources")
    assert src is not None and src.header == ("sheet", "key", "column", "value", "source", "note")
    assert len(src.rows) == len(basecase.base_case_tables()["sources"])
    assert "notes" in raw.sheet("facilities").header and "notes" in raw.sheet("imports").header
    assert load_case(fresh).warnings == ()
