"""The empty input template and docs/inputs.md are generated from model/schema.py."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from cases import tiny_tables
from model import schema as S
from model import template as T
from model.data import load_case
from model.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def template_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.xlsx"
    assert T.write_template(path) == path
    return path


@pytest.fixture(scope="module")
def wb(template_path):
    return openpyxl.load_workbook(template_path)


def _validations(ws):
    return list(ws.data_validations.dataValidation)


def _covering(ws, cell: str):
    return [dv for dv in _validations(ws) if cell in dv.sqref]


def test_every_schema_sheet_and_readme(wb):
    assert wb.sheetnames[0] == "README"
    assert wb.sheetnames[1:] == [s.name for s in S.SHEETS + S.CONTROL_SHEETS]
    text = "\n".join(str(v) for row in wb["README"].iter_rows(values_only=True) for v in row if v)
    for sheet in S.SHEETS + S.CONTROL_SHEETS:
        assert f"Sheet '{sheet.name}'" in text
        for col in sheet.columns:
            assert col.name in text
    assert "sum to 1" in text


def test_headers_are_exactly_the_schema_columns(wb):
    for sheet in S.SHEETS:
        ws = wb[sheet.name]
        header = [c.value for c in ws[1] if c.value is not None]
        if sheet.layout == "settings":
            assert header == ["key", "value", "description"]
            keys = [ws.cell(row=r, column=1).value for r in range(2, 2 + len(sheet.columns))]
            assert keys == list(sheet.column_names)
        else:
            assert header == list(sheet.column_names)
            assert ws.max_row == 1, f"{sheet.name} must be empty below the header"


def test_settings_prefilled_with_defaults(wb):
    ws = wb["settings"]
    values = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value for r in range(2, ws.max_row + 1)}
    for col in S.SETTINGS.columns:
        if col.required or col.default_from:
            assert values[col.name] is None, col.name
        else:
            assert values[col.name] == col.default, col.name
    descr = [ws.cell(row=r, column=3).value for r in range(2, ws.max_row + 1)]
    assert all(descr)


def test_header_comments(wb):
    for sheet in S.SHEETS:
        ws = wb[sheet.name]
        cols = sheet.columns if sheet.layout == "table" else ()
        for i, col in enumerate(cols, start=1):
            c = ws.cell(row=1, column=i).comment
            assert c is not None, f"{sheet.name}.{col.name}"
            assert col.doc in c.text
            assert ("required" in c.text) if col.required else ("default" in c.text or "blank" in c.text)
            if col.unit:
                assert f"Unit: {col.unit}" in c.text
            if col.bounds_text():
                assert col.bounds_text() in c.text
        if sheet.layout == "settings":
            for c in ws[1]:
                assert c.comment is not None
            for r, col in enumerate(sheet.columns, start=2):
                assert col.doc in ws.cell(row=r, column=1).comment.text


def test_numeric_validations_follow_schema_bounds(wb):
    for sheet in S.SHEETS:
        if sheet.layout != "table":
            continue
        ws = wb[sheet.name]
        for i, col in enumerate(sheet.columns):
            if col.kind not in ("int", "float"):
                continue
            letter = openpyxl.utils.get_column_letter(i + 1)
            for row in (T.FIRST_ROW, T.LAST_ROW):
                dvs = _covering(ws, f"{letter}{row}")
                assert len(dvs) == 1, f"{sheet.name}.{col.name} row {row}"
            dv = _covering(ws, f"{letter}2")[0]
            assert dv.type == ("whole" if col.kind == "int" else "decimal")
            assert dv.allow_blank
            if col.ge is not None:
                assert float(dv.formula1) == col.ge
            if col.gt is not None:
                assert float(dv.formula1) >= col.gt
                assert dv.operator in ("greaterThan", "between")
            if col.le is not None:
                assert float(dv.formula2 if dv.operator == "between" else dv.formula1) == col.le
    # settings: one validation per value cell
    ws = wb["settings"]
    for r, col in enumerate(S.SETTINGS.columns, start=2):
        dvs = _covering(ws, f"B{r}")
        assert len(dvs) == 1, col.name
        if col.kind == "bool":
            assert dvs[0].type == "list" and dvs[0].formula1 == '"TRUE,FALSE"'


def test_list_validations_reference_other_sheets(wb):
    names = wb.defined_names
    mat = names["list_materials_material"].attr_text
    chem = names["list_chemistry_mix_chemistry"].attr_text
    assert mat == "'materials'!$A$2:$A$1000"
    assert chem == "'chemistry_mix'!$B$2:$B$1000"
    expect = {("intensity", "chemistry"): "list_chemistry_mix_chemistry",
              ("intensity", "material"): "list_materials_material",
              ("imports", "material"): "list_materials_material",
              ("exports", "material"): "list_materials_material",
              ("facilities", "product"): "list_materials_material"}
    for (sheet, column), name in expect.items():
        letter = openpyxl.utils.get_column_letter(S.SHEETS_BY_NAME[sheet].column_names.index(column) + 1)
        dv = _covering(wb[sheet], f"{letter}2")
        assert len(dv) == 1 and dv[0].type == "list" and dv[0].formula1 == name, (sheet, column)
        assert dv[0].error
    # 'cells' is not in the materials list: the product check only warns
    letter = openpyxl.utils.get_column_letter(S.FACILITIES.column_names.index("product") + 1)
    assert _covering(wb["facilities"], f"{letter}2")[0].errorStyle == "warning"


def test_empty_template_gives_input_error_not_traceback(template_path):
    with pytest.raises(InputError) as exc:
        load_case(template_path)
    text = exc.value.report()
    assert "start_year" in text and "end_year" in text
    # issue 11 item 6: everything in one pass; the empty demand and chemistry_mix sheets are reported
    # together with the blank horizon, not after it is filled in
    assert {p.sheet for p in exc.value.problems} == {"settings", "demand", "chemistry_mix"}
    assert all("add" in p.message or "blank" in p.message for p in exc.value.problems)


def _fill(template_path: Path, out: Path, tables: dict) -> Path:
    wb = openpyxl.load_workbook(template_path)
    ws = wb["settings"]
    rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    for k, v in tables["settings"].items():
        ws.cell(row=rows[k], column=2).value = v
    for name, records in tables.items():
        if name == "settings":
            continue
        ws = wb[name]
        col = {c.value: c.column for c in ws[1]}
        for r, rec in enumerate(records, start=2):
            for k, v in rec.items():
                ws.cell(row=r, column=col[k]).value = v
    wb.save(out)
    return out


def test_filled_template_validates(template_path, tmp_path):
    tables = tiny_tables()
    case = load_case(_fill(template_path, tmp_path / "filled.xlsx", tables))
    assert case.warnings == ()
    assert case.years == (2026, 2027, 2028)
    assert set(case.facilities) == {r["facility"] for r in tables["facilities"]}
    assert case.settings.time_limit_s == 60
    # blank settings keep the template's defaults
    t2 = tiny_tables()
    for k in ("discount_rate", "mip_rel_gap", "time_limit_s", "allow_unmet_demand", "unmet_penalty_usd_per_kwh"):
        t2["settings"].pop(k)
    case2 = load_case(_fill(template_path, tmp_path / "filled2.xlsx", t2))
    assert case2.settings.discount_rate == 0.08 and case2.settings.time_limit_s == 600


def test_filled_template_with_the_base_case_validates(template_path, tmp_path):
    from model.basecase import base_case_tables

    tables = base_case_tables()
    tables.pop("sources")
    for name in ("facilities", "imports", "exports", "cell_imports"):
        for rec in tables[name]:
            rec.pop("notes", None)
    case = load_case(_fill(template_path, tmp_path / "filled_base.xlsx", tables))
    assert case.warnings == ()
    assert len(case.facilities) == len(tables["facilities"])


def test_template_is_written_atomically_and_overwrites(tmp_path):
    path = tmp_path / "sub" / "t.xlsx"
    T.write_template(path)
    T.write_template(path)
    assert path.exists()
    assert [p.name for p in path.parent.iterdir()] == ["t.xlsx"]


def test_docs_inputs_md_is_generated_from_schema():
    committed = (ROOT / "docs" / "inputs.md").read_text(encoding="utf-8")
    assert committed == T.schema_markdown(), "docs/inputs.md is stale: run python -m model.template --docs"


def test_schema_markdown_covers_every_column():
    md = T.schema_markdown()
    for sheet in S.SHEETS:
        assert f"## `{sheet.name}`" in md
        for col in sheet.columns:
            assert f"| `{col.name}` |" in md
            if col.unit:
                assert col.unit in md
    for phrase in ("case-insensitively", "ignored", "blank optional cell", "outside the horizon",
                   "names the sheet, the row"):
        assert phrase in md
