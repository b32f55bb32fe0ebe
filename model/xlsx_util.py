"""Small, safe helpers for writing workbooks: atomic saves and text that never turns into a formula."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import IO, Any, Callable, Mapping, Sequence

from .errors import InputError, Problem

# Control characters Excel cannot store (openpyxl raises IllegalCharacterError on them).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f]")
MAX_TEXT = 32_767


def safe_text(value: str) -> str:
    """Strip characters Excel cannot hold and cut to Excel's cell limit."""
    return _ILLEGAL.sub("", value)[:MAX_TEXT]


def set_cell(cell, value: Any) -> None:
    """Write one value; strings are always stored as text, never as a live formula."""
    if isinstance(value, str):
        cell.value = safe_text(value)
        cell.data_type = "s"  # openpyxl would otherwise turn "=..." into a formula
        if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            cell.quotePrefix = True
    elif isinstance(value, float) and value != value:  # NaN -> blank
        cell.value = None
    else:
        cell.value = value


def append_row(ws, values: Sequence[Any], row: int) -> None:
    for c, v in enumerate(values, start=1):
        set_cell(ws.cell(row=row, column=c), v)


def atomic_save(wb, path: str | os.PathLike) -> Path:
    """Save an openpyxl workbook to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, wb.save)


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> Path:
    """Write a file atomically: ``write(fh)`` into a temp file in the same folder, fsync, replace.

    An existing file at ``path`` is only replaced once the new one is completely written, so a
    failed or killed run never leaves a half-written or lost file behind. OS errors become a
    planner-readable :class:`InputError` (full disk, read-only folder, file locked by Excel).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(Problem(str(path), None, None, f"cannot create output folder: {exc.strerror or exc}"))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + path.name + ".", suffix=".tmp")
    except OSError as exc:
        raise InputError(Problem(str(path), None, None, f"cannot write in {folder}: {exc.strerror or exc}"))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; results are ordinary files
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        try:
            dfd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass
    except PermissionError as exc:
        _unlink(tmp)
        raise InputError(Problem(str(path), None, None, f"cannot write the file ({exc.strerror}); "
                                                        "is it open in Excel? Close it and run again"))
    except OSError as exc:
        _unlink(tmp)
        raise InputError(Problem(str(path), None, None, f"cannot write the file: {exc.strerror or exc}"))
    except BaseException:
        _unlink(tmp)
        raise
    return path


def _unlink(p: str) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


def write_input_workbook(path: str | os.PathLike, tables: Mapping[str, Any]) -> Path:
    """Write a case workbook from plain Python data.

    ``tables["settings"]`` is a ``{key: value}`` mapping; every other entry is a list of
    ``{column: value}`` records (a pandas DataFrame also works). Sheets are written in the
    order given. Used by the default-case builder, the template and the tests.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for name, data in tables.items():
        ws = wb.create_sheet(name)
        if name == "settings" and isinstance(data, Mapping):
            header = ["key", "value"]
            rows = [[k, v] for k, v in data.items()]
        else:
            if hasattr(data, "to_dict"):
                data = data.to_dict("records")
            data = list(data)
            header = []
            for rec in data:
                for k in rec:
                    if k not in header:
                        header.append(k)
            if not header:  # an empty table still gets its header row, from the schema
                from .schema import SHEETS_BY_NAME

                sheet = SHEETS_BY_NAME.get(name)
                header = list(sheet.column_names) if sheet else []
            rows = [[rec.get(h) for h in header] for rec in data]
        append_row(ws, header, 1)
        for c in ws[1]:
            c.font = Font(bold=True)
        for i, row in enumerate(rows, start=2):
            append_row(ws, row, i)
        ws.freeze_panes = "A2"
    return atomic_save(wb, path)
