"""Numeric limits (issue 9, classes 1 and 8): coefficients HiGHS cannot handle are refused at their cell."""
from __future__ import annotations

import math

import pytest

from model import limits
from model.data import load_case
from model.errors import InputError
from tests.cases import tiny_tables, write_case


def refused(tmp_path, edit):
    t = tiny_tables()
    edit(t)
    path = write_case(tmp_path / "case.xlsx", t)
    with pytest.raises(InputError) as ei:
        load_case(path)
    return ei.value


def test_tiny_case_is_within_every_limit(tmp_path):
    load_case(write_case(tmp_path / "case.xlsx"))


@pytest.mark.parametrize("edit, where, words", [
    (lambda t: t["imports"][0].update(price_escalation_per_year=1e300), ("imports", 2, "price_escalation_per_year"),
     "landed import cost"),
    (lambda t: t["imports"][0].update(price_usd_per_unit=1e14), ("imports", 2, "price_usd_per_unit"), "at most 1e+13"),
    (lambda t: t["imports"][1].update(freight_usd_per_unit=1e200), ("imports", 3, "freight_usd_per_unit"), "landed"),
    (lambda t: t["facilities"][0].update(module_size=1e-320), ("facilities", 2, "module_size"), "at least 1e-09"),
    (lambda t: t["facilities"][0].update(module_size=1e12), ("facilities", 2, "module_size"), "at most 1e+09"),
    (lambda t: t["facilities"][0].update(capex_usd_per_module=1e300), ("facilities", 2, "capex_usd_per_module"),
     "annualised capex"),
    (lambda t: t["settings"].update(base_year=2500), ("settings", 9, "value"), "base_year inside the horizon"),
    (lambda t: t["settings"].update(unmet_penalty_usd_per_kwh=1e308), ("settings", 6, "value"), "penalty"),
    (lambda t: t["intensity"][0].update(amount_per_gwh=1e-300), ("intensity", 2, "amount_per_gwh"), "intensity"),
    (lambda t: t["demand"][0].update(vehicles=1e300), ("demand", 2, "vehicles"), "cell demand"),
    (lambda t: t["imports"][0].update(max_per_year=1e300), ("imports", 2, "max_per_year"), "blank means no limit"),
])
def test_out_of_range_coefficient_is_refused_at_its_cell(tmp_path, edit, where, words):
    err = refused(tmp_path, edit)
    hits = [p for p in err.problems if (p.sheet, p.row, p.column) == where]
    assert hits, err.report()
    assert words in hits[0].message


def test_escalation_is_judged_over_the_whole_horizon(tmp_path):
    """A rate that is harmless over 3 years is refused over 30: the check follows the horizon."""
    def esc(t, end):
        t["settings"]["end_year"] = end
        t["imports"][0]["price_escalation_per_year"] = 5.0
        for y in range(2029, end + 1):
            t["demand"].append({"year": y, "vehicles": 1000, "kwh_per_vehicle": 50})
            t["chemistry_mix"].append({"year": y, "chemistry": "LFP", "share": 1.0})
    t = tiny_tables()
    esc(t, 2028)
    load_case(write_case(tmp_path / "short.xlsx", t))
    err = refused(tmp_path, lambda t: esc(t, 2056))
    assert any(p.column == "price_escalation_per_year" for p in err.problems), err.report()


def test_limits_problems_come_with_other_problems_in_one_pass(tmp_path):
    def edit(t):
        t["imports"][0]["price_escalation_per_year"] = 1e300
        t["demand"][1]["vehicles"] = "lots"
    err = refused(tmp_path, edit)
    cols = {(p.sheet, p.column) for p in err.problems}
    assert ("imports", "price_escalation_per_year") in cols and ("demand", "vehicles") in cols


def test_no_overflow_whatever_the_numbers():
    h = limits.Horizon(1900, 2500, 1900, 0.999)
    assert math.isfinite(h.max_log_df())
    assert limits.log10_sum(400.0, 400.0) == pytest.approx(400 + math.log10(2))
    assert limits.log10_sum(float("-inf")) == float("-inf")


def test_version2_rows_are_skipped_while_their_inputs_are_absent(tmp_path):
    v2 = [f for f in limits.FAMILIES if f.version == 2]
    assert {f.sheet for f in v2} >= {"cell_imports", "recipes", "facilities", "settings"}
    load_case(write_case(tmp_path / "case.xlsx"))  # no v2 sheets: nothing refused


def test_version2_cell_import_price_is_checked_when_the_sheet_is_there(tmp_path):
    from model.workbook import read_workbook

    t = tiny_tables()
    t["cell_imports"] = [{"chemistry": "LFP", "origin": "China", "price_usd_per_kwh": 60,
                          "price_escalation_per_year": 1e300}]
    t["facilities"][0]["capex_change_per_year"] = 1e300
    raw = read_workbook(write_case(tmp_path / "v2.xlsx", t))
    settings = load_case(write_case(tmp_path / "core.xlsx")).settings
    probs = limits.check(raw, settings)
    where = {(p.sheet, p.column) for p in probs}
    assert ("cell_imports", "price_escalation_per_year") in where
    assert ("facilities", "capex_change_per_year") in where


def _core_only(raw):
    from dataclasses import replace

    return replace(raw, sheets={k: v for k, v in raw.sheets.items() if k != "cell_imports"})


def test_family_table_documents_every_row():
    for row in limits.describe():
        assert row["family"] and row["inputs"] and row["coefficient"] and row["range"]


def test_local_content_product_across_two_sheets_is_checked(tmp_path):
    def edit(t):
        t["materials"][0]["reference_price_usd_per_unit"] = 1e12
        t["intensity"][0]["amount_per_gwh"] = 1e8
    err = refused(tmp_path, edit)
    assert any(p.sheet == "intensity" and p.column == "amount_per_gwh" and "local-content" in p.message
               for p in err.problems), err.report()
