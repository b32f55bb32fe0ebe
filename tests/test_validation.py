"""Every rule of docs/spec workbook.md, one test (or one parameter) each.

Each case starts from the tiny valid case (tests/cases.py), breaks one thing, writes a real
.xlsx and loads it. Excel row numbers of the tiny case: the header is row 1, the first record
row 2; in ``settings`` start_year is row 2, end_year row 3, then the settings in the order of
``cases._TINY``.
"""
from __future__ import annotations

import datetime as dt
import math

import openpyxl
import pytest

from cases import END, START, add_v2_sheets, tiny_tables, write_case
from model import schema as S
from model.data import CaseData, _Bad, build_case, coerce, load_case
from model.errors import InputError, Problem
from model.workbook import RawSheet, RawWorkbook

SETTINGS_ROW = {k: i for i, k in enumerate(tiny_tables()["settings"], start=2)}
TABLE_SHEETS = [s for s in S.SHEETS if s.layout == "table"]
V2_SHEETS = ("recipes", "cell_imports", "committed_builds")


# --------------------------------------------------------------------------- helpers
def problems_of(make_case, change) -> list[Problem]:
    path = make_case(change)
    with pytest.raises(InputError) as ei:
        load_case(path)
    probs = ei.value.problems
    assert probs, "an InputError must carry at least one problem"
    for p in probs:
        assert p.sheet and p.message, p
    return probs


def one_problem(make_case, change) -> Problem:
    probs = problems_of(make_case, change)
    assert len(probs) == 1, "\n".join(map(str, probs))
    return probs[0]


def loads(make_case, change=None) -> CaseData:
    return load_case(make_case(change))


def assert_at(p: Problem, sheet: str, row: int | None, column: str | None, *fragments: str) -> None:
    assert (p.sheet, p.row, p.column) == (sheet, row, column), str(p)
    text = str(p)
    assert f"sheet '{sheet}'" in text
    if row is not None:
        assert f"row {row}" in text
    if column is not None:
        assert f"column '{column}'" in text
    for f in fragments:
        assert f.lower() in p.message.lower(), f"{f!r} not in {p.message!r}"


def setter(sheet: str, i: int, column: str, value):
    def change(t):
        if sheet in V2_SHEETS:
            add_v2_sheets(t)
        if sheet == "settings":
            t["settings"][column] = value
        else:
            t[sheet][i][column] = value
    return change


# --------------------------------------------------------------------------- the valid case
def test_tiny_case_is_valid(make_case):
    case = loads(make_case)
    assert case.years == (2026, 2027, 2028)
    assert case.chemistries == ("LFP", "NMC")
    assert set(case.materials) == {"cathode_LFP", "cathode_NMC", "anode"}
    assert case.warnings == ()
    assert case.share[("LFP", 2026)] == pytest.approx(0.6)
    assert case.facilities["cell_plant"].makes_cells
    assert case.imports[("cathode_LFP", "China")].max_per_year is None
    assert case.local_content_target == {2028: 0.1}
    assert case.demand_gwh("LFP", 2026) == pytest.approx(20_000 * 50 * 0.6 / 1e6)


# --------------------------------------------------------------------------- sheets and columns
@pytest.mark.parametrize("sheet", [s.name for s in S.SHEETS if s.required])
def test_missing_required_sheet(make_case, sheet):
    probs = problems_of(make_case, lambda t: t.pop(sheet))
    mine = [p for p in probs if p.sheet == sheet]
    assert len(mine) == 1
    assert_at(mine[0], sheet, None, None, "required sheet is missing")
    # a missing sheet only hides checks that need it: never a crash, never noise elsewhere
    others = [p for p in probs if p.sheet != sheet]
    assert all(p.sheet in S.SHEETS_BY_NAME for p in others)


@pytest.mark.parametrize("sheet", [s.name for s in S.SHEETS if not s.required])
def test_optional_sheet_may_be_missing(make_case, sheet):
    case = loads(make_case, lambda t: t.pop(sheet, None))  # version-2 sheets are not in the tiny case
    assert case.exports if sheet != "exports" else not case.exports
    assert case.local_content_target if sheet != "local_content" else not case.local_content_target


def test_misspelt_sheet_is_named_in_the_message(make_case):
    p = one_problem(make_case, lambda t: t.__setitem__("demands", t.pop("demand")))
    assert_at(p, "demand", None, None, "required sheet is missing", "'demands'")


@pytest.mark.parametrize("sheet,column", [(s.name, c.name) for s in TABLE_SHEETS for c in s.columns if c.required])
def test_missing_required_column(make_case, sheet, column):
    def change(t):
        add_v2_sheets(t)
        for rec in t[sheet]:
            rec.pop(column)
    probs = problems_of(make_case, change)
    mine = [p for p in probs if p.sheet == sheet]
    assert len(mine) == 1, "\n".join(map(str, probs))
    assert_at(mine[0], sheet, 1, column, "missing from the header row", f"'{column}'")


@pytest.mark.parametrize("column", ["key", "value"])
def test_settings_needs_key_and_value_columns(tmp_path, column):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "settings"
    ws.append(["key" if column == "value" else "name", "value" if column == "key" else "amount"])
    ws.append(["start_year", START])
    ws.append(["end_year", END])
    t = tiny_tables()
    t.pop("settings")
    path = write_case(tmp_path / "base.xlsx", t)
    src = openpyxl.load_workbook(path)
    for name in src.sheetnames:
        dst = wb.create_sheet(name)
        for row in src[name].iter_rows(values_only=True):
            dst.append(row)
    wb.save(tmp_path / "c.xlsx")
    with pytest.raises(InputError) as ei:
        load_case(tmp_path / "c.xlsx")
    mine = [p for p in ei.value.problems if p.sheet == "settings"]
    assert len(mine) == 1
    assert_at(mine[0], "settings", 1, column, "missing from the header row", "'key', 'value'")


@pytest.mark.parametrize("setting", [c.name for c in S.SETTINGS.columns if c.required])
def test_missing_required_setting(make_case, setting):
    probs = problems_of(make_case, lambda t: t["settings"].pop(setting))
    assert len(probs) == 1
    assert_at(probs[0], "settings", None, "key", f"'{setting}'", "missing")


def test_column_typo_gets_a_hint(make_case):
    def change(t):
        for rec in t["demand"]:
            rec["vehicle"] = rec.pop("vehicles")
    p = one_problem(make_case, change)
    assert_at(p, "demand", 1, "vehicles", "did you mean 'vehicle'", "'year'")


def test_duplicate_column_in_header(tmp_path):
    t = tiny_tables()
    path = write_case(tmp_path / "c.xlsx", t)
    wb = openpyxl.load_workbook(path)
    ws = wb["demand"]
    ws.cell(row=1, column=4, value="Vehicles ")
    for r in range(2, 5):
        ws.cell(row=r, column=4, value=1)
    wb.save(path)
    with pytest.raises(InputError) as ei:
        load_case(path)
    assert len(ei.value.problems) == 1
    assert_at(ei.value.problems[0], "demand", 1, "vehicles", "appears twice")


# --------------------------------------------------------------------------- blank and wrong types
@pytest.mark.parametrize("sheet,column", [(s.name, c.name) for s in TABLE_SHEETS for c in s.columns if c.required])
def test_blank_required_cell(make_case, sheet, column):
    p = one_problem(make_case, setter(sheet, 0, column, None))
    assert_at(p, sheet, 2, column, "blank", f"'{column}'")


@pytest.mark.parametrize("setting", [c.name for c in S.SETTINGS.columns if c.required])
def test_blank_required_setting(make_case, setting):
    p = one_problem(make_case, setter("settings", 0, setting, None))
    assert_at(p, "settings", SETTINGS_ROW[setting], "value", setting, "blank")


WRONG_TYPES = [
    # sheet, row index, column, value, message fragments
    ("demand", 1, "vehicles", "lots", ["text 'lots'", "number"]),
    ("demand", 1, "vehicles", dt.datetime(2026, 3, 1), ["a date", "format the cell as a number"]),
    ("demand", 1, "vehicles", True, ["TRUE/FALSE", "number"]),
    ("demand", 1, "year", "2027a", ["text '2027a'", "whole number"]),
    ("demand", 1, "year", dt.datetime(2027, 1, 1), ["a date", "whole number"]),
    ("demand", 1, "year", 2027.5, ["2027.5", "not a whole number"]),
    ("facilities", 0, "max_modules", 1.5, ["1.5", "not a whole number"]),
    ("facilities", 0, "lifetime_years", "twenty", ["text 'twenty'", "whole number"]),
    ("facilities", 0, "lead_time_years", 0.5, ["0.5", "not a whole number"]),
    ("facilities", 0, "capex_usd_per_module", "1,5", ["'1,5'", "decimal point", "1.5"]),
    ("facilities", 0, "facility", True, ["TRUE/FALSE", "text"]),
    ("facilities", 0, "product", dt.date(2026, 1, 1), ["a date", "text"]),
    ("imports", 0, "tariff_rate", "#N/A", ["Excel error value #N/A"]),
    ("imports", 0, "price_usd_per_unit", "nan", ["'nan'", "not a finite number"]),
    ("imports", 0, "freight_usd_per_unit", "-inf", ["'-inf'", "not a finite number"]),
    ("chemistry_mix", 0, "share", "60 percent", ["text '60 percent'"]),
    ("materials", 0, "reference_price_usd_per_unit", dt.time(12, 0), ["a date", "number"]),
]


@pytest.mark.parametrize("sheet,i,column,value,fragments", WRONG_TYPES,
                         ids=[f"{s}.{c}={v!r}" for s, i, c, v, f in WRONG_TYPES])
def test_wrong_type(make_case, sheet, i, column, value, fragments):
    p = one_problem(make_case, setter(sheet, i, column, value))
    assert_at(p, sheet, i + 2, column, *fragments)


@pytest.mark.parametrize("setting,value,fragment", [
    ("start_year", "twenty-six", "whole number"),
    ("end_year", 2028.5, "not a whole number"),
    ("discount_rate", "eight percent", "number"),
    ("discount_rate", dt.datetime(2026, 1, 1), "a date"),
    ("mip_rel_gap", True, "TRUE/FALSE"),
    ("allow_unmet_demand", "maybe", "not true/false"),
    ("allow_unmet_demand", 2, "not true/false"),
    ("time_limit_s", "#DIV/0!", "Excel error value"),
])
def test_setting_wrong_type(make_case, setting, value, fragment):
    p = one_problem(make_case, setter("settings", 0, setting, value))
    assert_at(p, "settings", SETTINGS_ROW[setting], "value", setting, fragment)


# --------------------------------------------------------------------------- bounds
SETTING_BOUNDS = [
    ("discount_rate", 1.0, "in [0, 1)"),
    ("discount_rate", -0.1, "in [0, 1)"),
    ("mip_rel_gap", 1, "in [0, 1)"),
    ("mip_rel_gap", -1e-9, "in [0, 1)"),
    ("time_limit_s", 0, "> 0"),
    ("unmet_penalty_usd_per_kwh", -1, ">= 0"),
    ("start_year", 1800, "in [1900, 2500]"),
    ("end_year", 3000, "in [1900, 2500]"),
    ("base_year", 1899, "in [1900, 2500]"),
    ("cell_conversion_value_usd_per_kwh", -1, ">= 0"),
]


@pytest.mark.parametrize("setting,value,bound", SETTING_BOUNDS, ids=[f"{s}={v}" for s, v, b in SETTING_BOUNDS])
def test_setting_bounds(make_case, setting, value, bound):
    p = one_problem(make_case, setter("settings", 0, setting, value))
    row = SETTINGS_ROW.get(setting, len(SETTINGS_ROW) + 2)  # base_year is added as the last row
    assert_at(p, "settings", row, "value", setting, "out of range", bound)


TABLE_BOUNDS = [
    ("demand", 0, "vehicles", -1, ">= 0"),
    ("demand", 0, "kwh_per_vehicle", 0, "> 0"),
    ("demand", 0, "year", 1800, "in [1900, 2500]"),
    ("chemistry_mix", 0, "year", 1800, "in [1900, 2500]"),
    ("chemistry_mix", 0, "share", 1.2, "in [0, 1]"),
    ("chemistry_mix", 0, "share", -0.1, "in [0, 1]"),
    ("materials", 0, "reference_price_usd_per_unit", -1, ">= 0"),
    ("intensity", 0, "amount_per_gwh", -1, ">= 0"),
    ("facilities", 0, "existing_capacity", -1, ">= 0"),
    ("facilities", 0, "existing_from_year", 1800, "in [1900, 2500]"),
    ("facilities", 0, "module_size", -1, ">= 0"),
    ("facilities", 0, "max_modules", -1, ">= 0"),
    ("facilities", 0, "earliest_online_year", 3000, "in [1900, 2500]"),
    ("facilities", 0, "lead_time_years", -1, ">= 0"),
    ("facilities", 0, "lifetime_years", 0, ">= 1"),
    ("facilities", 0, "capex_usd_per_module", -1, ">= 0"),
    ("facilities", 0, "fixed_om_usd_per_module_year", -1, ">= 0"),
    ("facilities", 1, "existing_fixed_om_usd_per_year", -1, ">= 0"),
    ("facilities", 0, "variable_cost_usd_per_unit", -1, ">= 0"),
    ("facilities", 0, "opening_cost_usd", -1, ">= 0"),
    ("facilities", 0, "ramp_up_first_year", 0, "in (0, 1]"),
    ("facilities", 0, "ramp_up_first_year", 1.5, "in (0, 1]"),
    ("imports", 0, "price_usd_per_unit", -1, ">= 0"),
    ("imports", 0, "price_escalation_per_year", -1, "> -1"),
    ("imports", 0, "freight_usd_per_unit", -1, ">= 0"),
    ("imports", 0, "tariff_rate", -0.1, ">= 0"),
    ("imports", 2, "max_per_year", -1, ">= 0"),
    ("imports", 2, "first_year", 1800, "in [1900, 2500]"),
    ("exports", 0, "price_usd_per_unit", -1, ">= 0"),
    ("exports", 0, "max_per_year", -1, ">= 0"),
    ("local_content", 0, "min_local_value_share", 2, "in [0, 1]"),
    ("local_content", 0, "min_local_value_share", -0.1, "in [0, 1]"),
    ("local_content", 0, "year", 3000, "in [1900, 2500]"),
    ("facilities", 0, "capex_change_per_year", -1, "> -1"),
    ("recipes", 0, "amount_per_unit", -0.5, ">= 0"),
    ("cell_imports", 0, "price_usd_per_kwh", -1, ">= 0"),
    ("cell_imports", 0, "price_escalation_per_year", -1, "> -1"),
    ("cell_imports", 0, "freight_usd_per_kwh", -1, ">= 0"),
    ("cell_imports", 0, "tariff_rate", -0.1, ">= 0"),
    ("cell_imports", 1, "max_gwh_per_year", -1, ">= 0"),
    ("cell_imports", 1, "first_year", 1800, "in [1900, 2500]"),
    ("committed_builds", 0, "year", 1800, "in [1900, 2500]"),
    ("committed_builds", 0, "modules", 0, ">= 1"),
]


@pytest.mark.parametrize("sheet,i,column,value,bound", TABLE_BOUNDS,
                         ids=[f"{s}.{c}={v}" for s, i, c, v, b in TABLE_BOUNDS])
def test_table_bounds(make_case, sheet, i, column, value, bound):
    p = one_problem(make_case, setter(sheet, i, column, value))
    assert_at(p, sheet, i + 2, column, "out of range", f"{value:g}", bound)


def test_every_numeric_bound_is_tested():
    tested = {(s, c) for s, i, c, v, b in TABLE_BOUNDS} | {("settings", s) for s, v, b in SETTING_BOUNDS}
    for sh in S.SHEETS:
        for c in sh.columns:
            if c.kind in ("int", "float") and any(x is not None for x in (c.ge, c.gt, c.le, c.lt)):
                assert (sh.name, c.name) in tested, f"no bound test for {sh.name}.{c.name}"


def test_module_size_needed_when_modules_can_be_built(make_case):
    p = one_problem(make_case, setter("facilities", 0, "module_size", 0))
    assert_at(p, "facilities", 2, "module_size", "must be > 0", "max_modules is 3")


def test_module_size_zero_is_fine_without_modules(make_case):
    def change(t):
        t["facilities"][1].update(module_size=0, max_modules=0)
    case = loads(make_case, change)
    assert not case.facilities["cathode_plant"].can_build


def test_end_year_before_start_year(make_case):
    p = one_problem(make_case, setter("settings", 0, "end_year", START - 1))
    assert_at(p, "settings", SETTINGS_ROW["end_year"], "value", f"end_year {START - 1}", f"start_year {START}")


def test_one_year_horizon_is_fine(make_case):
    case = loads(make_case, setter("settings", 0, "end_year", START))
    assert case.years == (START,)
    assert any("outside the horizon" in w for w in case.warnings)


# --------------------------------------------------------------------------- horizon coverage and shares
def test_missing_demand_year(make_case):
    p = one_problem(make_case, lambda t: t["demand"].pop(1))
    assert_at(p, "demand", None, "year", "2027")


def test_missing_chemistry_mix_year(make_case):
    def change(t):
        t["chemistry_mix"] = [r for r in t["chemistry_mix"] if r["year"] != 2027]
    p = one_problem(make_case, change)
    assert_at(p, "chemistry_mix", None, "year", "2027")


def test_longer_horizon_needs_data_for_every_year(make_case):
    probs = problems_of(make_case, setter("settings", 0, "end_year", 2031))
    assert {(p.sheet, p.column) for p in probs} == {("demand", "year"), ("chemistry_mix", "year")}
    assert all("2029-2031" in p.message for p in probs)


def test_shares_not_summing_to_one(make_case):
    p = one_problem(make_case, setter("chemistry_mix", 0, "share", 0.5))
    assert_at(p, "chemistry_mix", 2, "share", "year 2026", "sum to 0.9", "rows 2, 3")


@pytest.mark.parametrize("delta,ok", [(4e-7, True), (-9e-7, True), (2e-6, False), (-0.01, False)])
def test_share_tolerance(make_case, delta, ok):
    change = setter("chemistry_mix", 2, "share", 0.7 + delta)
    if ok:
        assert loads(make_case, change).share[("LFP", 2027)] == pytest.approx(0.7 + delta)
    else:
        assert_at(one_problem(make_case, change), "chemistry_mix", 4, "share", "year 2027", "not 1")


def test_share_sum_not_reported_when_a_row_is_already_bad(make_case):
    """A share of 1.2 is one mistake: its year's sum is not reported again."""
    p = one_problem(make_case, setter("chemistry_mix", 0, "share", 1.2))
    assert p.column == "share" and "out of range" in p.message


# --------------------------------------------------------------------------- duplicate keys
def _dup(sheet, i=0, change=None):
    def mutate(t):
        if sheet == "settings":
            return None
        if sheet in V2_SHEETS:
            add_v2_sheets(t)
        rec = dict(t[sheet][i])
        if change:
            rec.update(change)
        t[sheet].append(rec)
    return mutate


DUPLICATES = [
    ("demand", "year", {"vehicles": 1}, "2026"),
    ("chemistry_mix", "year,chemistry", {"share": 0.0}, "2026, LFP"),
    ("materials", "material", {"unit": "kg"}, "cathode_LFP"),
    ("intensity", "chemistry,material", {"amount_per_gwh": 5}, "LFP, cathode_LFP"),
    ("facilities", "facility", {"product": "anode"}, "cell_plant"),
    ("imports", "material,origin", {"price_usd_per_unit": 1}, "cathode_LFP, China"),
    ("exports", "material", {"price_usd_per_unit": 1}, "cathode_LFP"),
    ("local_content", "year", {"min_local_value_share": 0.2}, "2028"),
    ("recipes", "product,input", {"amount_per_unit": 0.2}, "cathode_LFP, anode"),
    ("cell_imports", "chemistry,origin", {"price_usd_per_kwh": 1}, "LFP, China"),
    ("committed_builds", "facility,year", {"modules": 1}, "cathode_plant, 2027"),
]


@pytest.mark.parametrize("sheet,column,change,key", DUPLICATES, ids=[d[0] for d in DUPLICATES])
def test_duplicate_key(make_case, sheet, column, change, key):
    n = len(add_v2_sheets(tiny_tables())[sheet])
    p = one_problem(make_case, _dup(sheet, 0, change))
    assert_at(p, sheet, n + 2, column, "duplicate key", key, "first on row 2")


def test_every_keyed_sheet_has_a_duplicate_test():
    assert {d[0] for d in DUPLICATES} == {s.name for s in TABLE_SHEETS}


def test_duplicate_key_with_different_case_and_spaces_in_names_is_a_duplicate(make_case):
    p = one_problem(make_case, _dup("facilities", 0, {"facility": "  cell_plant "}))
    assert_at(p, "facilities", 4, "facility", "duplicate key cell_plant")


def test_composite_key_differing_in_one_part_is_not_a_duplicate(make_case):
    def change(t):
        t["imports"].append({"material": "cathode_LFP", "origin": "Indonesia", "price_usd_per_unit": 10_000})
    case = loads(make_case, change)
    assert ("cathode_LFP", "Indonesia") in case.imports


def test_duplicate_setting(tmp_path):
    path = write_case(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["settings"].append(["Discount_Rate ", 0.05])
    wb.save(path)
    with pytest.raises(InputError) as ei:
        load_case(path)
    assert len(ei.value.problems) == 1
    assert_at(ei.value.problems[0], "settings", len(SETTINGS_ROW) + 2, "key", "duplicate key discount_rate",
              f"first on row {SETTINGS_ROW['discount_rate']}")


# --------------------------------------------------------------------------- references between sheets
UNKNOWN = [
    ("intensity", 0, "material", "cathode_lfp", "unknown material 'cathode_lfp'", "did you mean 'cathode_LFP'"),
    ("intensity", 0, "chemistry", "LMFP", "unknown chemistry 'LMFP'", "chemistry_mix"),
    ("imports", 0, "material", "graphite", "unknown material 'graphite'", "sheet 'materials'"),
    ("exports", 0, "material", "cathode-LFP", "unknown material 'cathode-LFP'", "did you mean 'cathode_LFP'"),
    ("facilities", 0, "product", "Cells", "unknown product 'Cells'", "did you mean 'cells'"),
    ("facilities", 1, "product", "separator", "unknown product 'separator'", "'cells' or a material"),
]


@pytest.mark.parametrize("sheet,i,column,value,f1,f2", UNKNOWN, ids=[f"{u[0]}.{u[2]}" for u in UNKNOWN])
def test_unknown_reference(make_case, sheet, i, column, value, f1, f2):
    p = one_problem(make_case, setter(sheet, i, column, value))
    assert_at(p, sheet, i + 2, column, f1, f2)


def test_cells_is_not_a_material_name(make_case):
    probs = problems_of(make_case, lambda t: t["materials"].append(
        {"material": "cells", "unit": "GWh", "reference_price_usd_per_unit": 1}))
    assert_at(probs[0], "materials", 5, "material", "reserved")


def test_material_row_with_another_problem_is_not_reported_unknown(make_case):
    """A bad price on the cathode_LFP row must not make every reference to cathode_LFP 'unknown'."""
    p = one_problem(make_case, setter("materials", 0, "reference_price_usd_per_unit", -5))
    assert_at(p, "materials", 2, "reference_price_usd_per_unit", "out of range")


def test_blank_material_name_does_not_make_references_unknown(make_case):
    p = one_problem(make_case, setter("materials", 0, "material", None))
    assert_at(p, "materials", 2, "material", "blank")


# --------------------------------------------------------------------------- settings forms and defaults
@pytest.mark.parametrize("value,expected", [
    (True, True), (False, False), ("TRUE", True), ("false", False), ("yes", True), ("No", False),
    (0, False), (1, True), ("0", False), ("1", True), (" y ", True), ("off", False),
])
def test_bool_setting_forms(make_case, value, expected):
    assert loads(make_case, setter("settings", 0, "allow_unmet_demand", value)).settings.allow_unmet_demand is expected


def test_defaults(make_case):
    def change(t):
        t["settings"] = {"start_year": 2026, "end_year": 2028}
        t["facilities"] = [{"facility": "cell_plant", "product": "cells", "module_size": 1, "max_modules": 2}]
        t["imports"] = [{"material": m, "origin": "X", "price_usd_per_unit": 1} for m in ("cathode_LFP", "cathode_NMC", "anode")]
        t["exports"] = [{"material": "anode", "price_usd_per_unit": 1}]
        t["materials"] = [{"material": r["material"], "reference_price_usd_per_unit": 1} for r in t["materials"]]
    case = loads(make_case, change)
    st = case.settings
    assert (st.base_year, st.discount_rate, st.allow_unmet_demand, st.unmet_penalty_usd_per_kwh,
            st.mip_rel_gap, st.time_limit_s) == (2026, 0.08, True, 1000.0, 1e-4, 600.0)
    f = case.facilities["cell_plant"]
    assert (f.site, f.existing_capacity, f.existing_from_year, f.earliest_online_year, f.lead_time_years,
            f.lifetime_years, f.capex_usd_per_module, f.fixed_om_usd_per_module_year,
            f.existing_fixed_om_usd_per_year, f.variable_cost_usd_per_unit, f.opening_cost_usd,
            f.ramp_up_first_year) == ("", 0.0, 2026, 2026, 0, 25, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    rt = case.imports[("anode", "X")]
    assert (rt.price_escalation_per_year, rt.freight_usd_per_unit, rt.tariff_rate, rt.max_per_year,
            rt.first_year) == (0.0, 0.0, 0.0, None, 2026)
    assert case.exports["anode"].max_per_year is None
    assert case.materials["anode"].unit == ""


def test_blank_optional_cells_take_defaults(make_case):
    def change(t):
        t["facilities"][0].update(lifetime_years=None, ramp_up_first_year=None, earliest_online_year=None)
        t["settings"].update(discount_rate=None, mip_rel_gap=None)
    case = loads(make_case, change)
    f = case.facilities["cell_plant"]
    assert (f.lifetime_years, f.ramp_up_first_year, f.earliest_online_year) == (25, 1.0, START)
    assert (case.settings.discount_rate, case.settings.mip_rel_gap) == (0.08, 1e-4)


def test_base_year_default_follows_start_year(make_case):
    case = loads(make_case, lambda t: t["settings"].update(start_year=2027) or t["demand"].pop(0) or
                 t.__setitem__("chemistry_mix", t["chemistry_mix"][2:]))
    assert case.settings.base_year == 2027 and case.years == (2027, 2028)


# --------------------------------------------------------------------------- names, spaces, extras
def test_names_match_case_insensitively_with_spaces(make_case):
    def change(t):
        out = {}
        for name, data in t.items():
            fancy = f"  {name.upper()} " if name != "settings" else " Settings"
            if name == "settings":  # written as a table so that the header can be spelt differently
                out[fancy] = [{" KEY": f" {k.upper()} ", "Value ": v} for k, v in data.items()]
            else:
                out[fancy] = [{f" {k.title()}  ": v for k, v in rec.items()} for rec in data]
        t.clear()
        t.update(out)
    case = loads(make_case, change)
    ref = loads(make_case)
    assert case.settings == ref.settings
    assert dict(case.facilities) == dict(ref.facilities)
    assert dict(case.share) == dict(ref.share)


def test_text_cells_are_trimmed(make_case):
    def change(t):
        for rec in t["chemistry_mix"]:
            rec["chemistry"] = f"  {rec['chemistry']}\u00a0"
        t["facilities"][0]["product"] = " cells "
    case = loads(make_case, change)
    assert case.chemistries == ("LFP", "NMC")
    assert case.facilities["cell_plant"].product == "cells"


def test_extra_columns_and_sheets_are_ignored(make_case):
    def change(t):
        for rec in t["demand"]:
            rec["source"] = "OEM survey"
            rec["note"] = None
        t["facilities"][0]["comment"] = "=not a formula, just text"
        t["notes"] = [{"anything": "goes", "x": float("nan")}, {"anything": dt.datetime(2020, 1, 1)}]
        t["settings"]["my_extension_setting"] = "whatever"
    case = loads(make_case, change)
    assert case.vehicles[2026] == 20_000
    assert any("my_extension_setting" in w for w in case.warnings)


def test_numeric_names_are_text(make_case):
    def change(t):
        t["facilities"][1]["facility"] = 123
        t["imports"][0]["origin"] = 86.0
    case = loads(make_case, change)
    assert "123" in case.facilities
    assert ("cathode_LFP", "86") in case.imports


def test_blank_rows_and_a_header_below_blank_rows(tmp_path):
    path = write_case(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["demand"]
    ws.insert_rows(1, amount=2)  # header now on row 3, records on rows 4-6
    ws.insert_rows(5)  # a blank row inside the table: records on rows 4, 6, 7
    ws.cell(row=7, column=2, value=-5)
    wb.save(path)
    with pytest.raises(InputError) as ei:
        load_case(path)
    assert len(ei.value.problems) == 1
    assert_at(ei.value.problems[0], "demand", 7, "vehicles", "out of range")


def test_header_only_optional_sheet_is_empty(make_case):
    case = loads(make_case, lambda t: t.__setitem__("exports", [{"material": None, "price_usd_per_unit": None}]))
    assert not case.exports


def _emptied(tmp_path, sheet):
    path = write_case(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    ws.delete_rows(1, ws.max_row)
    wb.save(path)
    return path


def test_entirely_empty_optional_sheet_is_empty(tmp_path):
    assert not load_case(_emptied(tmp_path, "local_content")).local_content_target


def test_entirely_empty_required_sheet(tmp_path):
    with pytest.raises(InputError) as ei:
        load_case(_emptied(tmp_path, "demand"))
    assert len(ei.value.problems) == 1
    assert_at(ei.value.problems[0], "demand", None, None, "sheet is empty", "year, vehicles, kwh_per_vehicle")


# --------------------------------------------------------------------------- numbers typed as text
@pytest.mark.parametrize("text,value", [
    ("1e-4", 1e-4), (" 0.05 ", 0.05), ("5%", 0.05), ("12.5 %", 0.125), ("1,000", 1000.0),
    ("1,000,000.5", 1_000_000.5), ("\u22121", -1.0), (".5", 0.5), ("+3", 3.0),
])
def test_number_text_forms(text, value):
    assert coerce(text, "float") == pytest.approx(value)


@pytest.mark.parametrize("text", ["1,5", "1.000,5", "1,00", "12,5%", "1 000", "5 pct", "nan", "Infinity",
                                  "1e999", "0x10", "1_000", "", "--1"])
def test_number_text_refused(text):
    if text == "":
        assert coerce(None, "float") is None
        return
    with pytest.raises(_Bad):
        coerce(text, "float")


def test_percentage_text_in_a_sheet(make_case):
    case = loads(make_case, setter("settings", 0, "discount_rate", "5%"))
    assert case.settings.discount_rate == pytest.approx(0.05)


@pytest.mark.parametrize("value", [0, 1, -7, 2026, 10**12, 0.0, 1.5, -2.25e-9, 1e300, 3.0])
def test_coerce_round_trips_numbers(value):
    assert coerce(value, "float") == value
    assert coerce(repr(value), "float") == float(value)
    if float(value).is_integer() and abs(value) <= 2**53:
        assert coerce(value, "int") == int(value)
        assert coerce(str(int(value)), "int") == int(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 10**400, 2.0**60])
def test_coerce_refuses_non_finite_and_huge(value):
    with pytest.raises(_Bad):
        coerce(value, "int")
    if value != 2.0**60:
        with pytest.raises(_Bad):
            coerce(value, "float")


# --------------------------------------------------------------------------- years outside the horizon
def test_rows_outside_the_horizon_are_ignored_with_a_warning(make_case):
    def change(t):
        t["demand"].append({"year": 2035, "vehicles": 1, "kwh_per_vehicle": 1})
        t["chemistry_mix"].append({"year": 2024, "chemistry": "LFP", "share": 0.3})
        t["local_content"].append({"year": 2040, "min_local_value_share": 0.9})
    case = loads(make_case, change)
    assert 2035 not in case.vehicles and 2040 not in case.local_content_target
    assert ("LFP", 2024) not in case.share
    assert len(case.warnings) == 3
    assert any("sheet 'demand', row 5: year 2035 is outside the horizon 2026-2028" in w for w in case.warnings)
    assert any("sheet 'chemistry_mix', row 8" in w for w in case.warnings)
    assert any("sheet 'local_content', row 3" in w for w in case.warnings)


def test_shortened_horizon_by_override_style_edit(make_case):
    """Planners shorten the horizon and keep the data of later years: that must still load."""
    case = loads(make_case, setter("settings", 0, "end_year", 2027))
    assert case.years == (2026, 2027)
    assert sum("outside the horizon" in w for w in case.warnings) == 1 + 2 + 1  # demand, mix x2, local


def test_facility_years_far_outside_are_refused(make_case):
    probs = problems_of(make_case, lambda t: (t["facilities"][0].update(earliest_online_year=1800),
                                              t["imports"][0].update(first_year=3000)))
    assert {(p.sheet, p.row, p.column) for p in probs} == {
        ("facilities", 2, "earliest_online_year"), ("imports", 2, "first_year")}


# --------------------------------------------------------------------------- all problems at once
def test_all_problems_are_reported_at_once(make_case):
    def change(t):
        t["settings"]["discount_rate"] = 1.5  # settings row 4
        t["demand"][1]["vehicles"] = "many"  # demand row 3
        t["chemistry_mix"][4]["share"] = 0.5  # 2028 shares sum to 0.7: row 6
        t["intensity"][3]["material"] = "graphite"  # intensity row 5
        t["facilities"][0]["ramp_up_first_year"] = 0  # facilities row 2
    probs = problems_of(make_case, change)
    assert len(probs) == 5, "\n".join(map(str, probs))
    got = {(p.sheet, p.row, p.column) for p in probs}
    assert got == {("settings", 4, "value"), ("demand", 3, "vehicles"), ("chemistry_mix", 6, "share"),
                   ("intensity", 5, "material"), ("facilities", 2, "ramp_up_first_year")}


def test_bad_horizon_does_not_hide_other_problems(make_case):
    def change(t):
        t["settings"].pop("start_year")
        t["imports"][0]["material"] = "unobtainium"
        t["facilities"][0]["lifetime_years"] = 0
    probs = problems_of(make_case, change)
    assert {(p.sheet, p.column) for p in probs} == {("settings", "key"), ("imports", "material"),
                                                    ("facilities", "lifetime_years")}


def test_report_lists_every_problem():
    err = InputError([Problem("demand", 3, "vehicles", "x"), Problem("settings", None, "key", "y")])
    text = err.report()
    assert text.startswith("2 problems in the input:")
    assert "sheet 'demand', row 3, column 'vehicles': x" in text


# --------------------------------------------------------------------------- formulas and merged cells
def test_formula_without_saved_value(tmp_path):
    path = write_case(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["demand"]["B3"] = "=B2*2"
    wb["demand"]["E3"] = "=1+1"  # an extra, unnamed column: ignored
    wb.save(path)
    with pytest.raises(InputError) as ei:
        load_case(path)
    assert len(ei.value.problems) == 1, ei.value.report()
    assert_at(ei.value.problems[0], "demand", 3, "vehicles", "formula '=B2*2' has no saved value", "save it in Excel")


def test_formula_in_an_extra_sheet_is_ignored(tmp_path):
    path = write_case(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("notes")["A1"] = "=SUM(B1:B9)"
    wb.save(path)
    assert load_case(path).years == (2026, 2027, 2028)


def test_merged_cells(tmp_path):
    path = write_case(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["facilities"].merge_cells("C2:C3")  # site of both facilities
    wb["materials"].merge_cells("B3:C3")
    wb.save(path)
    with pytest.raises(InputError) as ei:
        load_case(path)
    got = {(p.sheet, p.row, p.column): p.message for p in ei.value.problems}
    assert len(got) == 2, ei.value.report()
    assert "merged cells C2:C3; unmerge them" in got[("facilities", 2, "site")]
    assert "merged cells B3:C3; unmerge them" in got[("materials", 3, "unit")]


# --------------------------------------------------------------------------- build_case without a file
def test_build_case_accepts_a_raw_workbook():
    def sheet(name, header, rows):
        return RawSheet(name, tuple(header), tuple(map(tuple, rows)), tuple(range(2, 2 + len(rows))))
    t = tiny_tables()
    sheets = {"settings": sheet("settings", ["key", "value"], list(t.pop("settings").items()))}
    for name, recs in t.items():
        header = list(recs[0])
        sheets[name] = sheet(name, header, [[r.get(h) for h in header] for r in recs])
    case = build_case(RawWorkbook(sheets=sheets))
    assert case.years == (2026, 2027, 2028)
    assert math.isclose(sum(case.share[(k, 2026)] for k in case.chemistries), 1.0)
