"""Comparing runs: ``compare A B [-o OUT]``, ``run --scenario NAME`` and ``run --scenario all`` (model.compare)."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from cases import tiny_tables, write_case
from clirun import run_cli
from model.compare import compare_workbooks, input_diffs
from model.errors import InputError
from model.workbook import RawSheet, RawWorkbook

ROOT = Path(__file__).resolve().parents[1]
REL = 1e-9
CMP_SHEETS = ("summary", "kpis", "builds", "sourcing", "costs", "inputs_diff")

# B differs from A in exactly these two input cells; together they make the cathode plant not worth building
B_IMPORT_PRICE = 8000  # imports[cathode_LFP,China].price_usd_per_unit, 11000 in A
B_CAPEX = 4e8  # facilities[cathode_plant].capex_usd_per_module, 4e7 in A


def cli(*args, cwd=None):
    """The command line in this process (tests/clirun.py); asserts no traceback was printed."""
    return run_cli(*args, cwd=cwd)


def exact_tables():
    t = tiny_tables()
    t["settings"]["mip_rel_gap"] = 0.0
    return t


def summary(path) -> dict:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True) if r[0]}
    finally:
        wb.close()


def sheet_rows(path, name) -> list[dict]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(wb[name].iter_rows(values_only=True))
    finally:
        wb.close()
    head = rows[0]
    return [dict(zip(head, r)) for r in rows[1:] if any(v is not None for v in r)]


def run(case, out, *extra):
    p = cli("run", case, "-o", out, "--no-figures", *extra)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    a = write_case(d / "case_a.xlsx", exact_tables())
    tb = exact_tables()
    next(r for r in tb["imports"] if (r["material"], r["origin"]) == ("cathode_LFP", "China"))["price_usd_per_unit"] = \
        B_IMPORT_PRICE
    next(f for f in tb["facilities"] if f["facility"] == "cathode_plant")["capex_usd_per_module"] = B_CAPEX
    b = write_case(d / "case_b.xlsx", tb)
    ra, rb = d / "a_results.xlsx", d / "b_results.xlsx"
    run(a, ra)
    run(b, rb)
    return d, a, ra, rb


# --------------------------------------------------------------------------- compare A B
def test_compare_two_runs(two_runs):
    d, _, ra, rb = two_runs
    out = d / "cmp.xlsx"
    p = cli("compare", ra, rb, "-o", out)
    assert p.returncode == 0, p.stdout + p.stderr
    text = p.stdout
    sa, sb = summary(ra), summary(rb)
    assert sa["net_present_cost_usd"] != pytest.approx(sb["net_present_cost_usd"], rel=1e-6)
    assert "net_present_cost_usd" in text and f"{sa['net_present_cost_usd']:,.0f}" in text
    assert f"{sb['net_present_cost_usd']:,.0f}" in text
    assert "inputs: 2 differences" in text
    assert "imports[cathode_LFP,China].price_usd_per_unit: 11,000 -> 8,000" in text
    assert "facilities[cathode_plant].capex_usd_per_module" in text
    assert "cathode_plant" in text and "builds that differ" in text

    wb = openpyxl.load_workbook(out)
    assert tuple(wb.sheetnames[:6]) == CMP_SHEETS
    for name in CMP_SHEETS:
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        assert all(c.font.b for c in ws[1] if c.value is not None), name
        assert ws.column_dimensions["A"].width >= len(str(ws["A1"].value)), name
    assert len(wb["costs"]._charts) == 1
    wb.close()

    # KPIs: A and B are the summaries' values, difference = B - A
    k = {r["item"]: r for r in sheet_rows(out, "kpis")}
    obj = k["net_present_cost_usd"]
    assert obj["A"] == pytest.approx(sa["net_present_cost_usd"], rel=REL)
    assert obj["B"] == pytest.approx(sb["net_present_cost_usd"], rel=REL)
    assert obj["difference"] == pytest.approx(sb["net_present_cost_usd"] - sa["net_present_cost_usd"], rel=1e-6)
    assert obj["pct_difference"] == pytest.approx(obj["difference"] / abs(obj["A"]), rel=1e-6)
    assert k["status"]["A"] == k["status"]["B"] == "optimal"
    for key in ("mip_gap", "unmet_gwh_total", "modules_built_total", "capacity_cells_2028",
                "capacity_cathode_LFP_2028", "local_value_share_2028", "input_sha256"):
        assert key in k, key
        assert k[key]["A"] == pytest.approx(sa[key]) if not isinstance(sa[key], str) else k[key]["A"] == sa[key]
    assert k["modules_built_total"]["A"] == 4 and k["modules_built_total"]["B"] == 2

    # exactly the two changed cells, nothing else
    diffs = sheet_rows(out, "inputs_diff")
    got = {(r["sheet"], r["key"], r["column"], r["A"], r["B"], r["change"], r["address"]) for r in diffs}
    assert got == {
        ("imports", "cathode_LFP,China", "price_usd_per_unit", 11000, B_IMPORT_PRICE, "changed",
         "imports[cathode_LFP,China].price_usd_per_unit"),
        ("facilities", "cathode_plant", "capex_usd_per_module", 40_000_000, B_CAPEX, "changed",
         "facilities[cathode_plant].capex_usd_per_module"),
    }

    # builds: the cathode plant is built in A (2026, 2028), never in B; the cell plant is the same
    b = sheet_rows(out, "builds")
    first = {r["facility"]: (r["A"], r["B"]) for r in b if r["what"] == "first online year"}
    assert first == {"cell_plant": (2026, 2026), "cathode_plant": (2026, "never")}
    years = {(r["facility"], r["year"]): (r["A"], r["B"]) for r in b if r["what"] == "modules built"}
    assert years == {("cathode_plant", 2026): (1, 0), ("cathode_plant", 2028): (1, 0)}

    # sourcing: LFP cathode moves from local to import; local shares for every material and year
    s = sheet_rows(out, "sourcing")
    kinds = {(r["material"], r["year"], r["source_kind"]) for r in s}
    assert ("cathode_LFP", 2026, "local") in kinds and ("cathode_LFP", 2026, "import") in kinds
    shares = {(r["material"], r["year"]): (r["A"], r["B"]) for r in s if r["source_kind"] == "local_share"}
    assert {m for m, _ in shares} == {"cathode_LFP", "cathode_NMC", "anode"}
    assert shares[("cathode_LFP", 2028)][0] > shares[("cathode_LFP", 2028)][1]  # only the existing plant is left in B
    for r in s:
        if r["source_kind"] != "local_share":
            assert r["difference"] == pytest.approx(r["B"] - r["A"])
            assert abs(r["difference"]) > 1e-6

    # costs: the categories sum to each NPV
    c = {r["category"]: r for r in sheet_rows(out, "costs")}
    assert c["total"]["A_discounted_usd"] == pytest.approx(sa["net_present_cost_usd"], rel=1e-7)
    assert c["total"]["B_discounted_usd"] == pytest.approx(sb["net_present_cost_usd"], rel=1e-7)
    assert sum(r["A_discounted_usd"] for k_, r in c.items() if k_ != "total") == pytest.approx(c["total"]["A_discounted_usd"])
    assert c["imports"]["B_discounted_usd"] > c["imports"]["A_discounted_usd"]


def test_compare_same_run_shows_no_differences(two_runs):
    _, _, ra, _ = two_runs
    text = compare_workbooks(ra, ra)
    assert "inputs: the echoed input sheets are identical" in text
    assert "builds: the same in A and B" in text


def test_compare_without_output_writes_nothing(two_runs, tmp_path):
    _, _, ra, rb = two_runs
    p = cli("compare", ra, rb, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "net_present_cost_usd" in p.stdout
    assert list(tmp_path.iterdir()) == []


def test_compare_rejects_non_results_workbook(two_runs):
    d, case_a, ra, _ = two_runs
    out = d / "bad_cmp.xlsx"
    p = cli("compare", case_a, ra, "-o", out)
    assert p.returncode == 2
    assert "case_a.xlsx" in p.stderr and "not a results workbook" in p.stderr and "'summary'" in p.stderr
    assert not out.exists()
    # both files wrong: both named
    p = cli("compare", case_a, case_a)
    assert p.returncode == 2 and p.stderr.count("case_a.xlsx") >= 2
    # missing file, and an output that would overwrite an input
    assert cli("compare", d / "nope.xlsx", ra).returncode == 2
    p = cli("compare", ra, ra, "-o", ra)
    assert p.returncode == 2 and "input" in p.stderr


def test_compare_api_raises_input_error(two_runs):
    _, case_a, ra, _ = two_runs
    with pytest.raises(InputError) as e:
        compare_workbooks(ra, case_a)
    assert "case_a.xlsx" in str(e.value) and "summary" in str(e.value)


def test_compare_with_a_run_without_plan(two_runs):
    d, _, ra, _ = two_runs
    t = exact_tables()
    t["settings"]["allow_unmet_demand"] = False
    for f in t["facilities"]:
        f["max_modules"] = 0
    inf_case = write_case(d / "infeasible.xlsx", t)
    inf = d / "infeasible_results.xlsx"
    assert cli("run", inf_case, "-o", inf, "--no-figures").returncode == 1
    out = d / "cmp_inf.xlsx"
    p = cli("compare", ra, inf, "-o", out)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "B has no plan (status infeasible)" in p.stdout
    assert "settings.allow_unmet_demand: true -> false" in p.stdout
    c = {r["category"]: r for r in sheet_rows(out, "costs")}
    assert c["total"]["B_discounted_usd"] is None and c["total"]["difference_usd"] is None  # not a zero cost
    first = {r["facility"]: r["B"] for r in sheet_rows(out, "builds") if r["what"] == "first online year"}
    assert set(first.values()) == {"no plan"}


# --------------------------------------------------------------------------- input differences, unit level
def _raw(**sheets) -> RawWorkbook:
    out = {}
    for name, (header, rows) in sheets.items():
        out[name] = RawSheet(name, tuple(header), tuple(tuple(r) for r in rows), tuple(range(2, 2 + len(rows))))
    return RawWorkbook(out)


def test_input_diffs_keys_rows_columns_and_sheets():
    fac_h = ("facility", "product", "capex_usd_per_module")
    a = _raw(settings=(("key", "value"), [("start_year", 2026), ("discount_rate", 0.08)]),
             facilities=(fac_h, [("p1", "cells", 1e8), ("p2", "cathode", 5e7)]),
             imports=(("material", "origin", "price_usd_per_unit"), [("cathode", "China", 4700)]),
             exports=(("material", "price_usd_per_unit"), [("cathode", 4000)]))
    b = _raw(settings=(("Key", "Value"), [("START_YEAR", 2026.0), ("discount_rate", 0.05)]),
             facilities=((*fac_h, "comment"), [("p2", "cathode", 5e7, "why not"), ("p3", "cells", 2e8, None)]),
             imports=(("material", "origin", "price_usd_per_unit", "tariff_rate"), [("cathode", "China", 4700, None)]))
    d = input_diffs(a, b)
    got = {(x.sheet, x.key, x.column, x.change) for x in d}
    assert got == {
        ("settings", "discount_rate", "value", "changed"),
        ("facilities", "p1", "", "row only in A"),
        ("facilities", "p2", "comment", "changed"),
        ("facilities", "p3", "", "row only in B"),
        ("exports", "", "", "sheet only in A"),
    }
    sd = next(x for x in d if x.sheet == "settings")
    assert (sd.a, sd.b, sd.address) == (0.08, 0.05, "settings.discount_rate")
    assert "capex_usd_per_module=100,000,000" in next(x for x in d if x.key == "p1").a


# --------------------------------------------------------------------------- scenarios
SCENARIO_ROWS = [
    {"scenario": "high_tariff", "address": "imports[anode,China].tariff_rate", "operation": "=", "value": "0.4"},
    {"scenario": "cheap_capex", "address": "facilities[*].capex_usd_per_module", "operation": "*=", "value": "0.5"},
]


@pytest.fixture(scope="module")
def scenario_case(tmp_path_factory):
    d = tmp_path_factory.mktemp("scen")
    t = exact_tables()
    t["scenarios"] = [dict(r) for r in SCENARIO_ROWS]
    return d, write_case(d / "case.xlsx", t)


def test_run_one_scenario_equals_set(scenario_case):
    d, case = scenario_case
    out, direct = d / "ht.xlsx", d / "direct.xlsx"
    run(case, out, "--scenario", "high_tariff")
    run(case, direct, "--set", "imports[anode,China].tariff_rate=0.4")
    s, sd = summary(out), summary(direct)
    assert s["scenario"] == "high_tariff"
    assert "imports[anode,China].tariff_rate = 0.4" in s["override_1"] and "scenarios" in s["override_1"]
    assert s["net_present_cost_usd"] == pytest.approx(sd["net_present_cost_usd"], rel=REL)
    base = d / "base.xlsx"
    run(case, base)
    assert s["net_present_cost_usd"] > summary(base)["net_present_cost_usd"] * (1 + 1e-6)  # the tariff bites
    # compare the scenario with the base: exactly the scenario's cell, and the scenario line
    text = compare_workbooks(base, out)
    assert "inputs: 1 difference " in text and "imports[anode,China].tariff_rate: 0.05 -> 0.4" in text
    assert "scenario: A - | B high_tariff" in text


def test_run_all_scenarios_writes_each_and_comparison(scenario_case):
    d, case = scenario_case
    out = d / "all" / "res.xlsx"
    p = cli("run", case, "-o", out, "--scenario", "all", "--no-figures")
    assert p.returncode == 0, p.stdout + p.stderr
    each = {n: d / "all" / f"res_{n}.xlsx" for n in ("high_tariff", "cheap_capex")}
    cmp = d / "all" / "res_comparison.xlsx"
    for path in (*each.values(), cmp):
        assert path.exists(), path
    assert not out.exists()
    assert "comparison of the base case and 2 scenarios" in p.stdout
    objs = {n: summary(p_)["net_present_cost_usd"] for n, p_ in each.items()}
    assert {n: summary(p_)["scenario"] for n, p_ in each.items()} == {n: n for n in each}

    wb = openpyxl.load_workbook(cmp)
    assert wb.sheetnames[:5] == ["summary", "kpis", "vs_base", "builds", "costs"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2" and ws["A1"].font.b
    assert len(wb["costs"]._charts) == 1
    wb.close()
    k = {r["item"]: r for r in sheet_rows(cmp, "kpis")}
    for n in each:
        assert k["net_present_cost_usd"][n] == pytest.approx(objs[n], rel=REL)
        assert k["scenario"][n] == n
        assert k["results workbook"][n] == each[n].name  # the published name, not a staging path
    cover = {r["key"]: r["value"] for r in sheet_rows(cmp, "summary") if r.get("key")}
    for n in each:
        assert cover[f"results_workbook.{n}"] == str(each[n])
    c = {r["category"]: r for r in sheet_rows(cmp, "costs")}
    for n in each:
        assert c["total"][n] == pytest.approx(objs[n], rel=1e-7)
    assert c["capex_annualised"]["cheap_capex"] < c["capex_annualised"]["high_tariff"]
    b = sheet_rows(cmp, "builds")
    first = {r["facility"]: r for r in b if r["what"] == "first online year"}
    assert first["cell_plant"]["high_tariff"] == first["cell_plant"]["cheap_capex"] == 2026
    assert any(r["what"] == "modules built" and r["year"] == 2027 for r in b)

    # a second scenario run agrees with a direct --set run
    direct = d / "all" / "direct.xlsx"
    run(case, direct, "--set", "facilities[*].capex_usd_per_module*=0.5")
    assert objs["cheap_capex"] == pytest.approx(summary(direct)["net_present_cost_usd"], rel=REL)


def test_unknown_scenario_exits_2_listing_names(scenario_case):
    d, case = scenario_case
    out = d / "unknown.xlsx"
    p = cli("run", case, "-o", out, "--scenario", "nope")
    assert p.returncode == 2
    assert "nope" in p.stderr and "high_tariff" in p.stderr and "cheap_capex" in p.stderr
    assert not out.exists()


# --------------------------------------------------------------------------- provenance and base case (issue 11)
def test_scenario_provenance_kept_across_reruns_and_reapply_refused(scenario_case):
    d, case = scenario_case
    first = d / "prov" / "ht.xlsx"
    run(case, first, "--scenario", "high_tariff")
    s1 = summary(first)
    assert s1["scenario"] == "high_tariff" and s1["scenarios_applied"] == "high_tariff"

    # the same scenario on a workbook that already carries it: refused, nothing written
    again = d / "prov" / "again.xlsx"
    p = cli("run", first, "-o", again, "--scenario", "high_tariff", "--no-figures")
    assert p.returncode == 2, p.stdout + p.stderr
    assert "already carry scenario 'high_tariff'" in p.stderr and "--reapply-scenario" in p.stderr
    assert "Traceback" not in p.stderr and not again.exists()

    # a plain re-run keeps the provenance (no reset to 'none') and records the earlier run
    rerun = d / "prov" / "rerun.xlsx"
    run(first, rerun)
    s2 = summary(rerun)
    assert s2["scenarios_applied"] == "high_tariff" and not s2["scenario"]
    assert "case.xlsx" in s2["history_1"]  # the earlier run's input is named
    assert "scenario high_tariff" in s2["history_1"] and "tariff_rate = 0.4" in s2["history_1"]
    assert s2["net_present_cost_usd"] == pytest.approx(s1["net_present_cost_usd"], rel=REL)

    # asked for explicitly, the scenario is applied once more and both applications are recorded
    twice = d / "prov" / "twice.xlsx"
    run(first, twice, "--scenario", "high_tariff", "--reapply-scenario")
    s3 = summary(twice)
    assert s3["scenarios_applied"] == "high_tariff; high_tariff"
    assert len([k for k in s3 if k.startswith("history_")]) == 1


def test_scenario_comparison_has_base_case_and_differences_biggest_first(scenario_case):
    d, case = scenario_case
    out = d / "allb" / "res.xlsx"
    p = cli("run", case, "-o", out, "--scenario", "all", "--no-figures")
    assert p.returncode == 0, p.stdout + p.stderr
    base = summary(d / "allb" / "res_base.xlsx")
    cmp = d / "allb" / "res_comparison.xlsx"
    k = {r["item"]: r for r in sheet_rows(cmp, "kpis")}
    assert k["net_present_cost_usd"]["base case"] == pytest.approx(base["net_present_cost_usd"], rel=REL)
    assert "mip_gap" not in [r["item"] for r in sheet_rows(cmp, "vs_base")]  # no solver internals as KPIs
    rows = sheet_rows(cmp, "vs_base")
    assert {r["scenario"] for r in rows} == {"high_tariff", "cheap_capex"}
    for r in rows:
        if isinstance(r["value"], (int, float)) and isinstance(r["base case"], (int, float)):
            assert r["difference"] == pytest.approx(r["value"] - r["base case"], rel=1e-9, abs=1e-9)
            if r["unit"] == "year":
                assert r["pct_difference"] is None  # years move by years, not by a percentage
            elif r["base case"]:
                assert r["pct_difference"] == pytest.approx(r["difference"] / abs(r["base case"]), rel=1e-9)
    for name in ("high_tariff", "cheap_capex"):
        mine = [r for r in rows if r["scenario"] == name]
        assert [r["item"] for r in mine[:3]] == ["net_present_cost_usd", "unmet_gwh_total", "penalty_share_of_cost"]
        sizes = [abs(r["pct_difference"]) for r in mine[3:] if r["pct_difference"] is not None]
        moved = [s for s in sizes if s > 0]
        assert moved == sorted(moved, reverse=True)  # the biggest change reads first
        cost = next(r for r in mine if r["item"] == "net_present_cost_usd")
        assert cost["unit"] == "USD"
        # lower is better: a cost increase is never called good
        assert cost["reading"] == ("worse (higher)" if cost["difference"] > 0 else "better (lower)")
    wb = openpyxl.load_workbook(cmp)
    cover = {r[0]: r for r in wb["summary"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert "cost_change_vs_base_usd.high_tariff" in cover and cover["net_present_cost_usd.base case"][2] == "USD"
    c = {r["category"]: r for r in sheet_rows(cmp, "costs")}
    assert c["total"]["high_tariff - base case"] == pytest.approx(
        c["total"]["high_tariff"] - c["total"]["base case"], rel=1e-9)


def test_old_results_workbook_with_objective_npv_usd_still_compares(scenario_case, tmp_path):
    d, case = scenario_case
    new = d / "old" / "new.xlsx"
    run(case, new)
    old = tmp_path / "old.xlsx"
    wb = openpyxl.load_workbook(new)
    for row in wb["summary"].iter_rows(min_row=2):
        if row[0].value == "net_present_cost_usd":
            row[0].value = "objective_npv_usd"  # as written before version 2
    wb.save(old)
    from model.compare import compare

    c = compare(old, new)
    k = {r[0]: r for r in c.kpis}
    assert k["net_present_cost_usd"][2] == pytest.approx(k["net_present_cost_usd"][3], rel=REL)


def test_input_diffs_cover_the_version2_sheets():
    """recipes, cell_imports and committed_builds differences are listed with ready --set addresses."""
    a = _raw(cell_imports=(("chemistry", "origin", "price_usd_per_kwh"), [("LFP", "China", 47.0)]),
             recipes=(("product", "input", "amount_per_unit"), [("cathode_NMC", "pCAM_NMC", 0.96)]),
             committed_builds=(("facility", "year", "modules"), [("gotion", 2026, 1)]))
    b = _raw(cell_imports=(("chemistry", "origin", "price_usd_per_kwh"), [("LFP", "China", 40.0)]),
             recipes=(("product", "input", "amount_per_unit"), [("cathode_NMC", "pCAM_NMC", 1.0)]))
    d = {(x.sheet, x.change): x for x in input_diffs(a, b)}
    assert d[("cell_imports", "changed")].address == "cell_imports[LFP,China].price_usd_per_kwh"
    assert d[("recipes", "changed")].address == "recipes[cathode_NMC,pCAM_NMC].amount_per_unit"
    assert ("committed_builds", "sheet only in A") in d
