"""Reading an ``.xlsx`` workbook safely into plain Python values (no Pyomo, no validation).

The reader refuses hostile or broken files before openpyxl parses anything, then reads each
sheet with bounded work. In order:

1. the path: it must exist, be a file, and not carry a name Excel uses for another format
   (``.xls``, ``.xlsm``, ``.xlsb``, ``.csv``, ``.ods`` ...);
2. the bytes: an empty file, an old ``.xls`` or password-protected workbook (OLE compound
   file), a text/CSV file, an image, a truncated ZIP each get their own message;
3. the ZIP central directory, before any decompression: file size, number of parts, total
   uncompressed size and per-part compression ratio (zip bombs), encryption flags;
4. a streaming byte scan of every worksheet part (no XML parser involved): XML ``DOCTYPE`` /
   ``ENTITY`` declarations are refused (billion laughs), rows and cells are counted against
   limits, merged ranges and formula cells are found;
5. openpyxl in read-only, ``data_only`` mode with defusedxml active. Formula cells without a
   saved value are found with a second pass, only on sheets that contain formulas.

Cells keep their Excel row numbers so that every later message can point at them. Reading
problems that only matter if the sheet is used (merged cells, formulas without a saved value)
are recorded on the :class:`RawSheet` and turned into problems by the validator, which knows
which sheets and columns the schema uses; problems with the file itself raise
:class:`InputError` here.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import InputError, Problem, file_problem

# Limits for untrusted workbooks. A real case is a few hundred kB and a few thousand cells.
MAX_FILE_BYTES = 50 * 2**20
MAX_UNCOMPRESSED_BYTES = 300 * 2**20
MAX_MEMBER_RATIO = 200  # uncompressed / compressed, for members over 1 MiB
MAX_ZIP_MEMBERS = 2000
MAX_ROWS = 100_000  # rows per sheet (Excel row numbers)
MAX_COLS = 300  # columns read per sheet; cells right of this are ignored
MAX_CELLS = 500_000  # cells in the whole workbook (openpyxl reads ~40k cells/s)

#: Suffixes that name another format: refused with a message saying what to do.
_OTHER_FORMATS = {
    ".xls": "an old Excel 97-2003 workbook (.xls)",
    ".xlsm": "a macro-enabled workbook (.xlsm)",
    ".xltm": "a macro-enabled template (.xltm)",
    ".xlsb": "a binary Excel workbook (.xlsb)",
    ".ods": "an OpenDocument spreadsheet (.ods)",
    ".csv": "a CSV text file",
    ".txt": "a text file",
    ".tsv": "a text file",
}
_SAVE_AS = "open it in Excel and save it as 'Excel Workbook (*.xlsx)'"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def normalise(name: Any) -> str:
    """Sheet and column names match case-insensitively, surrounding spaces ignored."""
    return str(name).strip().lower() if name is not None else ""


@dataclass(frozen=True)
class RawSheet:
    """One sheet as read: a header and records, each with its Excel row number.

    ``header`` keeps the spelling found in the workbook (extra columns included) so that a
    report can echo the sheet as the planner wrote it.

    ``merged`` lists merged ranges (``"A3:B3"``) and ``formula_cells`` the cells holding a
    formula without a saved value, as ``(excel_row, column_index, formula)`` (0-based column
    index). ``complete`` is False when the sheet could not be read to the end (see
    ``RawWorkbook.problems``). The validator decides which of these matter.
    """

    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    excel_rows: tuple[int, ...]
    header_row: int = 1
    merged: tuple[str, ...] = ()
    formula_cells: tuple[tuple[int, int, str], ...] = ()
    complete: bool = True
    #: Cells of ``formula_cells`` whose saved result was discarded, ``(excel_row, column_index)``:
    #: the workbook asks to be recalculated on opening (``fullCalcOnLoad``, e.g. written by
    #: xlsxwriter, which stores 0 for every formula), so the saved result cannot be trusted.
    untrusted_results: tuple[tuple[int, int], ...] = ()

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

    def column_label(self, index: int) -> str:
        """The header of a 0-based column index, or its letter when it has no header."""
        if 0 <= index < len(self.header) and self.header[index]:
            return str(self.header[index])
        return col_letter(index)


@dataclass(frozen=True)
class RawWorkbook:
    """Every sheet of a workbook, keyed by normalised sheet name, plus provenance."""

    sheets: dict[str, RawSheet]
    path: str = ""
    sha256: str = ""
    problems: tuple[Problem, ...] = field(default=())  # reading-level problems (e.g. unreadable sheet)

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


# --------------------------------------------------------------------------- file checks
def _check_path(path: Path) -> None:
    where = file_problem(path.name or str(path), "")
    if path.is_dir():
        raise InputError(replace(where, message=f"{path} is a folder, not a workbook"))
    if not path.exists():
        raise InputError(replace(where, message=f"file not found: {path}"))
    if not path.is_file():
        raise InputError(replace(where, message=f"{path} is not a regular file"))
    kind = _OTHER_FORMATS.get(path.suffix.lower())
    if kind:
        raise InputError(replace(where, message=f"the file name says it is {kind}, not an .xlsx workbook; {_SAVE_AS}"))


def _sniff(head: bytes) -> str:
    """What a non-ZIP file looks like, for the message."""
    if head.startswith(_OLE_MAGIC):
        return ("the file is password-protected or in the old .xls format (an OLE compound file, not an .xlsx "
                "package); remove the password or " + _SAVE_AS)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "the workbook is damaged or incomplete (a truncated or corrupt ZIP package); save or copy it again"
    if head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8\xff") or head.startswith(b"GIF8"):
        return "the file is an image, not an .xlsx workbook"
    if head.startswith(b"%PDF"):
        return "the file is a PDF, not an .xlsx workbook"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:5].lower() in (b"<?xml", b"<html", b"<!doc") or stripped[:1] == b"<":
        return "the file is XML or HTML (a web page or an 'XML Spreadsheet 2003'), not an .xlsx workbook; " + _SAVE_AS
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(ch.isprintable() or ch in "\r\n\t" for ch in text[:-4]):
        return "the file is plain text (CSV?), not an .xlsx workbook; " + _SAVE_AS
    return "not an Excel .xlsx workbook (the file is not a ZIP package); " + _SAVE_AS


def _check_zip(path: Path) -> None:
    """Refuse files that are not a sane xlsx before any XML is parsed (central directory only)."""
    where = file_problem(path.name, "")
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        raise InputError(replace(where, message=f"cannot read the file: {exc.strerror or exc}"))
    if size == 0:
        raise InputError(replace(where, message="the file is empty (0 bytes)"))
    if size > MAX_FILE_BYTES:
        raise InputError(replace(where, message=f"file is {size / 2**20:.0f} MiB; the limit is {MAX_FILE_BYTES // 2**20} MiB"))
    if not zipfile.is_zipfile(path):
        raise InputError(replace(where, message=_sniff(head)))
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
                    raise InputError(replace(where, message=f"part '{info.filename[:80]}' expands "
                                                            f"{info.file_size // max(info.compress_size, 1)}:1 "
                                                            "(looks like a zip bomb); refused"))
            if total > MAX_UNCOMPRESSED_BYTES:
                raise InputError(replace(where, message=f"workbook expands to {total / 2**20:.0f} MiB; the limit is "
                                                        f"{MAX_UNCOMPRESSED_BYTES // 2**20} MiB"))
            if "xl/workbook.xml" not in names:
                if "content.xml" in names and "mimetype" in names:
                    raise InputError(replace(where, message="the file is an OpenDocument spreadsheet (.ods), not .xlsx; "
                                                            + _SAVE_AS))
                if "xl/workbook.bin" in names:
                    raise InputError(replace(where, message="the file is a binary Excel workbook (.xlsb); " + _SAVE_AS))
                raise InputError(replace(where, message="not an Excel .xlsx workbook (a ZIP file without "
                                                        "an xl/workbook.xml part); " + _SAVE_AS))
    except zipfile.BadZipFile as exc:
        raise InputError(replace(where, message=f"the workbook is damaged (corrupt ZIP package: {exc}); save or copy it again"))


# --------------------------------------------------------------------------- sheet byte scan
@dataclass(frozen=True)
class _Scan:
    """What a byte scan of one worksheet part found (no XML parser involved)."""

    rows: int = 0  # <row> elements
    last_row: int = 0  # largest r="" of a <row> element that is not empty-and-self-closing
    cells: int = 0  # <c> elements
    has_formulas: bool = False
    merged: tuple[str, ...] = ()
    dtd: bool = False


_CHUNK = 1 << 20
_OVERLAP = 2048
_PREFIX = re.compile(rb"<(?:([A-Za-z_][\w.\-]*):)?worksheet[\s>/]")


def _scan_sheet(zf: zipfile.ZipFile, part: str) -> _Scan:
    """Stream one worksheet part through a few byte patterns.

    The part's size is already bounded by the central-directory checks, and ``ZipExtFile`` never
    inflates more than the declared size. Patterns are searched in overlapping windows so that a
    tag split across two chunks is counted exactly once (a match counts in the window where it
    starts before the cut-off).
    """
    rows = cells = last_row = 0
    formulas = dtd = False
    merged: list[str] = []
    pat = None
    buf = b""
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(_CHUNK)
            final = not chunk
            buf += chunk
            if pat is None:
                m = _PREFIX.search(buf)
                if m is None and not final and len(buf) < 64 * 1024:
                    continue  # the root tag has not arrived yet
                pat = _patterns(m.group(1) if m else None)
            cutoff = len(buf) if final else max(0, len(buf) - _OVERLAP)
            if not dtd:
                dtd = any(0 <= buf.find(tok, 0, cutoff + len(tok) - 1) for tok in (b"<!DOCTYPE", b"<!ENTITY"))
            for tok in pat["cell"]:
                cells += buf.count(tok, 0, cutoff + len(tok) - 1)
            for tok in pat["row"]:
                rows += buf.count(tok, 0, cutoff + len(tok) - 1)
            for m in pat["rowtag"].finditer(buf):
                if m.start() >= cutoff:
                    break
                attrs = m.group(1)
                if attrs.endswith(b"/"):
                    continue  # <row .../> holds no cells
                rm = _ROW_R.search(attrs)
                if rm:
                    last_row = max(last_row, int(rm.group(1)))
            if not formulas:
                fm = pat["formula"].search(buf)
                formulas = fm is not None and fm.start() < cutoff
            for m in pat["merge"].finditer(buf):
                if m.start() >= cutoff:
                    break
                merged.append(m.group(1).decode("ascii", "replace"))
            if final:
                break
            buf = buf[cutoff:]
    return _Scan(rows=rows, last_row=max(last_row, rows), cells=cells, has_formulas=formulas,
                 merged=tuple(merged), dtd=dtd)


_ROW_R = re.compile(rb"\br=[\"'](\d{1,12})[\"']")


def _patterns(prefix: bytes | None) -> dict:
    """Byte patterns for a worksheet whose elements carry ``prefix:`` (usually none)."""
    pre = prefix + b":" if prefix else b""
    rp = re.escape(pre)
    return dict(
        cell=(b"<" + pre + b"c ", b"<" + pre + b"c>"),
        row=(b"<" + pre + b"row ", b"<" + pre + b"row>"),
        rowtag=re.compile(b"<" + rp + rb"row\b([^>]{0,1000})>"),
        formula=re.compile(b"<" + rp + rb"f[\s>/]"),
        merge=re.compile(b"<" + rp + rb"mergeCell\b[^>]{0,1000}?\bref=[\"']([^\"']{1,40})[\"']"),
    )


# --------------------------------------------------------------------------- openpyxl reading
def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value if value else None
    return value


def _tolerant_cast_number(value):
    """openpyxl's number cast, but a number cell holding non-numeric text (``nan``, ``inf``, ``1,5``,
    written by some tools) is returned as that text instead of stopping the whole sheet; the
    validator then reports it at its row and column."""
    try:
        if "." in value or "E" in value or "e" in value:
            return float(value)
        return int(value)
    except (ValueError, TypeError):
        return value


def _patch_openpyxl() -> None:
    try:
        from openpyxl.worksheet import _reader
    except Exception:  # pragma: no cover
        return
    if getattr(_reader, "_cast_number", None) is not _tolerant_cast_number and hasattr(_reader, "_cast_number"):
        _reader._cast_number = _tolerant_cast_number


#: Formulas that are constants: LibreOffice writes a typed TRUE/FALSE this way.
_BOOL_FORMULAS = {"=TRUE()": True, "=FALSE()": False, "=TRUE": True, "=FALSE": False}


def _read_sheet(ws, formulas_ws, title: str, problems: list[Problem], merged: tuple[str, ...] = (),
                untrusted: bool = False) -> RawSheet:
    rows: list[tuple] = []
    excel_rows: list[int] = []
    header: tuple[str, ...] | None = None
    header_row = 1
    ncols = 0
    formula_cells: list[tuple[int, int, str]] = []
    discarded: list[tuple[int, int]] = []
    complete = True
    limit = MAX_ROWS + 1  # also bounds the empty rows openpyxl invents for gaps in row numbers
    formula_iter = (formulas_ws.iter_rows(max_col=MAX_COLS, max_row=limit, values_only=True)
                    if formulas_ws is not None else None)
    r = 0
    try:
        for r, values in enumerate(ws.iter_rows(max_col=MAX_COLS, max_row=limit, values_only=True), start=1):
            fvalues = next(formula_iter, None) if formula_iter is not None else None
            blank = values.count(None) == len(values)
            if fvalues is not None:
                fixed = None
                for c, (v, f) in enumerate(zip(values, fvalues)):
                    if not (isinstance(f, str) and f.startswith("=")):
                        continue
                    const = _BOOL_FORMULAS.get(f.replace(" ", "").upper())
                    if const is not None:  # LibreOffice saves TRUE/FALSE as =TRUE() / =FALSE()
                        fixed = list(values) if fixed is None else fixed
                        fixed[c] = const
                        blank = False
                    elif v is None or untrusted:  # no saved value, or one the writer asked to recalculate
                        formula_cells.append((r, c, f))
                        if v is not None:
                            discarded.append((r, c))
                            fixed = list(values) if fixed is None else fixed
                            fixed[c] = None
                        blank = False
                if fixed is not None:
                    values = tuple(fixed)
            if blank:
                continue
            if r > MAX_ROWS:
                problems.append(Problem(title, r, None, f"sheet has data below row {MAX_ROWS}, the limit; "
                                                        "delete the rows under the table"))
                complete = False
                break
            if header is None:
                values = tuple(_clean(v) for v in values)
                if all(v is None for v in values):
                    continue
                header_row = r
                last = max(i for i, v in enumerate(values) if v is not None)
                header = tuple("" if v is None else str(v).strip() for v in values[: last + 1])
                ncols = len(header)
                continue
            values = tuple(_clean(v) for v in values[:ncols])
            if all(v is None for v in values):
                continue
            row = values + (None,) * max(0, ncols - len(values))
            rows.append(row)
            excel_rows.append(r)
    except InputError:
        raise
    except Exception as exc:  # a damaged sheet part: keep what was read, say where it stopped
        problems.append(Problem(title, r + 1 if r else None, None,
                                f"cannot read the sheet beyond row {r}: {type(exc).__name__}: {exc}"[:300]
                                + "; the file may be damaged: open and save it again in Excel"))
        complete = False
    return RawSheet(title, header or (), tuple(rows), tuple(excel_rows), header_row,
                    merged=tuple(merged), formula_cells=tuple(formula_cells), complete=complete,
                    untrusted_results=tuple(discarded))


def col_letter(i: int) -> str:
    """Excel column letters of a 0-based column index (0 -> A, 26 -> AA)."""
    s = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        s = chr(65 + rem) + s
    return s




def _entity_error(exc: BaseException) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        name = type(exc).__name__
        if name in ("EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden", "NotSupportedError") or \
                "entit" in str(exc).lower() or "DTD" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


_DTD_MESSAGE = ("the workbook contains XML entity or DOCTYPE declarations, which Excel never writes; "
                "refused as unsafe (possible 'billion laughs' attack)")


_REL_WORKSHEET = "/worksheet"
_REL_STRINGS = "/sharedStrings"
MAX_INDEX_PART_BYTES = 16 * 2**20  # workbook.xml and its relationships: a few kB in real files


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse_small_xml(zf: zipfile.ZipFile, part: str, where: str):
    """Parse a small index part (workbook.xml, .rels) with defusedxml."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    info = zf.getinfo(part)
    if info.file_size > MAX_INDEX_PART_BYTES:
        raise InputError(file_problem(where, f"part '{part}' is {info.file_size / 2**20:.0f} MiB; "
                                                    "an Excel workbook's index is a few kB; refused"))
    try:
        return fromstring(zf.read(part))
    except DefusedXmlException:
        raise InputError(file_problem(where, _DTD_MESSAGE))
    except Exception as exc:
        raise InputError(file_problem(where, f"the workbook is damaged ({part}: {type(exc).__name__}: "
                                                    f"{str(exc)[:120]}); open and save it again in Excel"))


def _resolve(base_dir: str, target: str) -> str:
    import posixpath

    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(base_dir, target))


def _parts(zf: zipfile.ZipFile, where: str) -> tuple[list[tuple[str, str]], list[str], bool]:
    """``([(sheet name, worksheet part)], [shared-strings parts])`` from workbook.xml and its relationships.

    Parsed here, before openpyxl, so that every worksheet part can be scanned before openpyxl
    touches it (openpyxl parses a whole sheet at load time when its ``<dimension>`` is missing).
    """
    names = set(zf.namelist())
    rels: dict[str, tuple[str, str]] = {}
    if "xl/_rels/workbook.xml.rels" in names:
        root = _parse_small_xml(zf, "xl/_rels/workbook.xml.rels", where)
        for el in root.iter():
            if _local(el.tag) == "Relationship" and el.get("Id") and el.get("Target"):
                rels[el.get("Id")] = (el.get("Type") or "", _resolve("xl", el.get("Target")))
    sheets: list[tuple[str, str]] = []
    full_calc = False  # <calcPr fullCalcOnLoad="1">: the writer (xlsxwriter, some exporters) stored
    # placeholder results, typically 0, for the application to recalculate
    root = _parse_small_xml(zf, "xl/workbook.xml", where)
    for el in root.iter():
        if _local(el.tag) == "calcPr":
            full_calc = str(el.get("fullCalcOnLoad", "")).strip().lower() in ("1", "true")
        if _local(el.tag) != "sheet":
            continue
        rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
        kind, target = rels.get(rid, ("", ""))
        if kind.endswith(_REL_WORKSHEET) and target in names:
            sheets.append((el.get("name") or target, target))
    listed = {t for _, t in sheets}
    # parts that look like worksheets but are not listed are scanned too (openpyxl may not read them,
    # but nothing large gets past unscanned)
    for n in sorted(names):
        if n.startswith("xl/worksheets/") and n.endswith(".xml") and n not in listed:
            sheets.append((n.rsplit("/", 1)[-1], n))
    strings = [t for kind, t in rels.values() if kind.endswith(_REL_STRINGS) and t in names]
    return sheets, strings, full_calc


def _count_tokens(zf: zipfile.ZipFile, part: str, tokens: tuple[bytes, ...]) -> int:
    n = 0
    tail = b""
    longest = max(len(t) for t in tokens)
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(_CHUNK)
            buf = tail + chunk
            if not chunk:
                return n + sum(buf.count(t) for t in tokens)
            cut = len(buf) - longest
            n += sum(buf.count(t, 0, cut + len(t) - 1) for t in tokens)
            tail = buf[cut:]


def _prescan(zf: zipfile.ZipFile, where: str) -> tuple[dict[str, _Scan], bool]:
    """Scan every worksheet part against the limits; raise InputError when one is exceeded. Also returns
    whether workbook.xml asks for a full recalculation on load (its formula results are placeholders)."""
    sheets, strings, full_calc = _parts(zf, where)
    scans: dict[str, _Scan] = {}
    refuse: list[Problem] = []
    total = 0
    for title, part in sheets:
        try:
            scan = _scan_sheet(zf, part)
        except InputError:
            raise
        except Exception as exc:  # zlib.error, BadZipFile (bad CRC), EOFError: a damaged package
            raise InputError(Problem(title, None, None, f"the sheet's data is damaged ({type(exc).__name__}: "
                                                        f"{str(exc)[:120]}); open and save the workbook again in Excel"))
        if scan.dtd:
            raise InputError(Problem(title, None, None, _DTD_MESSAGE))
        scans[part] = scan
        total += scan.cells
        if scan.last_row > MAX_ROWS:
            refuse.append(Problem(title, None, None, f"sheet has {scan.last_row} rows; the limit is {MAX_ROWS}: delete "
                                                     "the rows under the table (or move bulk data to another file)"))
    if total > MAX_CELLS:
        refuse.append(file_problem(where, f"workbook has {total} cells; the limit is {MAX_CELLS}"))
    for part in strings:
        try:
            n = _count_tokens(zf, part, (b"<si>", b"<si ", b":si>", b":si "))
        except Exception as exc:
            raise InputError(file_problem(where, f"the workbook's text table is damaged ({type(exc).__name__}); "
                                                        "open and save it again in Excel"))
        if n > MAX_CELLS:
            refuse.append(file_problem(where, f"workbook has {n} distinct texts; the limit is {MAX_CELLS}"))
    if refuse:
        raise InputError(refuse)
    return scans, full_calc


def read_workbook(path: str | os.PathLike) -> RawWorkbook:
    """Read every sheet of an xlsx workbook into a :class:`RawWorkbook`.

    Raises :class:`InputError` for files that cannot be read safely; sheet-level problems are
    collected in ``RawWorkbook.problems`` and on each :class:`RawSheet`.
    """
    import openpyxl
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # pragma: no cover - guarded by the package dependencies
        raise RuntimeError("defusedxml must be installed so that hostile XML is refused")
    _patch_openpyxl()
    path = Path(path)
    _check_path(path)
    _check_zip(path)
    name = path.name
    problems: list[Problem] = []
    fh = fh2 = wb = wbf = None
    try:
        fh = open(path, "rb")
        try:
            zf = zipfile.ZipFile(fh)
            scans, untrusted = _prescan(zf, name)
        except zipfile.BadZipFile as exc:
            raise InputError(file_problem(name, f"the workbook is damaged (corrupt ZIP package: {exc}); "
                                                       "save or copy it again"))
        try:
            # openpyxl is given an open file so that it does not judge the file by its name.
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True, keep_links=False)
        except Exception as exc:  # openpyxl raises many kinds for broken files
            if _entity_error(exc):
                raise InputError(file_problem(name, _DTD_MESSAGE))
            raise InputError(file_problem(name, f"cannot open the workbook: {type(exc).__name__}: {exc}"[:300]
                                     + "; the file may be damaged: open and save it again in Excel"))
        sheets: dict[str, RawSheet] = {}
        for ws in wb.worksheets:
            key = normalise(ws.title)
            if key in sheets:
                problems.append(Problem(ws.title, None, None, "two sheets have this name (names ignore case and spaces)"))
                continue
            part = str(getattr(ws, "_worksheet_path", "") or "").lstrip("/")
            scan = scans.get(part)
            try:
                ws.reset_dimensions()
                fws = None
                if scan is None or scan.has_formulas:
                    if wbf is None:
                        fh2 = open(path, "rb")
                        wbf = openpyxl.load_workbook(fh2, read_only=True, data_only=False, keep_links=False)
                    fws = wbf[ws.title]
                    fws.reset_dimensions()
                sheets[key] = _read_sheet(ws, fws, ws.title, problems, merged=scan.merged if scan is not None else (),
                                          untrusted=untrusted)
            except InputError:
                raise
            except Exception as exc:
                if _entity_error(exc):
                    raise InputError(Problem(ws.title, None, None, _DTD_MESSAGE))
                problems.append(Problem(ws.title, None, None, f"cannot read the sheet: {type(exc).__name__}: {exc}"[:300]))
                sheets[key] = RawSheet(ws.title, (), (), (), complete=False)
    finally:
        for obj in (wb, wbf):
            if obj is not None:
                try:
                    obj.close()
                except Exception:
                    pass
        for f in (fh, fh2):
            if f is not None:
                f.close()
    return RawWorkbook(sheets=sheets, path=str(path), sha256=file_sha256(path), problems=tuple(problems))


def is_date(value: Any) -> bool:
    return isinstance(value, (_dt.date, _dt.datetime, _dt.time, _dt.timedelta))
