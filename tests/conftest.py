"""Shared fixtures: a tiny valid case and a writer for (modified) cases."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
for p in (str(ROOT), str(TESTS)):
    if p not in sys.path:
        sys.path.insert(0, p)

from cases import tiny_tables, write_case  # noqa: E402

__all__ = ["tiny_tables", "make_case"]


@pytest.fixture
def make_case(tmp_path):
    """Return ``make(tables=None, name="case.xlsx") -> Path`` writing a workbook in ``tmp_path``.

    ``tables`` defaults to :func:`cases.tiny_tables`; a callable changes a fresh copy of the
    tiny case in place (``make_case(lambda t: t["settings"].update(end_year=2030))``); its
    return value is ignored.
    """
    counter = {"n": 0}

    def make(tables=None, name: str | None = None) -> Path:
        if callable(tables):
            t = tiny_tables()
            tables(t)
            tables = t
        counter["n"] += 1
        path = tmp_path / (name or f"case{counter['n']}.xlsx")
        return write_case(path, tables)

    return make
