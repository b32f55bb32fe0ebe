"""Hostile and broken input files: every one must give a clean InputError (exit status 2 from the CLI).

The corpus is generated in a temporary folder: schema mistakes written with openpyxl, and
files crafted byte by byte (raw sheet XML, hand-built ZIP packages) for what openpyxl would never
write: NaN in a number cell, entity declarations, zip bombs, lying ZIP headers, truncated files.

* ``test_corpus_item_is_refused_cleanly`` loads every item in-process with ``load_case`` and
  checks the problem text (and its sheet/row/column where there is one);
* ``test_bombs_are_refused_under_a_memory_limit`` loads the resource attacks in a child process
  capped at 2 GiB of address space;
* ``test_cli_refuses_cleanly`` runs a sample through the command line's ``validate`` and ``run`` (in
  this process, tests/clirun.py; one through ``run_optimizer.py`` in its own process): exit status 2,
  no traceback, no output file written or overwritten;
* property-based tests (hypothesis) throw random values into the tiny case.

The figure in docs/reliability.md is the number of passing ``test_corpus_item_is_refused_cleanly``
parameters.
"""
from __future__ import annotations

import datetime as dt
import importlib.util
import io
import json
import re
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import add_v2_sheets, tiny_tables, write_case, raw_workbook
from clirun import run_cli, run_entry_point
from model import schema as S
from model.data import CaseData, build_case, coerce, load_case
from model.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
SHEET_ORDER = list(tiny_tables())  # write_input_workbook writes sheets in this order: sheet1.xml ...


# --------------------------------------------------------------------------- building blocks
def sheet_part(sheet: str) -> str:
    return f"xl/worksheets/sheet{SHEET_ORDER.index(sheet) + 1}.xml"


def changed(**edits) -> Callable[[dict], None]:
    """``changed(demand=(0, "vehicles", -1), settings=("end_year", 2020))``"""
    def change(t):
        for sheet, edit in edits.items():
            if sheet == "settings":
                t["settings"][edit[0]] = edit[1]
            else:
                i, col, value = edit
                t[sheet][i][col] = value
    return change


def from_tables(change: Callable[[dict], None] | None = None):
    def build(path: Path) -> Path:
        t = tiny_tables()
        if change:
            change(t)
        return write_case(path, t)
    return build


def with_openpyxl(edit: Callable):
    """Write the tiny case, then edit it with openpyxl (``edit(wb)``) and save."""
    def build(path: Path) -> Path:
        write_case(path)
        wb = openpyxl.load_workbook(path)
        edit(wb)
        wb.save(path)
        return path
    return build


def repack(src: Path, dst: Path, edits: dict[str, Callable[[bytes], bytes]] | None = None,
           extra: dict[str, bytes] | None = None) -> Path:
    """Copy an xlsx, passing the named members through ``edits`` and adding ``extra`` members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if edits and info.filename in edits:
                data = edits[info.filename](data)
            zout.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def xml_edit(sheet: str, fn: Callable[[bytes], bytes]):
    """Write the tiny case, then rewrite one sheet's XML bytes."""
    def build(path: Path) -> Path:
        tmp = write_case(path.with_name(path.stem + "_src.xlsx"))
        repack(tmp, path, {sheet_part(sheet): fn})
        tmp.unlink()
        return path
    return build


def set_v(cell: str, text: bytes):
    """Replace the stored value of a number cell, e.g. ``<v>nan</v>``, which openpyxl never writes."""
    def fn(xml: bytes) -> bytes:
        out, n = re.subn(rb'(<c r="' + cell.encode() + rb'"[^>]*>)<v>[^<]*</v>', rb"\g<1><v>" + text + rb"</v>", xml)
        assert n == 1, f"cell {cell} not found"
        return out
    return fn


def raw_bytes(data: bytes):
    def build(path: Path) -> Path:
        path.write_bytes(data)
        return path
    return build


def valid_copy(name: str):
    """A valid workbook under a wrong name (``.xls``, ``.xlsm``)."""
    def build(path: Path) -> Path:
        return write_case(path.with_name(name))
    return build


# ---- hand-built ZIP packages (precomputed deflate data, chosen sizes and flags)
@dataclass
class Member:
    name: str
    data: bytes  # raw deflate stream (method 8) or stored bytes (method 0)
    crc: int
    size: int  # uncompressed size written in the headers
    method: int = 8
    flags: int = 0


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def member(name: str, data: bytes) -> Member:
    return Member(name, deflate(data), zlib.crc32(data), len(data))


def zeros_member(name: str, mib: int) -> Member:
    """``mib`` MiB of zeros as deflate data built from one flushed 1 MiB block: ~1000:1, instant."""
    block = b"\0" * 2**20
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    return Member(name, chunk * mib + zlib.compressobj(9, zlib.DEFLATED, -15).flush(), crc, mib * 2**20)


def write_zip(path: Path, members: list[Member]) -> Path:
    local, central, offset = [], [], 0
    for m in members:
        name = m.name.encode()
        head = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, m.flags, m.method, 0, 0x21,
                           m.crc, len(m.data), m.size, len(name), 0) + name
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, m.flags, m.method, 0, 0x21,
                                   m.crc, len(m.data), m.size, len(name), 0, 0, 0, 0, 0, offset) + name)
        local.append(head + m.data)
        offset += len(head) + len(m.data)
    cd = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(cd), offset, 0)
    path.write_bytes(b"".join(local) + cd + end)
    return path


def tiny_members(tmp: Path) -> list[Member]:
    src = write_case(tmp.with_name(tmp.stem + "_src.xlsx"))
    with zipfile.ZipFile(src) as zf:
        out = [member(i.filename, zf.read(i.filename)) for i in zf.infolist()]
    src.unlink()
    return out


def zip_of(make_members: Callable[[list[Member]], list[Member]]):
    def build(path: Path) -> Path:
        return write_zip(path, make_members(tiny_members(path)))
    return build


def replace_member(name: str, new: Member | Callable[[Member], Member]):
    def fn(ms: list[Member]) -> list[Member]:
        return [(new(m) if callable(new) else new) if m.name == name else m for m in ms]
    return fn


# ---- XML attacks
LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
          + b"".join(b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b"]>\n")


def billion_laughs(xml: bytes) -> bytes:
    body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
    body = body.replace(b"<t>year</t>", b"<t>&lol9;</t>", 1)
    return LAUGHS + body


def xxe(xml: bytes) -> bytes:
    body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
    return (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            + body.replace(b"<t>year</t>", b"<t>&e;</t>", 1))


def laughs_in_workbook_xml(path: Path) -> Path:
    tmp = write_case(path.with_name(path.stem + "_src.xlsx"))
    def fn(xml: bytes) -> bytes:
        body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
        return LAUGHS + body.replace(b'name="settings"', b'name="&lol9;"', 1)
    repack(tmp, path, {"xl/workbook.xml": fn})
    tmp.unlink()
    return path


# ---- big sheets, crafted as XML so that the file stays small and quick to build
def sheet_xml(rows: list[bytes]) -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            + b"".join(rows) + b"</sheetData></worksheet>")


def many_rows(n: int) -> Callable[[bytes], bytes]:
    def fn(_xml: bytes) -> bytes:
        head = (b'<row r="1"><c r="A1" t="inlineStr"><is><t>year</t></is></c><c r="B1" t="inlineStr"><is><t>vehicles'
                b'</t></is></c><c r="C1" t="inlineStr"><is><t>kwh_per_vehicle</t></is></c></row>')
        body = [b'<row r="%d"><c r="A%d"><v>2026</v></c></row>' % (r, r) for r in range(2, n + 2)]
        return sheet_xml([head] + body)
    return fn


def far_row(r: int) -> Callable[[bytes], bytes]:
    def fn(xml: bytes) -> bytes:
        return xml.replace(b"</sheetData>", b'<row r="%d"><c r="A%d"><v>1</v></c></row></sheetData>' % (r, r))
    return fn


def many_cells(rows: int, cols: int) -> Callable[[bytes], bytes]:
    def fn(_xml: bytes) -> bytes:
        cells = b"<c><v>1</v></c>" * cols  # r="" is optional on cells
        return sheet_xml([b'<row r="%d">%s</row>' % (r, cells) for r in range(1, rows + 1)])
    return fn


def extra_sheet(xml_fn: Callable[[bytes], bytes]):
    """Replace the notes sheet (an extra sheet) by crafted XML: limits apply to every sheet."""
    def build(path: Path) -> Path:
        t = tiny_tables()
        t["notes"] = [{"note": "bulk data"}]
        tmp = write_case(path.with_name(path.stem + "_src.xlsx"), t)
        repack(tmp, path, {f"xl/worksheets/sheet{len(t)}.xml": xml_fn})
        tmp.unlink()
        return path
    return build


def truncated(fraction: float):
    def build(path: Path) -> Path:
        data = write_case(path.with_name(path.stem + "_src.xlsx")).read_bytes()
        path.with_name(path.stem + "_src.xlsx").unlink()
        path.write_bytes(data[: int(len(data) * fraction)])
        return path
    return build


def corrupt_member(path: Path) -> Path:
    tmp = write_case(path.with_name(path.stem + "_src.xlsx"))
    data = bytearray(tmp.read_bytes())
    tmp.unlink()
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(sheet_part("demand"))
    start = info.header_offset + 30 + len(info.filename.encode())
    for i in range(start + 5, start + min(info.compress_size, 60)):
        data[i] ^= 0xA5
    path.write_bytes(bytes(data))
    return path


def two_sheets_same_name(path: Path) -> Path:
    write_case(path)
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("Demand ")
    ws.append(["year", "vehicles", "kwh_per_vehicle"])
    wb.save(path)
    return path


def title_row(wb):
    wb["facilities"].insert_rows(1)
    wb["facilities"]["A1"] = "Facilities (candidate and existing)"


def merge(sheet: str, ref: str):
    def edit(wb):
        wb[sheet].merge_cells(ref)
    return edit


def put(sheet: str, ref: str, value):
    def edit(wb):
        wb[sheet][ref] = value
    return edit


def only_sheet(name: str, rows: list[list]):
    def build(path: Path) -> Path:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = name
        for r in rows:
            ws.append(r)
        wb.save(path)
        return path
    return build


def folder(path: Path) -> Path:
    path.mkdir()
    return path


def missing(path: Path) -> Path:
    return path.with_name("does_not_exist.xlsx")


# --------------------------------------------------------------------------- the corpus
@dataclass(frozen=True)
class Bad:
    id: str
    build: Callable[[Path], Path]
    expect: tuple[str, ...]  # fragments of the report (case-insensitive)
    where: tuple | None = None  # (sheet, row, column) of one of the problems
    name: str = "case.xlsx"
    bomb: bool = False  # resource attack: also loaded under a memory limit


def bad(id, build, *expect, where=None, name="case.xlsx", bomb=False) -> Bad:
    return Bad(id, build, tuple(expect), where, name, bomb)


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" + b"\0" * 64
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
CSV = b"year,vehicles,kwh_per_vehicle\n2026,20000,50\n2027,40000,55\n"

CORPUS: list[Bad] = [
    # ---- structure
    bad("missing_sheet_settings", from_tables(lambda t: t.pop("settings")), "required sheet is missing",
        where=("settings", None, None)),
    bad("missing_sheet_facilities", from_tables(lambda t: t.pop("facilities")), "required sheet is missing",
        where=("facilities", None, None)),
    bad("misspelt_sheet", from_tables(lambda t: t.__setitem__("Intensities", t.pop("intensity"))),
        "is sheet 'Intensities' meant to be 'intensity'", where=("intensity", None, None)),
    bad("missing_column_share", from_tables(lambda t: [r.pop("share") for r in t["chemistry_mix"]]),
        "required column 'share' is missing", where=("chemistry_mix", 1, "share")),
    bad("missing_column_settings_value", only_sheet("settings", [["key", "amount"], ["start_year", 2026]]),
        "required column 'value' is missing", where=("settings", 1, "value")),
    bad("only_an_unrelated_sheet", only_sheet("Sheet1", [["hello"]]), "required sheet is missing",
        where=("demand", None, None)),
    bad("empty_workbook_sheet", only_sheet("settings", []), "sheet is empty", where=("settings", None, None)),
    bad("title_row_above_header", with_openpyxl(title_row), "required column 'facility' is missing",
        "Facilities (candidate and existing)", where=("facilities", 1, "facility")),
    bad("two_sheets_same_name", two_sheets_same_name, "two sheets have this name"),
    # ---- wrong types
    bad("text_in_number", from_tables(changed(demand=(0, "vehicles", "many"))), "text 'many'",
        where=("demand", 2, "vehicles")),
    bad("text_in_int", from_tables(changed(facilities=(0, "max_modules", "two"))), "whole number",
        where=("facilities", 2, "max_modules")),
    bad("fraction_in_int", from_tables(changed(facilities=(0, "max_modules", 1.5))), "1.5 is not a whole number",
        where=("facilities", 2, "max_modules")),
    bad("percent_in_int", from_tables(changed(facilities=(0, "lifetime_years", "5%"))), "not a whole number",
        where=("facilities", 2, "lifetime_years")),
    bad("date_in_number", from_tables(changed(facilities=(0, "capex_usd_per_module", dt.datetime(2026, 5, 1)))),
        "a date", where=("facilities", 2, "capex_usd_per_module")),
    bad("date_in_year", from_tables(changed(demand=(1, "year", dt.date(2027, 1, 1)))), "a date",
        where=("demand", 3, "year")),
    bad("time_in_number", from_tables(changed(intensity=(0, "amount_per_gwh", dt.time(8, 30)))), "a date",
        where=("intensity", 2, "amount_per_gwh")),
    bad("bool_in_number", from_tables(changed(imports=(0, "tariff_rate", True))), "TRUE/FALSE",
        where=("imports", 2, "tariff_rate")),
    bad("bool_in_text", from_tables(changed(facilities=(0, "facility", False))), "TRUE/FALSE",
        where=("facilities", 2, "facility")),
    bad("bool_setting_garbage", from_tables(changed(settings=("allow_unmet_demand", "sometimes"))),
        "not true/false", where=("settings", 5, "value")),
    bad("excel_error_value", from_tables(changed(chemistry_mix=(0, "share", "#DIV/0!"))), "Excel error value #DIV/0!",
        where=("chemistry_mix", 2, "share")),
    bad("decimal_comma", from_tables(changed(chemistry_mix=(0, "share", "0,6"))), "decimal point",
        where=("chemistry_mix", 2, "share")),
    bad("huge_text_in_number", from_tables(changed(demand=(0, "vehicles", "9" * 5 + "x" * 30000))),
        "where a number belongs", where=("demand", 2, "vehicles")),
    # ---- NaN and infinity
    bad("nan_float_required", from_tables(changed(demand=(0, "kwh_per_vehicle", float("nan")))), "blank",
        where=("demand", 2, "kwh_per_vehicle")),
    bad("inf_float_required", from_tables(changed(materials=(0, "reference_price_usd_per_unit", float("inf")))),
        "blank", where=("materials", 2, "reference_price_usd_per_unit")),
    bad("nan_text", from_tables(changed(demand=(0, "vehicles", "nan"))), "not a finite number",
        where=("demand", 2, "vehicles")),
    bad("inf_text", from_tables(changed(imports=(0, "price_usd_per_unit", "inf"))), "not a finite number",
        where=("imports", 2, "price_usd_per_unit")),
    bad("neg_infinity_text", from_tables(changed(settings=("discount_rate", "-Infinity"))), "not a finite number",
        where=("settings", 4, "value")),
    bad("nan_in_number_cell_xml", xml_edit("demand", set_v("B2", b"nan")), "not a finite number",
        where=("demand", 2, "vehicles")),
    bad("inf_in_number_cell_xml", xml_edit("demand", set_v("C3", b"inf")), "not a finite number",
        where=("demand", 3, "kwh_per_vehicle")),
    bad("overflow_in_number_cell_xml", xml_edit("chemistry_mix", set_v("C2", b"1e999")), "infinite",
        where=("chemistry_mix", 2, "share")),
    bad("letters_in_number_cell_xml", xml_edit("demand", set_v("A2", b"MMXXVI")), "text 'MMXXVI'",
        where=("demand", 2, "year")),
    bad("huge_integer_xml", xml_edit("facilities", set_v("F2", b"9" * 400)), "too large",
        where=("facilities", 2, "max_modules")),
    # ---- out of range
    bad("negative_vehicles", from_tables(changed(demand=(0, "vehicles", -1))), "out of range",
        where=("demand", 2, "vehicles")),
    bad("zero_kwh", from_tables(changed(demand=(0, "kwh_per_vehicle", 0))), "> 0", where=("demand", 2, "kwh_per_vehicle")),
    bad("discount_rate_one", from_tables(changed(settings=("discount_rate", 1.0))), "in [0, 1)",
        where=("settings", 4, "value")),
    bad("time_limit_zero", from_tables(changed(settings=("time_limit_s", 0))), "> 0", where=("settings", 8, "value")),
    bad("ramp_zero", from_tables(changed(facilities=(0, "ramp_up_first_year", 0))), "in (0, 1]",
        where=("facilities", 2, "ramp_up_first_year")),
    bad("lifetime_zero", from_tables(changed(facilities=(1, "lifetime_years", 0))), ">= 1",
        where=("facilities", 3, "lifetime_years")),
    bad("negative_tariff", from_tables(changed(imports=(1, "tariff_rate", -0.1))), ">= 0",
        where=("imports", 3, "tariff_rate")),
    bad("share_above_one", from_tables(changed(chemistry_mix=(3, "share", 1.2))), "in [0, 1]",
        where=("chemistry_mix", 5, "share")),
    bad("negative_modules", from_tables(changed(facilities=(0, "max_modules", -1))), ">= 0",
        where=("facilities", 2, "max_modules")),
    bad("module_size_zero", from_tables(changed(facilities=(0, "module_size", 0))), "module_size must be > 0",
        where=("facilities", 2, "module_size")),
    bad("local_share_two", from_tables(changed(local_content=(0, "min_local_value_share", 2))), "in [0, 1]",
        where=("local_content", 2, "min_local_value_share")),
    # ---- shares
    bad("shares_sum_below_one", from_tables(changed(chemistry_mix=(0, "share", 0.5))), "sum to 0.9",
        where=("chemistry_mix", 2, "share")),
    bad("shares_sum_above_one", from_tables(lambda t: t["chemistry_mix"].append(
        {"year": 2028, "chemistry": "LMFP", "share": 0.1})), "sum to 1.1", where=("chemistry_mix", 6, "share")),
    # ---- duplicates
    bad("duplicate_year", from_tables(lambda t: t["demand"].append(dict(t["demand"][2]))), "duplicate key 2028",
        where=("demand", 5, "year")),
    bad("duplicate_facility", from_tables(lambda t: t["facilities"].append(dict(t["facilities"][1]))),
        "duplicate key cathode_plant", where=("facilities", 4, "facility")),
    bad("duplicate_import_route", from_tables(lambda t: t["imports"].append(dict(t["imports"][0]))),
        "duplicate key cathode_LFP, China", where=("imports", 5, "material,origin")),
    bad("duplicate_intensity", from_tables(lambda t: t["intensity"].append(dict(t["intensity"][3]))),
        "duplicate key NMC, anode", where=("intensity", 6, "chemistry,material")),
    bad("duplicate_setting", with_openpyxl(lambda wb: wb["settings"].append(["END_YEAR", 2030])),
        "duplicate key end_year", where=("settings", 9, "key")),
    # ---- unknown names
    bad("unknown_material_intensity", from_tables(changed(intensity=(1, "material", "graphite"))),
        "unknown material 'graphite'", where=("intensity", 3, "material")),
    bad("unknown_chemistry_intensity", from_tables(changed(intensity=(0, "chemistry", "LMFP"))),
        "unknown chemistry 'LMFP'", where=("intensity", 2, "chemistry")),
    bad("unknown_product", from_tables(changed(facilities=(0, "product", "cell"))), "unknown product 'cell'",
        "did you mean 'cells'", where=("facilities", 2, "product")),
    bad("unknown_material_imports", from_tables(changed(imports=(2, "material", "Anode"))),
        "unknown material 'Anode'", "did you mean 'anode'", where=("imports", 4, "material")),
    bad("unknown_material_exports", from_tables(changed(exports=(0, "material", "lithium"))),
        "unknown material 'lithium'", where=("exports", 2, "material")),
    # ---- years
    bad("end_before_start", from_tables(changed(settings=("end_year", 2020))), "end_year 2020 is before start_year 2026",
        where=("settings", 3, "value")),
    bad("missing_horizon_year", from_tables(lambda t: t["demand"].pop(1)), "no demand for horizon year(s) 2027",
        where=("demand", None, "year")),
    bad("horizon_longer_than_data", from_tables(changed(settings=("end_year", 2030))), "2029-2030",
        where=("chemistry_mix", None, "year")),
    bad("facility_year_1800", from_tables(changed(facilities=(0, "earliest_online_year", 1800))), "[1900, 2500]",
        where=("facilities", 2, "earliest_online_year")),
    bad("import_year_3000", from_tables(changed(imports=(0, "first_year", 3000))), "[1900, 2500]",
        where=("imports", 2, "first_year")),
    bad("start_year_1800", from_tables(changed(settings=("start_year", 1800))), "[1900, 2500]",
        where=("settings", 2, "value")),
    bad("missing_start_year", from_tables(lambda t: t["settings"].pop("start_year")),
        "required setting 'start_year' is missing", where=("settings", None, "key")),
    # ---- formulas, merged cells
    bad("formula_without_value", with_openpyxl(put("demand", "B3", "=B2*2")), "formula '=B2*2' has no saved value",
        where=("demand", 3, "vehicles")),
    bad("formula_in_setting", with_openpyxl(put("settings", "B3", "=B2+2")), "has no saved value",
        where=("settings", 3, "value")),
    bad("formula_in_key_column", with_openpyxl(put("materials", "A3", '=UPPER("anode")')), "has no saved value",
        where=("materials", 3, "material")),
    bad("merged_cells", with_openpyxl(merge("facilities", "B2:C2")), "merged cells B2:C2; unmerge them",
        where=("facilities", 2, "product")),
    bad("merged_header", with_openpyxl(merge("demand", "A1:B1")), "merged cells A1:B1",
        where=("demand", 1, "year")),
    bad("merged_settings", with_openpyxl(merge("settings", "A3:B3")), "merged cells A3:B3",
        where=("settings", 3, "key")),
    # ---- size limits
    bad("rows_300k", xml_edit("demand", many_rows(300_000)), "300001 rows; the limit is 100000",
        where=("demand", None, None), bomb=True),
    bad("one_cell_far_down", xml_edit("demand", far_row(500_000)), "500000 rows", where=("demand", None, None)),
    bad("rows_in_extra_sheet", extra_sheet(many_rows(150_000)), "rows; the limit", bomb=True),
    bad("too_many_cells", extra_sheet(many_cells(20_000, 26)), "cells; the limit is 500000", bomb=True),
    # ---- not an xlsx
    bad("text_file_as_xlsx", raw_bytes(b"Just some notes about the case.\nNothing tabular here.\n"), "plain text"),
    bad("csv_as_xlsx", raw_bytes(CSV), "plain text (CSV?)"),
    bad("csv_named_csv", raw_bytes(CSV), "CSV", name="case.csv"),
    bad("empty_file", raw_bytes(b""), "the file is empty"),
    bad("png_as_xlsx", raw_bytes(PNG), "image"),
    bad("pdf_as_xlsx", raw_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), "PDF"),
    bad("html_as_xlsx", raw_bytes(b"<html><body><table><tr><td>year</td></tr></table></body></html>"), "HTML"),
    bad("random_bytes", raw_bytes(bytes((i * 7919 + 13) % 256 for i in range(4096))), "not an Excel .xlsx workbook"),
    bad("ole_encrypted", raw_bytes(OLE), "password-protected or in the old .xls format"),
    bad("zip_without_workbook", zip_of(lambda ms: [member("readme.txt", b"hello")]), "without an xl/workbook.xml"),
    bad("ods_package", zip_of(lambda ms: [member("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
                                          member("content.xml", b"<office:document-content/>")]), "OpenDocument"),
    bad("truncated_half", truncated(0.5), "damaged"),
    bad("truncated_tail", truncated(0.97), "damaged"),
    bad("corrupt_member_data", corrupt_member, "damaged", where=("demand", None, None)),
    bad("xls_name", valid_copy("case.xls"), "old Excel 97-2003", name="case.xls"),
    bad("xlsm_name", valid_copy("case.xlsm"), "macro-enabled", name="case.xlsm"),
    bad("xlsb_name", valid_copy("case.xlsb"), "binary Excel", name="case.xlsb"),
    bad("directory", folder, "is a folder", name="folder.xlsx"),
    bad("missing_file", missing, "file not found"),
    bad("malformed_sheet_xml", xml_edit("demand", lambda x: x.replace(b"</sheetData>", b"<row><c></sheetData>")),
        "cannot read the sheet beyond row 4", where=("demand", 5, None)),
    bad("bad_row_number_xml", xml_edit("demand", lambda x: x.replace(b'<row r="3"', b'<row r="three"', 1)),
        "cannot read", where=("demand", 3, None)),
    # ---- XML and ZIP attacks
    bad("billion_laughs_sheet", xml_edit("demand", billion_laughs), "entity", bomb=True),
    bad("billion_laughs_workbook_xml", laughs_in_workbook_xml, "entity", bomb=True),
    bad("external_entity", xml_edit("demand", xxe), "entity"),
    bad("zip_bomb_200mb", zip_of(replace_member(sheet_part("demand"), zeros_member(sheet_part("demand"), 200))),
        "zip bomb", bomb=True),
    bad("zip_bomb_extra_member", zip_of(lambda ms: ms + [zeros_member("xl/media/image1.png", 200)]), "zip bomb",
        bomb=True),
    bad("zip_total_too_large", zip_of(lambda ms: ms + [
        Member(f"xl/media/big{i}.bin", b"\x03\x00", 0, 120 * 2**20, method=8) for i in range(3)]),
        "expands", bomb=True),
    bad("zip_many_members", zip_of(lambda ms: ms + [member(f"xl/media/m{i}.bin", b"x") for i in range(2001)]),
        "parts; the limit is 2000", bomb=True),
    bad("zip_lying_size", zip_of(replace_member(sheet_part("demand"), lambda m: Member(m.name, m.data, m.crc, 10))),
        "damaged", where=("demand", None, None), bomb=True),
    bad("zip_bad_crc", zip_of(replace_member(sheet_part("demand"), lambda m: Member(m.name, m.data, m.crc ^ 1, m.size))),
        "damaged", where=("demand", None, None)),
    bad("zip_encrypted_flag", zip_of(replace_member(sheet_part("demand"), lambda m: Member(
        m.name, m.data, m.crc, m.size, flags=1))), "encrypted"),
]


def cached_formula(sheet: str, cell: str, formula: str, cached: str):
    """A formula with a saved result in a workbook that asks for recalculation on load (xlsxwriter's way)."""
    def fn(xml: bytes) -> bytes:
        out, n = re.subn(rb'<c r="' + cell.encode() + rb'"[^>]*?(/>|>.*?</c>)',
                         b'<c r="' + cell.encode() + b'"><f>' + formula.encode() + b"</f><v>" + cached.encode()
                         + b"</v></c>", xml, count=1)
        assert n == 1
        return out
    return xml_edit(sheet, fn)


# ---- issue 9: legal-looking cells that crashed, exhausted or misled the tool
CORPUS += [
    bad("escalation_1e300", from_tables(changed(imports=(0, "price_escalation_per_year", 1e300))),
        "landed import cost", "at most 1e+13", where=("imports", 2, "price_escalation_per_year")),
    bad("escalation_100_over_30_years", from_tables(lambda t: (
        t["settings"].update(end_year=2056),
        t["demand"].extend({"year": y, "vehicles": 1000, "kwh_per_vehicle": 50} for y in range(2029, 2057)),
        t["chemistry_mix"].extend({"year": y, "chemistry": "LFP", "share": 1.0} for y in range(2029, 2057)),
        t["imports"][0].update(price_escalation_per_year=100))),
        "landed import cost", where=("imports", 2, "price_escalation_per_year")),
    bad("module_size_denormal", from_tables(changed(facilities=(0, "module_size", 1e-320))), "at least 1e-09",
        where=("facilities", 2, "module_size")),
    bad("base_year_2500", from_tables(changed(settings=("base_year", 2500))), "base_year inside the horizon",
        where=("settings", 9, "value")),
    bad("penalty_1e308", from_tables(changed(settings=("unmet_penalty_usd_per_kwh", 1e308))), "penalty",
        where=("settings", 6, "value")),
    bad("capex_1e300", from_tables(changed(facilities=(0, "capex_usd_per_module", 1e300))), "annualised capex",
        where=("facilities", 2, "capex_usd_per_module")),
    bad("intensity_tiny", from_tables(changed(intensity=(0, "amount_per_gwh", 1e-200))), "material intensity",
        where=("intensity", 2, "amount_per_gwh")),
    bad("vehicles_1e300", from_tables(changed(demand=(0, "vehicles", 1e300))), "cell demand",
        where=("demand", 2, "vehicles")),
    bad("lead_time_1e15", from_tables(changed(facilities=(0, "lead_time_years", 10**15))), "[0, 50]",
        where=("facilities", 2, "lead_time_years")),
    bad("max_modules_1e12", from_tables(changed(facilities=(0, "max_modules", 10**12))), "10000",
        where=("facilities", 2, "max_modules")),
    bad("horizon_475_years", from_tables(changed(settings=("end_year", 2500))), "the limit is 100",
        where=("settings", 3, "value")),
    bad("cached_zero_recalc_on_load", cached_formula("settings", "B4", "0.04*2", "0"), "cannot be trusted",
        where=("settings", 4, "value")),
    bad("cached_value_in_demand", cached_formula("demand", "B2", "10000*2", "0"), "cannot be trusted",
        where=("demand", 2, "vehicles")),
]

def build(item: Bad, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return item.build(folder / item.name)


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    """``corpus_file(item) -> path``: each item is built once per module (reading never changes it)."""
    base = tmp_path_factory.mktemp("corpus")
    cache: dict[str, Path] = {}

    def get(item: Bad) -> Path:
        if item.id not in cache:
            cache[item.id] = build(item, base / item.id)
        return cache[item.id]
    return get


def located(err: InputError, where: tuple) -> bool:
    return any((p.sheet, p.row, p.column) == where for p in err.problems)


# --------------------------------------------------------------------------- the corpus, in-process
def test_corpus_is_large_and_ids_unique():
    assert len(CORPUS) >= 60
    assert len({b.id for b in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("item", CORPUS, ids=[b.id for b in CORPUS])
def test_corpus_item_is_refused_cleanly(item: Bad, corpus_file):
    path = corpus_file(item)
    with pytest.raises(InputError) as ei:
        load_case(path)
    err = ei.value
    report = err.report()
    assert err.problems and all(p.sheet and p.message for p in err.problems)
    assert "Traceback" not in report
    for p in err.problems:  # messages are short enough to read
        assert len(p.message) < 700, p
    for frag in item.expect:
        assert frag.lower() in report.lower(), f"{frag!r} not in:\n{report}"
    if item.where:
        assert located(err, item.where), f"no problem at {item.where}:\n{report}"
        sheet, row, column = item.where
        text = next(str(p) for p in err.problems if (p.sheet, p.row, p.column) == item.where)
        assert f"sheet '{sheet}'" in text
        if row is not None:
            assert f"row {row}" in text
        if column is not None:
            assert f"column '{column}'" in text


# --------------------------------------------------------------------------- resource attacks under a memory cap
_LIMITED = textwrap.dedent("""
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))
    sys.path.insert(0, sys.argv[1])
    from model.data import load_case
    from model.errors import InputError
    out = {}
    for path in sys.argv[2:]:
        try:
            load_case(path)
            out[path] = "loaded"
        except InputError as exc:
            out[path] = "InputError: " + exc.report()
        except BaseException as exc:
            out[path] = "CRASH: " + type(exc).__name__ + ": " + str(exc)[:200]
    print(json.dumps(out))
""")


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_AS is POSIX")
def test_bombs_are_refused_under_a_memory_limit(corpus_file):
    bombs = [b for b in CORPUS if b.bomb]
    assert len(bombs) >= 8
    paths = [str(corpus_file(b)) for b in bombs]
    proc = subprocess.run([sys.executable, "-c", _LIMITED, str(ROOT), *paths], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for b, p in zip(bombs, paths):
        assert result[p].startswith("InputError"), f"{b.id}: {result[p]}"


# --------------------------------------------------------------------------- the CLI
CLI_SAMPLE = ["missing_sheet_settings", "text_in_number", "nan_in_number_cell_xml", "formula_without_value",
              "escalation_1e300", "module_size_denormal", "cached_zero_recalc_on_load", "lead_time_1e15",
              "merged_cells", "ole_encrypted", "truncated_half", "billion_laughs_sheet", "zip_bomb_200mb",
              "directory"]
_BY_ID = {b.id: b for b in CORPUS}


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory, corpus_file):
    """Run every sampled item through ``validate`` and ``run`` once."""
    if importlib.util.find_spec("model.cli") is None or not (ROOT / "run_optimizer.py").exists():
        pytest.skip("the command line (model/cli.py) is not there yet")
    base = tmp_path_factory.mktemp("cli")
    jobs = []
    for i, id_ in enumerate(CLI_SAMPLE):
        path = corpus_file(_BY_ID[id_])
        out = base / id_ / "out" / "result.xlsx"
        if i % 2:  # an existing output must survive a bad input untouched
            out.parent.mkdir(parents=True)
            out.write_bytes(b"previous results")
        jobs.append((id_, "validate", [str(path)], None))
        jobs.append((id_, "run", [str(path), "-o", str(out)], out))

    def one(job):  # in this process (tests/clirun.py): the exit status and the printed text are main()'s
        id_, cmd, args, out = job
        if (id_, cmd) == (CLI_SAMPLE[0], "run"):  # one through the real entry point: what reaches the real
            proc = run_entry_point(cmd, *args, cwd=ROOT)  # stderr, and the process's own exit status
        else:
            proc = run_cli(cmd, *args, cwd=ROOT, check_traceback=False)  # test_cli_refuses_cleanly checks it
        return (id_, cmd), (proc, out)

    return dict(map(one, jobs))


@pytest.mark.parametrize("cmd", ["validate", "run"])
@pytest.mark.parametrize("id_", CLI_SAMPLE)
def test_cli_refuses_cleanly(cli_runs, id_, cmd):
    proc, out = cli_runs[(id_, cmd)]
    text = proc.stdout + proc.stderr
    assert proc.returncode == 2, text
    assert "Traceback" not in text
    assert text.strip(), "the problem must be printed"
    for frag in _BY_ID[id_].expect:
        assert frag.lower() in text.lower(), text
    if out is not None:
        if out.parent.exists() and out.exists():
            assert out.read_bytes() == b"previous results", "an existing output was overwritten"
        else:
            assert not out.exists()
        leftovers = [p.name for p in out.parent.glob("*")] if out.parent.exists() else []
        assert leftovers in ([], ["result.xlsx"]), leftovers


# --------------------------------------------------------------------------- property-based
_NUMERIC = [(s.name, c.name) for s in S.SHEETS if s.layout == "table" for c in s.columns if c.kind in ("int", "float")]
_ANY = [(s.name, c.name) for s in S.SHEETS if s.layout == "table" for c in s.columns]
_SETTINGS = [c.name for c in S.SETTINGS.columns]

cell_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["nan", "inf", "-inf", "1e999", "5%", "1,000", "1,5", "#N/A", "#REF!", " 0.5 ", "TRUE", "cells",
                     "2026", "2026.0", "-0", "1e-4", "\u22121", "", "   ", "=1+1"]),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1)),
    st.times(),
)


@st.composite
def mutations(draw, columns=_NUMERIC, max_edits=4):
    t = add_v2_sheets(tiny_tables())  # the version-2 sheets are fuzzed too
    for _ in range(draw(st.integers(1, max_edits))):
        if draw(st.integers(0, 5)) == 0:
            t["settings"][draw(st.sampled_from(_SETTINGS))] = draw(cell_values)
        else:
            sheet, col = draw(st.sampled_from(columns))
            i = draw(st.integers(0, len(t[sheet]) - 1))
            t[sheet][i][col] = draw(cell_values)
    return t


def _check_outcome(fn):
    try:
        case = fn()
    except InputError as exc:
        assert exc.problems
        for p in exc.problems:
            assert isinstance(p.sheet, str) and p.sheet.strip(), p
            assert p.sheet.strip().lower() in S.SHEETS_BY_NAME, p
            assert p.message
            assert p.row is None or (isinstance(p.row, int) and p.row >= 1), p
        return None
    assert isinstance(case, CaseData)
    assert all(isinstance(v, float) for v in case.vehicles.values())
    for f in case.facilities.values():
        assert isinstance(f.max_modules, int) and isinstance(f.lifetime_years, int) and f.lifetime_years >= 1
        assert 0 < f.ramp_up_first_year <= 1
    for (k, y), v in case.share.items():
        assert 0 <= v <= 1 and y in case.years
    return case


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations())
def test_random_numeric_cells_give_a_case_or_located_problems(tables):
    _check_outcome(lambda: build_case(raw_workbook(tables)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations(columns=_ANY, max_edits=6))
def test_random_cells_anywhere_give_a_case_or_located_problems(tables):
    _check_outcome(lambda: build_case(raw_workbook(tables)))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mutations())
def test_random_cells_through_a_real_file(tmp_path, tables):
    path = tmp_path / "h.xlsx"
    try:
        write_case(path, tables)
    except Exception:  # openpyxl refuses some values (e.g. control characters): not our reader's business
        return
    _check_outcome(lambda: load_case(path))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_coerce_round_trips_floats(x):
    assert coerce(x, "float") == x
    assert coerce(repr(x), "float") == x
    assert coerce(f" {x!r} ", "float") == x


@given(st.integers(min_value=-2**53, max_value=2**53))
def test_coerce_round_trips_ints(i):
    assert coerce(i, "int") == i and isinstance(coerce(i, "int"), int)
    assert coerce(float(i), "int") == i
    assert coerce(str(i), "int") == i
    assert coerce(i, "float") == float(i)
    assert coerce(f"{i:,}", "float") == float(i)


@given(st.one_of(cell_values, st.binary(max_size=20), st.lists(st.integers(), max_size=3)),
       st.sampled_from(S.KINDS))
def test_coerce_raises_only_bad(value, kind):
    from model.data import _Bad
    try:
        coerce(value, kind)
    except _Bad as exc:
        assert str(exc)
