"""Reading an ``.xlsx`` workbook safely into plain Python values (no Pyomo, no validation).

The reader guards against hostile files before openpyxl parses anything: the file must be a
ZIP of bounded size and compression ratio (zip bombs), XML entities are refused by defusedxml
(billion laughs), and each sheet is read with bounded rows and columns. Cells keep their Excel
row numbers so that every later message can point at them.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import os
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import InputError, Problem

# Limits for untrusted workbooks. A real case is a few hundred kB.
MAX_FILE_BYTES = 50 * 2**20
MAX_UNCOMPRESSED_BYTES = 300 * 2**20
MAX_MEMBER_RATIO = 200  # uncompressed / compressed, for members over 1 MiB
MAX_ZIP_MEMBERS = 2000
MAX_ROWS = 200_000
MAX_COLS = 300


def normalise(name: Any) -> str:
    """Sheet and column names match case-insensitively, surrounding spaces ignored."""
    return str(name).strip().lower() if name is not None else ""


@dataclass(frozen=True)
class RawSheet:
    """One sheet as read: a header and records, each with its Excel row number.

    ``header`` keeps the spelling found in the workbook (extra columns included) so that a
    report can echo the sheet as the planner wrote it.
    """

    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    excel_rows: tuple[int, ...]
    header_row: int = 1

    def col_index(self, column: str) -> int | None:
        target = normalise(column)
        for i, h in enumerate(self.header):
            if normalise(h) == target:
                return i
        return None

    def records(self):
        """Yield ``(excel_row, {normalised column: value})`` for every record."""
        names = [normalise(h) for h in self.header]
        for r, values in zip(self.excel_rows, self.rows):
            yield r, {n: v for n, v in zip(names, values) if n}

    def with_rows(self, rows, excel_rows=None, header=None) -> "RawSheet":
        return replace(self, rows=tuple(tuple(r) for r in rows),
                       excel_rows=tuple(excel_rows if excel_rows is not None else self.excel_rows),
                       header=tuple(header if header is not None else self.header))


@dataclass(frozen=True)
class RawWorkbook:
    """Every sheet of a workbook, keyed by normalised sheet name, plus provenance."""

    sheets: dict[str, RawSheet]
    path: str = ""
    sha256: str = ""
    problems: tuple[Problem, ...] = field(default=())  # reading-level problems (e.g. formulas)

    def sheet(self, name: str) -> RawSheet | None:
        return self.sheets.get(normalise(name))

    def with_sheet(self, sheet: RawSheet) -> "RawWorkbook":
        sheets = dict(self.sheets)
        sheets[normalise(sheet.name)] = sheet
        return replace(self, sheets=sheets)


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_zip(path: Path) -> None:
    """Refuse files that are not a sane xlsx before any XML is parsed."""
    where = Problem(path.name, None, None, "")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(replace(where, message=f"cannot read the file: {exc.strerror or exc}"))
    if size > MAX_FILE_BYTES:
        raise InputError(replace(where, message=f"file is {size / 2**20:.0f} MiB; the limit is {MAX_FILE_BYTES // 2**20} MiB"))
    if not zipfile.is_zipfile(path):
        raise InputError(replace(where, message="not an Excel .xlsx workbook (the file is not a ZIP package; "
                                                "save it from Excel as 'Excel Workbook (*.xlsx)')"))
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise InputError(replace(where, message=f"workbook has {len(infos)} parts; the limit is {MAX_ZIP_MEMBERS}"))
            names = {i.filename for i in infos}
            if "EncryptionInfo" in names or "EncryptedPackage" in names:
                raise InputError(replace(where, message="workbook is password-protected; save an unprotected copy"))
            total = 0
            for info in infos:
                if info.flag_bits & 0x1:
                    raise InputError(replace(where, message="workbook is encrypted; save an unprotected copy"))
                total += info.file_size
                if info.file_size > 2**20 and info.file_size > MAX_MEMBER_RATIO * max(info.compress_size, 1):
                    raise InputError(replace(where, message=f"part '{info.filename}' expands {info.file_size // max(info.compress_size, 1)}:1 "
                                                            "(looks like a zip bomb); refused"))
            if total > MAX_UNCOMPRESSED_BYTES:
                raise InputError(replace(where, message=f"workbook expands to {total / 2**20:.0f} MiB; the limit is "
                                                        f"{MAX_UNCOMPRESSED_BYTES // 2**20} MiB"))
            if "xl/workbook.xml" not in names:
                raise InputError(replace(where, message="not an Excel .xlsx workbook (no xl/workbook.xml part)"))
    except zipfile.BadZipFile as exc:
        raise InputError(replace(where, message=f"corrupt workbook: {exc}"))


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value if value else None
    return value


def _read_sheet(ws, formulas_ws, title: str, problems: list[Problem]) -> RawSheet:
    rows: list[tuple] = []
    excel_rows: list[int] = []
    header: tuple[str, ...] | None = None
    header_row = 1
    ncols = 0
    formula_iter = formulas_ws.iter_rows(max_col=MAX_COLS, values_only=True) if formulas_ws is not None else None
    for r, values in enumerate(ws.iter_rows(max_col=MAX_COLS, values_only=True), start=1):
        fvalues = next(formula_iter, None) if formula_iter is not None else None
        if r > MAX_ROWS:
            problems.append(Problem(title, r, None, f"sheet has more than {MAX_ROWS} rows; the limit is {MAX_ROWS}"))
            break
        values = tuple(_clean(v) for v in values)
        if fvalues is not None:
            for c, (v, f) in enumerate(zip(values, fvalues)):
                if v is None and isinstance(f, str) and f.startswith("="):
                    problems.append(Problem(title, r, str(header[c]) if header and c < len(header) and header[c] else _col_letter(c),
                                            f"formula {f[:40]!r} has no saved value; open and save the workbook in Excel, "
                                            "or type the value"))
        if header is None:
            if all(v is None for v in values):
                continue
            header_row = r
            last = max(i for i, v in enumerate(values) if v is not None)
            header = tuple("" if v is None else str(v).strip() for v in values[: last + 1])
            ncols = len(header)
            continue
        if all(v is None for v in values):
            continue
        row = tuple(values[:ncols]) + (None,) * max(0, ncols - len(values))
        rows.append(row)
        excel_rows.append(r)
    return RawSheet(title, header or (), tuple(rows), tuple(excel_rows), header_row)


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        s = chr(65 + rem) + s
    return s


def read_workbook(path: str | os.PathLike) -> RawWorkbook:
    """Read every sheet of an xlsx workbook into a :class:`RawWorkbook`.

    Raises :class:`InputError` for files that cannot be read safely; problems inside sheets
    (such as formulas without saved values) are collected in ``RawWorkbook.problems``.
    """
    import openpyxl
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # pragma: no cover - guarded by the package dependencies
        raise RuntimeError("defusedxml must be installed so that hostile XML is refused")
    path = Path(path)
    if not path.exists():
        raise InputError(Problem(path.name, None, None, f"file not found: {path}"))
    if path.is_dir():
        raise InputError(Problem(path.name, None, None, f"{path} is a folder, not a workbook"))
    _check_zip(path)
    problems: list[Problem] = []
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
        wbf = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise InputError(Problem(path.name, None, None, f"cannot open the workbook: {type(exc).__name__}: {exc}"[:300]))
    sheets: dict[str, RawSheet] = {}
    try:
        for ws in wb.worksheets:
            key = normalise(ws.title)
            if key in sheets:
                problems.append(Problem(ws.title, None, None, "two sheets have this name (names ignore case and spaces)"))
                continue
            try:
                ws.reset_dimensions()
                fws = wbf[ws.title]
                fws.reset_dimensions()
                sheets[key] = _read_sheet(ws, fws, ws.title, problems)
            except InputError:
                raise
            except Exception as exc:
                problems.append(Problem(ws.title, None, None, f"cannot read the sheet: {type(exc).__name__}: {exc}"[:300]))
    finally:
        wb.close()
        wbf.close()
    return RawWorkbook(sheets=sheets, path=str(path), sha256=file_sha256(path), problems=tuple(problems))


def is_date(value: Any) -> bool:
    return isinstance(value, (_dt.date, _dt.datetime, _dt.time, _dt.timedelta))
