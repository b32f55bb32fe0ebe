"""The output workbook (model.report) and the PNG figures (model.figures), on hand-made results."""
from __future__ import annotations

import dataclasses
import math
import os
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from cases import tiny_tables
from model import report as R
from model.charts import DATA_COL
from model.results_workbook import inputs_from_report, is_report
from model.data import build_case, load_case
from model.figures import chart_data, write_figures
from model.results import COST_CATEGORIES, TABLE_COLUMNS, Results, SolveInfo
from model.workbook import read_workbook
from model.xlsx_util import write_input_workbook

EVIL = '=HYPERLINK("x")'
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- fake results
def fake_tables(case) -> dict[str, pd.DataFrame]:
    """Small, self-consistent-looking result tables for a case (not a solved plan)."""
    years = list(case.years)
    fac = list(case.facilities.values())
    bs, prod, src, cap = [], [], [], []
    for f in fac:
        built_total = 0
        for i, y in enumerate(years):
            built = 1 if (f.can_build and i < min(2, f.max_modules)) else 0
            built_total += built
            capacity = case.existing_capacity(f.facility, y) + f.module_size * built_total
            bs.append({"facility": f.facility, "product": f.product, "year": y, "modules_built": built,
                       "modules_in_service": built_total, "capacity": float(capacity)})
            if f.makes_cells:
                for k in case.chemistries:
                    q = min(capacity, sum(case.demand_gwh(kk, y) for kk in case.chemistries)) * case.share[(k, y)]
                    prod.append({"facility": f.facility, "product": "cells", "chemistry": k, "year": y,
                                 "quantity": q, "utilisation": 0.9})
            else:
                prod.append({"facility": f.facility, "product": f.product, "chemistry": None, "year": y,
                             "quantity": capacity * 0.8, "utilisation": 0.8})
                src.append({"material": f.product, "year": y, "source_kind": "local", "source": f.facility,
                            "quantity": capacity * 0.8})
            if built:
                cap.append({"facility": f.facility, "year": y - 1, "capex_usd": f.capex_usd_per_module * built})
    for (m, o), rt in case.imports.items():
        for y in years:
            src.append({"material": m, "year": y, "source_kind": "import", "source": o, "quantity": 1234.5})
    for m in case.exports:
        src.append({"material": m, "year": years[-1], "source_kind": "export", "source": "export", "quantity": 100.0})
    dem = [{"chemistry": k, "year": y, "demand_gwh": case.demand_gwh(k, y), "met_gwh": case.demand_gwh(k, y) * 0.9,
            "unmet_gwh": case.demand_gwh(k, y) * 0.1} for y in years for k in case.chemistries]
    costs = []
    for y in years:
        for j, c in enumerate(COST_CATEGORIES):
            und = -5e6 if c == "export_revenue" else 1e7 * (j + 1)
            costs.append({"year": y, "category": c, "undiscounted_usd": und,
                          "discounted_usd": und * case.discount_factor(y)})
    lc = [{"year": y, "local_value_share": 0.05 + 0.1 * i, "target": case.local_content_target.get(y, float("nan"))}
          for i, y in enumerate(years)]
    use = [{"material": m, "year": y, "use_kind": "cells", "consumer": k, "quantity": a * 10.0}
           for (k, m), a in case.intensity.items() for y in years if a > 0]
    return {
        "build_schedule": pd.DataFrame(bs, columns=TABLE_COLUMNS["build_schedule"]),
        "production": pd.DataFrame(prod, columns=TABLE_COLUMNS["production"]),
        "sourcing": pd.DataFrame(src, columns=TABLE_COLUMNS["sourcing"]),
        "demand": pd.DataFrame(dem, columns=TABLE_COLUMNS["demand"]),
        "costs": pd.DataFrame(costs, columns=TABLE_COLUMNS["costs"]),
        "capex_cashflow": pd.DataFrame(cap, columns=TABLE_COLUMNS["capex_cashflow"]),
        "local_content": pd.DataFrame(lc, columns=TABLE_COLUMNS["local_content"]),
        "material_use": pd.DataFrame(use, columns=TABLE_COLUMNS["material_use"]),
    }


def fake_results(case) -> Results:
    tables = {
        # extras come first in the dict on purpose: the core tables must still lead
        "marginal_costs": pd.DataFrame({"constraint": ["demand[LFP]", EVIL], "year": [2026, 2027],
                                        "marginal_usd_per_unit": [1.5e6, float("nan")]}),
        **fake_tables(case),
    }
    npv = float(tables["costs"]["discounted_usd"].sum())
    summary = {
        "status": "optimal", "net_present_cost_usd": npv, "mip_gap": 1e-5, "solve_seconds": 0.42,
        "unmet_gwh_total": float(tables["demand"]["unmet_gwh"].sum()), "input_file": "case.xlsx",
        "input_sha256": "ab" * 32, "solver": "highs", "solver_version": "1.11.0", "model_version": "0.1.0",
        "settings": {"discount_rate": 0.08, "time_limit_s": 60.0},
        "overrides": ["settings.discount_rate=0.08", "-x"],
    }
    return Results(case=case, solve=SolveInfo("optimal", objective=npv, mip_gap=1e-5, solve_seconds=0.42),
                   tables=tables, summary=summary, timings={"read": 0.1, "solve": 0.4},
                   notes=["verification passed", "+careful"])


@pytest.fixture(scope="module")
def case_path(tmp_path_factory) -> Path:
    tmp_path = tmp_path_factory.mktemp("case")
    t = tiny_tables()
    t["facilities"][0]["site"] = EVIL  # a user string that looks like a formula
    t["facilities"][0]["planner_comment"] = "extra column, echoed"
    t["planner_notes"] = [{"topic": "why", "text": "extra sheet, echoed"}, {"topic": "-1", "text": "@x"}]
    return write_input_workbook(tmp_path / "case.xlsx", t)


@pytest.fixture(scope="module")
def results(case_path) -> Results:
    return fake_results(load_case(case_path))


@pytest.fixture(scope="module")
def written(results, tmp_path_factory) -> Path:
    tmp_path = tmp_path_factory.mktemp("report")
    return R.write_report(results, tmp_path / "out" / "case_results.xlsx", figures_dir=tmp_path / "figs")


def expected_sheets(results) -> list[str]:
    inputs = []
    for sh in results.case.raw.sheets.values():
        inputs.append("input_" + sh.name if sh.name in TABLE_COLUMNS else sh.name)
    return ["summary", "charts", *TABLE_COLUMNS, "marginal_costs", *inputs]


# --------------------------------------------------------------------------- tests
def test_sheets_present_in_order(written, results):
    wb = openpyxl.load_workbook(written)
    assert wb.sheetnames == expected_sheets(results)
    assert wb.sheetnames[2:2 + len(TABLE_COLUMNS)] == list(TABLE_COLUMNS)
    assert "input_demand" in wb.sheetnames and "input_local_content" in wb.sheetnames


def test_table_headers_and_values_round_trip(written, results):
    for name, df in results.tables.items():
        back = pd.read_excel(written, sheet_name=name)
        extra = ["unit"] if name in R.ROW_UNIT_TABLES else []  # quantities whose unit varies by row
        assert list(back.columns) == list(df.columns) + extra, name
        assert len(back) == len(df), name
        for col in df.columns:
            a, b = df[col].tolist(), back[col].tolist()
            for x, y in zip(a, b):
                if isinstance(x, str):
                    assert x == y, (name, col)
                elif x is None or (isinstance(x, float) and math.isnan(x)):
                    assert y is None or (isinstance(y, float) and math.isnan(y)), (name, col, y)
                else:
                    assert y == pytest.approx(x), (name, col)


def test_empty_and_missing_tables_keep_core_headers(results, tmp_path):
    res = dataclasses.replace(results, tables={"costs": results.tables["costs"].iloc[0:0]})
    out = R.write_report(res, tmp_path / "empty.xlsx")
    wb = openpyxl.load_workbook(out)
    for name, cols in TABLE_COLUMNS.items():
        assert tuple(c.value for c in wb[name][1]) == cols
        assert wb[name].max_row == 1


def test_summary_is_a_key_value_table(written, results):
    df = pd.read_excel(written, sheet_name="summary")
    assert list(df.columns) == ["key", "value", "unit", "meaning"]  # key, value first: programs read them
    kv = dict(zip(df["key"], df["value"]))
    for k in ("status", "net_present_cost_usd", "mip_gap", "solve_seconds", "unmet_gwh_total", "input_file",
              "input_sha256", "solver", "solver_version", "model_version"):
        assert k in kv, k
    assert kv["status"] == "optimal"
    assert float(kv["net_present_cost_usd"]) == pytest.approx(results.summary["net_present_cost_usd"])
    assert float(kv["settings.discount_rate"]) == pytest.approx(0.08)
    assert kv["overrides"] == "settings.discount_rate=0.08; -x"
    assert float(kv["timings.solve"]) == pytest.approx(0.4)
    assert kv["note_1"] == "verification passed" and kv["note_2"] == "+careful"
    assert kv["input_sheets_renamed"] == "demand -> input_demand; local_content -> input_local_content"
    ws = openpyxl.load_workbook(written)["summary"]
    assert ws["A1"].font.bold and ws.max_column == 4
    row = {c.value: c.row for c in ws["A"]}["net_present_cost_usd"]
    assert ws.cell(row, 2).number_format == '#,##0.0,,," bn"'  # bn USD, one decimal; the cell keeps USD
    assert ws.cell(row, 3).value == "USD" and "discounted" in ws.cell(row, 4).value


def test_formats_and_layout_of_table_sheets(written):
    wb = openpyxl.load_workbook(written)
    ws = wb["production"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:G")
    assert all(c.font.bold for c in ws[1])
    head = [c.value for c in ws[1]]
    assert head[-1] == "unit"
    for r in range(2, ws.max_row + 1):
        fmt = {h: ws.cell(r, i + 1).number_format for i, h in enumerate(head)}
        unit = ws.cell(r, len(head)).value
        assert fmt["year"] == "0" and fmt["utilisation"] == "0.0%"
        # GWh with one decimal, tonnes without spurious decimals
        assert fmt["quantity"] == ("#,##0.0" if unit == "GWh" else "#,##0"), (r, unit)
    ws = wb["costs"]
    fmt = {c.value: ws.cell(2, c.column).number_format for c in ws[1]}
    assert fmt["discounted_usd"] == "#,##0"
    assert wb["local_content"].cell(2, 2).number_format == "0.0%"
    assert all(6 <= (d.width or 0) <= 40 for d in wb["build_schedule"].column_dimensions.values())
    assert wb["costs"]["D1"].comment is not None  # unit note; header text unchanged
    assert wb["costs"]["D1"].value == "discounted_usd"


def test_native_charts(written, results):
    wb = openpyxl.load_workbook(written)
    assert wb.sheetnames[1] == "charts"
    charts = wb["charts"]._charts
    # cells, materials share, one per sourced material, costs, local content
    assert len(charts) >= 2 + len(chart_data(results).materials)
    # chart data lives on the charts sheet: the year header row of the first table
    ws = wb["charts"]
    years = [ws.cell(5, DATA_COL + j).value for j in range(1, len(results.case.years) + 1)]
    assert years == list(results.case.years)


def test_formula_like_strings_stay_text(written):
    wb = openpyxl.load_workbook(written, data_only=False)
    hits = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@")):
                    hits.append((ws.title, c.coordinate))
                    assert c.data_type == "s", (ws.title, c.coordinate, c.value)
    titles = {t for t, _ in hits}
    assert {"facilities", "marginal_costs", "summary", "planner_notes"} <= titles
    with zipfile.ZipFile(written) as zf:
        for n in zf.namelist():
            if n.startswith("xl/worksheets/") and n.endswith(".xml"):
                assert b"<f>" not in zf.read(n) and b"<f " not in zf.read(n), n


def test_echoed_inputs_revalidate(written, results):
    raw = read_workbook(written)
    assert is_report(raw)
    case2 = build_case(inputs_from_report(raw))
    case = results.case
    assert case2.settings == case.settings
    assert case2.facilities == case.facilities
    assert case2.imports == case.imports and case2.exports == case.exports
    assert dict(case2.vehicles) == dict(case.vehicles)
    assert dict(case2.local_content_target) == dict(case.local_content_target)
    fac = case2.raw.sheet("facilities")
    assert "planner_comment" in fac.header  # extra column echoed
    assert case2.raw.sheet("planner_notes").rows == case.raw.sheet("planner_notes").rows  # extra sheet echoed
    assert case2.facilities["cell_plant"].site == EVIL


def test_load_case_reads_a_report_directly(written, results):
    assert load_case(written).settings == results.case.settings


def test_inputs_from_report_leaves_cases_alone(case_path):
    raw = read_workbook(case_path)
    assert not is_report(raw)
    assert inputs_from_report(raw) is raw


def test_user_sheet_named_like_a_result_is_renamed(tmp_path):
    t = tiny_tables()
    t["costs"] = [{"item": "land", "usd": 5}]
    t.pop("local_content")  # optional sheet absent: the result sheet must not be read as an input
    case = load_case(write_input_workbook(tmp_path / "c.xlsx", t))
    out = R.write_report(fake_results(case), tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(out)
    assert "input_costs" in wb.sheetnames and "input_local_content" not in wb.sheetnames
    assert tuple(c.value for c in wb["costs"][1]) == TABLE_COLUMNS["costs"]
    case2 = build_case(inputs_from_report(read_workbook(out)))
    assert case2.raw.sheet("costs").rows == ((("land", 5)),)
    assert dict(case2.local_content_target) == {}
    assert case2.settings == case.settings


def test_no_raw_workbook_and_no_solution(results, tmp_path):
    case = dataclasses.replace(results.case, raw=None)
    res = Results(case=case, solve=SolveInfo("infeasible"), tables={}, summary={"status": "infeasible"},
                  notes=["demand cannot be met: no cell plant"])
    out = R.write_report(res, tmp_path / "inf.xlsx", figures_dir=tmp_path / "f")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["summary", "charts", *TABLE_COLUMNS]
    assert len(wb["charts"]._charts) == 0
    assert len(list((tmp_path / "f").glob("inf_*.png"))) == 3


def test_figures_written(written):
    pngs = sorted((written.parent.parent / "figs").iterdir())
    names = [p.name for p in pngs]
    assert names == ["case_results_capacity.png", "case_results_costs.png", "case_results_sourcing.png"]
    for p in pngs:
        assert p.stat().st_size > 1000 and p.read_bytes()[:8] == PNG_MAGIC


def test_write_figures_returns_paths(results, tmp_path):
    paths = write_figures(results, tmp_path / "x", stem="run1")
    assert [p.name for p in paths] == ["run1_capacity.png", "run1_sourcing.png", "run1_costs.png"]
    assert all(p.exists() for p in paths)
    assert sorted(os.listdir(tmp_path / "x")) == sorted(p.name for p in paths)  # no temp files


def test_save_failure_leaves_existing_file_untouched(results, tmp_path, monkeypatch):
    target = tmp_path / "keep.xlsx"
    target.write_bytes(b"previous results")

    def boom(self, *a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(openpyxl.Workbook, "save", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        R.write_report(results, target)
    assert target.read_bytes() == b"previous results"
    assert os.listdir(tmp_path) == ["keep.xlsx"]  # no temp file left behind


def _big_tables(n_fac=40, start=2026, end=2055):
    t = tiny_tables()
    years = range(start, end + 1)
    t["settings"].update(start_year=start, end_year=end)
    t["demand"] = [{"year": y, "vehicles": 20_000 + 5_000 * i, "kwh_per_vehicle": 55} for i, y in enumerate(years)]
    t["chemistry_mix"] = [{"year": y, "chemistry": k, "share": s} for y in years for k, s in (("LFP", 0.7), ("NMC", 0.3))]
    products = ["cells", "cathode_LFP", "cathode_NMC", "anode"]
    t["facilities"] = [{"facility": f"plant_{i:02d}", "product": products[i % 4], "site": f"site {i}",
                        "module_size": 2 if i % 4 == 0 else 5000, "max_modules": 4,
                        "capex_usd_per_module": 1e8, "lifetime_years": 20} for i in range(n_fac)]
    t["local_content"] = [{"year": y, "min_local_value_share": 0.2} for y in years if y >= 2030]
    return t


def test_report_handles_a_big_case(tmp_path):
    # speed is measured by the benchmarks; here: a 40-facility, 30-year report is complete
    case = load_case(write_input_workbook(tmp_path / "big.xlsx", _big_tables()))
    res = fake_results(case)
    assert len(res.tables["build_schedule"]) == 40 * 30
    out = R.write_report(res, tmp_path / "big_results.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb["build_schedule"].max_row == 40 * 30 + 1
    assert len(wb["charts"]._charts) >= 4  # the workbook just read (reading it twice only cost time)


def test_extra_table_named_like_an_input_sheet(results, tmp_path):
    extra = pd.DataFrame({"facility": ["cell_plant"], "note": ["=1+1"]})
    res = dataclasses.replace(results, tables={**results.tables, "facilities": extra})
    out = R.write_report(res, tmp_path / "x.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames.index("facilities") < wb.sheetnames.index("input_facilities")
    assert wb["facilities"]["B2"].data_type == "s"
    case2 = build_case(inputs_from_report(read_workbook(out)))
    assert case2.facilities == results.case.facilities


def test_many_cell_plants_are_grouped_for_charts():
    from model.figures import MAX_PLANT_SERIES, OTHER_PLANTS, _top_rows

    df = pd.DataFrame([[float(i), float(i)] for i in range(20)], index=[f"p{i}" for i in range(20)],
                      columns=[2026, 2027])
    top = _top_rows(df, MAX_PLANT_SERIES, OTHER_PLANTS)
    assert len(top) == MAX_PLANT_SERIES and top.index[-1] == OTHER_PLANTS
    assert "p0" not in top.index  # all-zero plants are dropped
    assert top.to_numpy().sum() == pytest.approx(df.to_numpy().sum())


def test_no_cell_capacity_still_charts_demand(results, tmp_path):
    bs = results.tables["build_schedule"]
    res = dataclasses.replace(results, tables={**results.tables, "build_schedule": bs[bs["product"] != "cells"]})
    out = R.write_report(res, tmp_path / "nocells.xlsx")
    assert len(openpyxl.load_workbook(out)["charts"]._charts) >= 2


# --------------------------------------------------------------------------- presentation (issue 11)
from model import styles  # noqa: E402
from model.output_schema import describe, reading  # noqa: E402

V2_COLUMNS = ("committed_modules", "capex_usd_per_module", "local_gwh", "imported_gwh", "conversion_value_usd",
              "material_value_usd", "basis_value_usd", "use_kind", "consumer")


def test_every_numeric_result_column_has_a_unit():
    for name, cols in TABLE_COLUMNS.items():
        for c in cols:
            if c in ("facility", "product", "chemistry", "material", "source_kind", "source", "category",
                     "use_kind", "consumer"):
                continue
            assert styles.unit_of(c) is not None, (name, c)
    for c in V2_COLUMNS[:-2]:  # version-2 columns format correctly when they arrive
        assert c in styles.COLUMN_UNITS and styles.column_format(c) is not None, c
    assert styles.column_format("capex_usd_per_module") == "#,##0"
    assert styles.column_format("local_gwh") == "#,##0.0" and styles.column_format("target") == "0.0%"


def test_every_sheet_prints_landscape_fitted_with_repeated_header_and_footer(written):
    wb = openpyxl.load_workbook(written)
    for ws in wb.worksheets:
        ps = ws.page_setup
        assert ps.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ps.fitToWidth >= 1 and ps.fitToHeight == 0, ws.title
        assert "&A" in (ws.oddFooter.left.text or "") and "&P" in (ws.oddFooter.right.text or ""), ws.title
        if ws.title != "charts":
            assert ws.print_title_rows in ("1:1", "$1:$1"), ws.title
            assert ws.freeze_panes == "A2" and ws.auto_filter.ref, ws.title
    # charts print whole: the print area stops left of the chart data
    assert wb["charts"].print_area and "$M$" in wb["charts"].print_area


def test_quantity_units_are_never_mixed_in_one_column(written):
    wb = openpyxl.load_workbook(written)
    for name in R.ROW_UNIT_TABLES:
        if name not in wb.sheetnames:
            continue
        ws = wb[name]
        head = [c.value for c in ws[1]]
        assert head[-1] == "unit", name
        units = {ws.cell(r, len(head)).value for r in range(2, ws.max_row + 1)}
        assert None not in units, name
        kind = head.index("product") if "product" in head else head.index("material")
        for r in range(2, ws.max_row + 1):
            what = ws.cell(r, kind + 1).value
            u = ws.cell(r, len(head)).value
            assert u.startswith("GWh") == (what == "cells"), (name, what, u)


def test_summary_cover_sections_units_meanings(written):
    ws = openpyxl.load_workbook(written)["summary"]
    assert [c.value for c in ws[1]] == ["key", "value", "unit", "meaning"]
    headings = [ws.cell(r, 2).value for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value is None
                and ws.cell(r, 2).value]
    assert headings[:1] == ["Cost"] or "Cost" in headings
    assert headings[-1] == "Run provenance"
    assert ws.column_dimensions["B"].width <= 42  # values sit next to their keys
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value}
    r = rows["unmet_gwh_total"]
    assert ws.cell(r, 3).value == "GWh" and ws.cell(r, 4).value


def test_unmet_demand_is_stated_loudly_in_the_summary(results, tmp_path):
    t = dict(results.tables)
    d = t["demand"].copy()
    d.loc[d.index[0], "unmet_gwh"] = 12.5
    t["demand"] = d
    summ = dict(results.summary, unmet_gwh_total=12.5, penalty_share_of_cost=0.25, unmet_penalty_usd=1e9)
    out = R.write_report(dataclasses.replace(results, tables=t, summary=summ), tmp_path / "unmet.xlsx")
    ws = openpyxl.load_workbook(out)["summary"]
    assert ws["A2"].value == "unmet_demand_alert"
    text = ws["B2"].value
    assert "UNMET DEMAND" in text and "12.5 GWh" in text and "25.0%" in text
    assert ws["B2"].font.color.rgb.endswith("C00000")


def test_direction_of_changes_lower_cost_is_better():
    assert describe("net_present_cost_usd")[1] == "USD"
    assert reading("net_present_cost_usd", 1e6) == "worse (higher)"
    assert reading("net_present_cost_usd", -1e6) == "better (lower)"
    assert reading("unmet_gwh_total", 3.0) == "worse (higher)"
    assert reading("local_value_share_2040", 0.01) == "better (higher)"
    assert describe("capacity_cathode_LFP_2030", {"cathode_LFP": "t"})[1] == "t/yr"
    assert describe("capacity_cells_2030")[1] == "GWh/yr"


def test_make_vs_buy_says_when_the_best_facility_is_at_max_modules(results):
    case = results.case
    f = next(f for f, fac in case.facilities.items() if fac.can_build)
    fac = case.facilities[f]
    years = list(case.years)
    bs = pd.DataFrame({"facility": [f] * len(years), "product": [fac.product] * len(years), "year": years,
                       "modules_built": [0] * len(years), "modules_in_service": [fac.max_modules] * len(years),
                       "capacity": [0.0] * len(years)})
    mvb = pd.DataFrame({"material": ["m"], "year": [years[0]], "unit": ["t"], "import_quantity": [80_000.0],
                        "best_facility": [f], "break_even": ["a new module is cheaper than importing"]})
    res = dataclasses.replace(results, tables={**results.tables, "build_schedule": bs})
    view = R.make_vs_buy_view(mvb, res)
    text = view.break_even.iloc[0]
    assert f"already at its maximum of {fac.max_modules} modules" in text and "80,000 t imported" in text
    assert view.max_modules.iloc[0] == fac.max_modules


def test_version2_tables_get_units_and_formats(results, tmp_path):
    """Tables from the version-2 model (material_use, imported cells, extra columns) format by unit."""
    t = dict(results.tables)
    y = results.case.years[0]
    mat = next(iter(results.case.materials))
    t["material_use"] = pd.DataFrame({"material": [mat, mat], "year": [y, y], "use_kind": ["cells", "recipe"],
                                      "consumer": ["LFP", "cathode_LFP"], "quantity": [32_000.0, 1_500.0]})
    src = t["sourcing"]
    t["sourcing"] = pd.concat([src, pd.DataFrame({"material": ["cells_LFP"], "year": [y], "source_kind": ["import"],
                                                  "source": ["China"], "quantity": [12.5]})], ignore_index=True)
    d = t["demand"].copy()
    d["local_gwh"], d["imported_gwh"] = d["met_gwh"], 0.0
    t["demand"] = d
    b = t["build_schedule"].copy()
    b["committed_modules"], b["capex_usd_per_module"] = 0, 1.5e8
    t["build_schedule"] = b
    out = R.write_report(dataclasses.replace(results, tables=t), tmp_path / "v2.xlsx")
    wb = openpyxl.load_workbook(out)
    ws = wb["material_use"]
    head = [c.value for c in ws[1]]
    assert head[-1] == "unit" and ws.cell(2, len(head)).value == results.case.materials[mat].unit
    ws = wb["sourcing"]
    head = [c.value for c in ws[1]]
    last = ws.max_row
    assert ws.cell(last, 1).value == "cells_LFP" and ws.cell(last, len(head)).value == "GWh"
    assert ws.cell(last, head.index("quantity") + 1).number_format == "#,##0.0"
    ws = wb["build_schedule"]
    head = [c.value for c in ws[1]]
    assert ws.cell(2, head.index("capex_usd_per_module") + 1).number_format == "#,##0"
    ws = wb["demand"]
    head = [c.value for c in ws[1]]
    assert ws.cell(2, head.index("imported_gwh") + 1).number_format == "#,##0.0"


def test_imported_cells_chart_with_the_cells_not_as_a_material(results):
    from model.figures import chart_data

    src = results.tables["sourcing"]
    y0 = int(src["year"].min())
    extra = pd.DataFrame([{"material": "cells_LFP", "year": y0, "source_kind": "import", "source": "China",
                           "quantity": 12.5}])
    res = dataclasses.replace(results, tables={**results.tables, "sourcing": pd.concat([src, extra])})
    cd = chart_data(res)
    assert "cells_LFP" not in cd.materials and "cells_LFP" not in cd.material_consumption.index
    assert cd.cell_imported.loc[y0] == pytest.approx(12.5)
    assert cd.cell_imported.drop(y0).abs().sum() == 0


def test_kpi_columns_of_quantities_get_whole_number_formats():
    """Sweep and comparison tables carry KPI columns (imports_<m>_total, capacity_<m>_<year>): no raw floats."""
    assert styles.column_format("imports_anode_total") == "#,##0"
    assert styles.column_format("capacity_cathode_NMC_2030") == "#,##0"
    assert styles.column_format("imports_cells_LFP_total") == "#,##0.0"
    assert styles.unit_of("capacity_cells_2040") == "GWh"
