"""Overrides (--set and the scenarios sheet) act on the raw workbook, before validation."""
from __future__ import annotations

import copy
import math

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from model import overrides as O
from model.data import build_case
from model.errors import InputError
from model.workbook import RawWorkbook, read_workbook
from model.xlsx_util import write_input_workbook

YEARS = (2026, 2027, 2028)


def tables(**extra):
    t = {
        "settings": {"start_year": 2026, "end_year": 2028, "discount_rate": 0.08},
        "demand": [{"year": y, "vehicles": 100_000, "kwh_per_vehicle": 60} for y in YEARS],
        "chemistry_mix": [{"year": y, "chemistry": k, "share": s} for y in YEARS for k, s in (("LFP", 0.6), ("NMC", 0.4))],
        "materials": [
            {"material": "cathode_LFP", "unit": "t", "reference_price_usd_per_unit": 15_000},
            {"material": "cathode_NMC", "unit": "t", "reference_price_usd_per_unit": 30_000},
            {"material": "electrolyte", "unit": "t", "reference_price_usd_per_unit": 5_000},
        ],
        "intensity": [
            {"chemistry": "LFP", "material": "cathode_LFP", "amount_per_gwh": 2000},
            {"chemistry": "NMC", "material": "cathode_NMC", "amount_per_gwh": 1500},
            {"chemistry": "LFP", "material": "electrolyte", "amount_per_gwh": 1000},
            {"chemistry": "NMC", "material": "electrolyte", "amount_per_gwh": 1000},
        ],
        "facilities": [
            {"facility": "cell_plant", "product": "cells", "module_size": 8, "max_modules": 4,
             "capex_usd_per_module": 4e8, "lifetime_years": 20},
            {"facility": "cathode_plant", "product": "cathode_LFP", "module_size": 20_000, "max_modules": 3,
             "capex_usd_per_module": 1e8},
            # an existing plant with blank capex (default 0) and blank lifetime (default 25)
            {"facility": "old_plant", "product": "electrolyte", "existing_capacity": 500},
        ],
        "imports": [
            {"material": "cathode_LFP", "origin": "China", "price_usd_per_unit": 15_000, "tariff_rate": 0.025},
            {"material": "cathode_LFP", "origin": "Korea", "price_usd_per_unit": 16_000, "tariff_rate": 0.0},
            {"material": "cathode_NMC", "origin": "China", "price_usd_per_unit": 28_000, "tariff_rate": 0.025,
             "max_per_year": 1000},
            {"material": "electrolyte", "origin": "China", "price_usd_per_unit": 5_000},
        ],
    }
    t.update(extra)
    return t


@pytest.fixture
def raw(tmp_path):
    return read_workbook(write_input_workbook(tmp_path / "case.xlsx", tables()))


@pytest.fixture(scope="module")
def shared_raw(tmp_path_factory):
    return read_workbook(write_input_workbook(tmp_path_factory.mktemp("ov") / "case.xlsx", tables()))


def apply(raw, *texts):
    return O.apply_overrides_logged(raw, [O.parse_override(t) for t in texts])


def cell(raw, sheet, keys: dict, column):
    sh = raw.sheet(sheet)
    for _, rec in sh.records():
        if all(rec.get(k) == v for k, v in keys.items()):
            return rec.get(column)
    raise KeyError(keys)


def messages(exc: InputError) -> str:
    return "\n".join(str(p) for p in exc.problems)


# --------------------------------------------------------------------------- parsing
@pytest.mark.parametrize("text, sheet, keys, column, op, value", [
    ("settings.discount_rate=0.05", "settings", ("discount_rate",), "value", "=", 0.05),
    ("settings[discount_rate].value=0.05", "settings", ("discount_rate",), "value", "=", 0.05),
    (" Settings . Discount_Rate = 0.05 ", "settings", ("discount_rate",), "value", "=", 0.05),
    ("imports[cathode_LFP,China].tariff_rate=0.25", "imports", ("cathode_LFP", "China"), "tariff_rate", "=", 0.25),
    ("imports[ cathode_LFP , China ].Tariff_Rate*=2", "imports", ("cathode_LFP", "China"), "tariff_rate", "*=", 2),
    ("facilities[*].capex_usd_per_module*=1.2", "facilities", ("*",), "capex_usd_per_module", "*=", 1.2),
    ("imports[*,China].tariff_rate+=0.1", "imports", ("*", "China"), "tariff_rate", "+=", 0.1),
    ("imports[*,*].tariff_rate+=0.1", "imports", ("*",), "tariff_rate", "+=", 0.1),
    ("demand[2030].vehicles+=-5", "demand", ("2030",), "vehicles", "+=", -5),
    ('facilities["plant, A"].site="Tanger Med"', "facilities", ("plant, A",), "site", "=", "Tanger Med"),
    ("facilities[x].product=cells", "facilities", ("x",), "product", "=", "cells"),
    ("settings.allow_unmet_demand=FALSE", "settings", ("allow_unmet_demand",), "value", "=", False),
    ("imports[a,b].tariff_rate=25%", "imports", ("a", "b"), "tariff_rate", "=", 0.25),
    ('imports[a,b].max_per_year=""', "imports", ("a", "b"), "max_per_year", "=", None),
    ("settings.mip_rel_gap=1e-3", "settings", ("mip_rel_gap",), "value", "=", 1e-3),
])
def test_parse_forms(text, sheet, keys, column, op, value):
    ov = O.parse_override(text)
    assert (ov.sheet, ov.keys, ov.column, ov.op, ov.value) == (sheet, keys, column, op, value)
    assert type(ov.value) is type(value)
    assert ov.origin == "--set" and ov.text == text.strip()


def test_override_built_directly_parses_its_address():
    ov = O.Override("imports[cathode_LFP,China].tariff_rate", "=", 0.3, "test")
    assert (ov.sheet, ov.keys, ov.column) == ("imports", ("cathode_LFP", "China"), "tariff_rate")
    assert ov.text == "imports[cathode_LFP,China].tariff_rate=0.3"
    with pytest.raises(ValueError):
        O.Override("foo", "=", 1, "test")


@pytest.mark.parametrize("text, fragment", [
    ("foo", "no '='"),
    ("a.b=", "no value after '='"),
    ("a.b*=", "no value after '*='"),
    ("=5", "no address"),
    ("facilities.capex_usd_per_module=5", "facilities[*].capex_usd_per_module"),
    ("facilities[x]capex=5", "expected '.column'"),
    ("facilities[x.capex=5", "unclosed '['"),
    ("facilities[x,].capex=5", "empty key"),
    ("facilities[x].=5", "no column"),
    ("settings.discount_rate*=abc", "'*=' needs a number"),
    ("settings.discount_rate+=true", "'+=' needs a number"),
    ("settings.discount_rate-=0.01", "unknown operator '-='"),
    ("settings.discount_rate=  =A1", "formulas are not values"),
    ("settings[*].value=1", "settings[*] is not allowed"),
])
def test_parse_errors(text, fragment):
    with pytest.raises(InputError) as ei:
        O.parse_override(text)
    msg = messages(ei.value)
    assert fragment in msg
    assert f"--set {text.strip()!r}" in msg or f"--set {text!r}" in msg


def test_parse_overrides_reports_every_bad_one():
    with pytest.raises(InputError) as ei:
        O.parse_overrides(["foo", "settings.discount_rate=0.05", "a.b="])
    assert len(ei.value.problems) == 2


# --------------------------------------------------------------------------- applying
def test_set_scale_add_and_log(raw):
    new, log = apply(raw,
                     "imports[cathode_LFP,China].tariff_rate=0.25",
                     "facilities[cell_plant].capex_usd_per_module*=1.5",
                     "demand[2027].vehicles+=5000")
    assert cell(new, "imports", {"material": "cathode_LFP", "origin": "China"}, "tariff_rate") == 0.25
    assert cell(new, "facilities", {"facility": "cell_plant"}, "capex_usd_per_module") == pytest.approx(6e8)
    assert cell(new, "demand", {"year": 2027}, "vehicles") == 105_000
    assert [(r["address"], r["old"], r["new"]) for r in log] == [
        ("imports[cathode_LFP,China].tariff_rate", 0.025, 0.25),
        ("facilities[cell_plant].capex_usd_per_module", 4e8, pytest.approx(6e8)),
        ("demand[2027].vehicles", 100_000, 105_000),
    ]
    rec = log[0]
    assert rec["sheet"] == "imports" and rec["column"] == "tariff_rate" and rec["origin"] == "--set"
    assert rec["excel_row"] == 2  # first data row of the imports sheet
    assert log[2]["excel_row"] == 3  # 2027 is the second data row of demand
    assert O.describe(log)[0] == "imports[cathode_LFP,China].tariff_rate = 0.25 (was 0.025)  [--set]"


def test_the_input_workbook_is_not_changed(raw):
    before = copy.deepcopy(raw.sheets)
    apply(raw, "imports[*].tariff_rate*=3", "settings.base_year=2026", "facilities[cell_plant].opening_cost_usd=5")
    assert raw.sheets == before


def test_wildcard_every_row(raw):
    new, log = apply(raw, "facilities[*].capex_usd_per_module*=1.2")
    assert [r["address"] for r in log] == ["facilities[cell_plant].capex_usd_per_module",
                                           "facilities[cathode_plant].capex_usd_per_module",
                                           "facilities[old_plant].capex_usd_per_module"]
    # old_plant's blank capex counts as its schema default, 0
    assert [r["new"] for r in log] == [pytest.approx(4.8e8), pytest.approx(1.2e8), 0]
    assert log[2]["old"] is None


def test_partial_wildcard_on_composite_key(raw):
    new, log = apply(raw, "imports[*,China].tariff_rate+=0.1")
    assert [r["address"] for r in log] == ["imports[cathode_LFP,China].tariff_rate",
                                           "imports[cathode_NMC,China].tariff_rate",
                                           "imports[electrolyte,China].tariff_rate"]
    assert [r["new"] for r in log] == [pytest.approx(0.125), pytest.approx(0.125), pytest.approx(0.1)]
    assert cell(new, "imports", {"origin": "Korea"}, "tariff_rate") == 0.0
    new, log = apply(raw, "chemistry_mix[2027,*].share*=1")
    assert len(log) == 2 and {r["excel_row"] for r in log} == {4, 5}


def test_blank_without_default_left_alone_by_wildcard_but_refused_when_named(raw):
    # max_per_year blank = no limit: scaling all routes keeps "no limit"
    new, log = apply(raw, "imports[*].max_per_year*=0.5")
    assert [(r["address"], r["new"]) for r in log] == [("imports[cathode_NMC,China].max_per_year", 500.0)]
    assert cell(new, "imports", {"material": "electrolyte"}, "max_per_year") is None
    with pytest.raises(InputError) as ei:
        apply(raw, "imports[electrolyte,China].max_per_year*=2")
    (p,) = ei.value.problems
    assert (p.sheet, p.row, p.column) == ("imports", 5, "max_per_year")
    assert "cell is blank; use = to set it" in p.message
    # a column the workbook lacks is added; its cells are blank, first_year defaults to start_year
    with pytest.raises(InputError, match="cell is blank; use = to set it"):
        apply(raw, "imports[cathode_LFP,Korea].first_year+=1")


def test_key_matching_numbers_and_case(raw):
    for key in ("2027", "2027.0", "2.027e3"):
        _, log = apply(raw, f"demand[{key}].kwh_per_vehicle=70")
        assert [r["excel_row"] for r in log] == [3]
    _, log = apply(raw, "imports[CATHODE_lfp,china].tariff_rate=0.3")  # no exact match: ignore case
    assert log[0]["address"] == "imports[cathode_LFP,China].tariff_rate"


def test_key_matching_prefers_exact_and_refuses_ambiguity(tmp_path):
    t = tables()
    t["facilities"] = t["facilities"] + [{"facility": "Cell_Plant", "product": "cells", "module_size": 1, "max_modules": 1}]
    raw = read_workbook(write_input_workbook(tmp_path / "c.xlsx", t))
    _, log = apply(raw, "facilities[Cell_Plant].max_modules=2")
    assert [r["excel_row"] for r in log] == [5]
    with pytest.raises(InputError, match="ambiguous ignoring case"):
        apply(raw, "facilities[CELL_PLANT].max_modules=2")


def test_settings_short_and_long_form_and_added_key(raw):
    new, log = apply(raw, "settings.discount_rate=0.05", "Settings[END_YEAR].Value=2027")
    assert build_case(new).settings.discount_rate == 0.05
    assert build_case(new).years == (2026, 2027)
    assert [r["address"] for r in log] == ["settings.discount_rate", "settings.end_year"]
    # absent setting of the schema: '=' adds a row after the last one
    new, log = apply(raw, "settings.mip_rel_gap=0.01")
    assert log[0]["old"] is None and log[0].get("added") and log[0]["excel_row"] == 5
    assert build_case(new).settings.mip_rel_gap == 0.01
    assert O.describe(log) == ["settings.mip_rel_gap = 0.01 (added)  [--set]"]
    # absent setting with a numeric default scales its default
    new, _ = apply(raw, "settings.time_limit_s*=2")
    assert build_case(new).settings.time_limit_s == 1200.0
    with pytest.raises(InputError, match="cell is blank"):  # base_year defaults to start_year: not a number
        apply(raw, "settings.base_year+=1")


def test_column_missing_from_header_is_added(raw):
    assert raw.sheet("facilities").col_index("opening_cost_usd") is None
    new, log = apply(raw, "facilities[cathode_plant].opening_cost_usd=2e6")
    sh = new.sheet("facilities")
    assert sh.col_index("opening_cost_usd") == len(sh.header) - 1
    assert all(len(r) == len(sh.header) for r in sh.rows)
    case = build_case(new)
    assert case.facilities["cathode_plant"].opening_cost_usd == 2e6
    assert case.facilities["cell_plant"].opening_cost_usd == 0.0


def test_overridden_workbook_builds_with_changed_values(raw):
    base = build_case(raw)
    new = O.apply_overrides(raw, O.parse_overrides([
        "imports[cathode_LFP,China].tariff_rate=0.25",
        "facilities[*].capex_usd_per_module*=1.2",
        "demand[2028].vehicles+=20000",
        "settings.discount_rate=0.05",
        "facilities[old_plant].lifetime_years*=2",
    ]))
    case = build_case(new)
    assert case.imports[("cathode_LFP", "China")].tariff_rate == 0.25
    assert case.facilities["cell_plant"].capex_usd_per_module == pytest.approx(1.2 * base.facilities["cell_plant"].capex_usd_per_module)
    assert case.vehicles[2028] == base.vehicles[2028] + 20000
    assert case.settings.discount_rate == 0.05
    assert case.facilities["old_plant"].lifetime_years == 50  # blank = default 25, doubled
    assert case.landed_cost("cathode_LFP", "China", 2026) > base.landed_cost("cathode_LFP", "China", 2026)


def test_out_of_range_value_is_caught_by_build_case(raw):
    new, log = apply(raw, "settings.discount_rate=1.5")
    with pytest.raises(InputError) as ei:
        build_case(new)
    (p,) = ei.value.problems
    assert (p.sheet, p.column) == ("settings", "value") and "discount_rate" in p.message
    assert p.row == log[0]["excel_row"]


def test_type_error_surfaces_from_build_case_with_location(raw):
    new, log = apply(raw, "facilities[cathode_plant].max_modules=abc")
    with pytest.raises(InputError) as ei:
        build_case(new)
    (p,) = ei.value.problems
    assert (p.sheet, p.row, p.column) == ("facilities", 3, "max_modules")
    assert "'abc'" in p.message
    # explain() points the problem at the override that wrote the cell
    (q,) = O.explain(ei.value, log).problems
    assert "--set 'facilities[cathode_plant].max_modules=abc'" in q.message


def test_scaling_an_int_column_to_a_fraction_is_caught_by_build_case(raw):
    new, _ = apply(raw, "facilities[cell_plant].max_modules*=1.3")
    with pytest.raises(InputError, match="5.2 is not a whole number"):
        build_case(new)


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("text, sheet, row, column, fragment", [
    ("nosuch[x].y=1", "nosuch", None, "y", "unknown sheet 'nosuch'"),
    ("facility[x].site=1", "facility", None, "site", "did you mean 'facilities'"),
    ("exports[x].price_usd_per_unit=1", "exports", None, "price_usd_per_unit", "sheet 'exports' is not in the workbook"),
    ("facilities[cell_plant].capex=1", "facilities", None, "capex", "unknown column 'capex'"),
    ("facilities[no_plant].capex_usd_per_module=1", "facilities", None, "capex_usd_per_module", "cannot add one"),
    ("imports[cathode_LFP].tariff_rate=1", "imports", None, "tariff_rate", "give 2 key parts"),
    ("imports[cathode_LFP,Chile].tariff_rate=1", "imports", None, "tariff_rate", "did you mean 'cathode_LFP,China'"),
    ("facilities[cell_plant].product*=2", "facilities", 2, "product", "'cells' is not a number"),
    ("settings.discount_rat=0.1", "settings", None, "value", "did you mean 'discount_rate'"),
    ("settings[discount_rate].key=x", "settings", None, "key", "cannot be overridden"),
    ("scenarios[x].value=1", "scenarios", None, "value", "cannot be overridden"),
])
def test_apply_errors(raw, text, sheet, row, column, fragment):
    with pytest.raises(InputError) as ei:
        apply(raw, text)
    (p,) = ei.value.problems
    assert (p.sheet, p.row, p.column) == (sheet, row, column)
    assert fragment in p.message
    assert p.message.startswith(f"--set '{text}': ")


def test_star_on_empty_sheet(tmp_path):
    raw = read_workbook(write_input_workbook(tmp_path / "c.xlsx", tables(local_content=[{"year": None, "min_local_value_share": None}])))
    assert raw.sheet("local_content") is not None and not raw.sheet("local_content").rows
    with pytest.raises(InputError, match="has no rows"):
        apply(raw, "local_content[*].min_local_value_share=0.2")


def test_every_bad_override_is_reported_together(raw):
    good = "settings.discount_rate=0.05"
    bad = ["nosuch[x].y=1", "facilities[cell_plant].capex=1", "demand[1999].vehicles=1",
           "facilities[cell_plant].product+=1", good]
    with pytest.raises(InputError) as ei:
        apply(raw, *bad)
    assert len(ei.value.problems) == 4
    assert [p.sheet for p in ei.value.problems] == ["nosuch", "facilities", "demand", "facilities"]
    # a wildcard reports every bad cell of its one override
    t = raw.sheet("facilities")
    with pytest.raises(InputError) as ei:
        apply(raw, "facilities[*].product*=2")
    assert [p.row for p in ei.value.problems] == list(t.excel_rows)


def test_overrides_apply_in_order(raw):
    new, log = apply(raw, "demand[2026].vehicles=10", "demand[*].vehicles*=2", "demand[2026].vehicles+=1")
    assert cell(new, "demand", {"year": 2026}, "vehicles") == 21
    assert cell(new, "demand", {"year": 2027}, "vehicles") == 200_000
    assert len(log) == 5


def test_extra_sheet_uses_its_header(tmp_path):
    raw = read_workbook(write_input_workbook(tmp_path / "c.xlsx", tables(notes=[{"topic": "a", "text": "x", "n": 1}])))
    new, log = apply(raw, "notes[a].n*=3", "Notes[A].Text=y")
    assert cell(new, "notes", {"topic": "a"}, "n") == 3 and cell(new, "notes", {"topic": "a"}, "text") == "y"
    with pytest.raises(InputError, match="unknown column 'zz'"):
        apply(raw, "notes[a].zz=1")


# --------------------------------------------------------------------------- scenarios sheet
def scenario_rows():
    return [
        {"scenario": "high_tariff", "address": "imports[*,China].tariff_rate", "operation": "=", "value": 0.25},
        {"scenario": "high_tariff", "address": "settings.discount_rate", "operation": "set", "value": "0.1"},
        {"scenario": "cheap_capex", "address": "facilities[*].capex_usd_per_module", "operation": "scale", "value": 0.8},
        {"scenario": "high_tariff", "address": "demand[2026].vehicles", "operation": "+=", "value": 1000},
        {"scenario": "Mixed", "address": "imports[cathode_LFP,Korea].tariff_rate", "operation": "ADD", "value": "5%"},
    ]


@pytest.fixture
def scen_raw(tmp_path):
    return read_workbook(write_input_workbook(tmp_path / "s.xlsx", tables(scenarios=scenario_rows())))


def test_scenario_names_and_overrides(scen_raw):
    assert O.scenario_names(scen_raw) == ["high_tariff", "cheap_capex", "Mixed"]
    ovs = O.scenario_overrides(scen_raw, "high_tariff")
    assert [(o.address, o.op, o.value, o.origin) for o in ovs] == [
        ("imports[*,China].tariff_rate", "=", 0.25, "sheet 'scenarios', row 2"),
        ("settings.discount_rate", "=", 0.1, "sheet 'scenarios', row 3"),
        ("demand[2026].vehicles", "+=", 1000, "sheet 'scenarios', row 5"),
    ]
    assert [(o.op, o.value) for o in O.scenario_overrides(scen_raw, "mixed")] == [("+=", 0.05)]
    assert O.check_scenarios(scen_raw) == []
    assert O.scenario_names(without_scenarios(scen_raw)) == []


def without_scenarios(raw):
    return RawWorkbook({k: v for k, v in raw.sheets.items() if k != "scenarios"})


def test_unknown_scenario_lists_the_available_ones(scen_raw):
    with pytest.raises(InputError) as ei:
        O.scenario_overrides(scen_raw, "high_tarif")
    (p,) = ei.value.problems
    assert p.sheet == "scenarios" and "unknown scenario 'high_tarif'" in p.message
    assert "did you mean 'high_tariff'" in p.message and "high_tariff, cheap_capex, Mixed" in p.message
    with pytest.raises(InputError, match="no 'scenarios' sheet"):
        O.scenario_overrides(without_scenarios(scen_raw), "x")


def test_bad_scenario_rows(tmp_path):
    rows = scenario_rows() + [
        {"scenario": "high_tariff", "address": None, "operation": "=", "value": 1},
        {"scenario": "high_tariff", "address": "settings.discount_rate", "operation": "times", "value": 2},
        {"scenario": "high_tariff", "address": "facilities[x].capex_usd_per_module", "operation": "*=", "value": "abc"},
        {"scenario": "high_tariff", "address": "foo", "operation": "=", "value": 1},
        {"scenario": "high_tariff", "address": "demand[2026].vehicles", "operation": "*=", "value": 2},
        {"scenario": "cheap_capex", "address": "demand[2026].vehicles=3", "operation": "=", "value": 3},
    ]
    raw = read_workbook(write_input_workbook(tmp_path / "s.xlsx", tables(scenarios=rows)))
    with pytest.raises(InputError) as ei:
        O.scenario_overrides(raw, "high_tariff")
    got = [(p.sheet, p.row, p.column) for p in ei.value.problems]
    assert got == [("scenarios", 7, "address"), ("scenarios", 8, "operation"), ("scenarios", 9, "value"),
                   ("scenarios", 10, "address"), ("scenarios", 11, "address")]
    text = messages(ei.value)
    assert "address is blank" in text and "unknown operation 'times'" in text and "already changes" in text
    assert len(O.check_scenarios(raw)) == 6  # the cheap_capex row too
    assert len(O.scenario_overrides(raw, "Mixed")) == 1  # other scenarios' bad rows do not block this one


def test_scenario_then_set_command_line_wins(scen_raw):
    new, log = O.apply_run(scen_raw, "high_tariff", ["settings.discount_rate=0.03", "imports[cathode_LFP,China].tariff_rate*=2"])
    case = build_case(new)
    assert case.settings.discount_rate == 0.03
    assert case.imports[("cathode_LFP", "China")].tariff_rate == 0.5
    assert case.imports[("cathode_NMC", "China")].tariff_rate == 0.25
    assert case.vehicles[2026] == 101_000
    assert [r["origin"] for r in log] == ["sheet 'scenarios', row 2"] * 3 + ["sheet 'scenarios', row 3",
                                                                             "sheet 'scenarios', row 5", "--set", "--set"]


def test_run_reports_scenario_and_set_problems_together(scen_raw):
    with pytest.raises(InputError) as ei:
        O.apply_run(scen_raw, "nope", ["foo", "demand[1999].vehicles=1", "settings.discount_rate=0.05"])
    assert [p.sheet for p in ei.value.problems] == ["scenarios", "-", "demand"]
    with pytest.raises(InputError):
        O.run_overrides(scen_raw, None, ["foo"])
    assert [o.origin for o in O.run_overrides(scen_raw, "Mixed", ["settings.discount_rate=0.05"])] == [
        "sheet 'scenarios', row 6", "--set"]


def test_scenario_override_problem_names_its_row(scen_raw):
    ov = O.Override("facilities[nope].capex_usd_per_module", "=", 1, "sheet 'scenarios', row 9")
    with pytest.raises(InputError) as ei:
        O.apply_overrides(scen_raw, [ov])
    assert ei.value.problems[0].message.startswith("sheet 'scenarios', row 9 'facilities[nope].capex_usd_per_module=1': ")


# --------------------------------------------------------------------------- properties
@hsettings(max_examples=60, deadline=None)
@given(a=st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False))
def test_scale_then_unscale_is_identity(shared_raw, a):
    ovs = [O.Override("facilities[*].capex_usd_per_module", "*=", a, "p"),
           O.Override("facilities[*].capex_usd_per_module", "*=", 1.0 / a, "p")]
    new = O.apply_overrides(shared_raw, ovs)
    for f in ("cell_plant", "cathode_plant"):
        old = cell(shared_raw, "facilities", {"facility": f}, "capex_usd_per_module")
        got = cell(new, "facilities", {"facility": f}, "capex_usd_per_module")
        assert math.isclose(got, old, rel_tol=1e-9)


@hsettings(max_examples=100, deadline=None)
@given(v=st.floats(allow_nan=False, allow_infinity=False))
def test_number_values_round_trip(v):
    assert O.parse_override(f"settings.discount_rate={v!r}").value == v
    assert O.parse_override(f"settings.discount_rate*={v!r}").value == v
