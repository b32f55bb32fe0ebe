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


# --------------------------------------------------------------------------- shared, expensive, read-only
BASE_CASE = ROOT / "inputs" / "base_case.xlsx"


@pytest.fixture(scope="session")
def base_case_solved():
    """``(data, result)``: ``inputs/base_case.xlsx`` loaded and solved by :func:`model.pipeline.solve_case`
    with its own settings, once per test process. Read-only: a test that changes the result or its
    tables must solve its own copy. pytest-xdist (``--dist loadfile``) runs each file in one worker:
    keep the tests using it in one file (tests/test_basecase.py) and the case is solved once."""
    if not BASE_CASE.exists():
        pytest.skip("inputs/base_case.xlsx not built")
    from model.data import load_case
    from model.pipeline import solve_case

    data = load_case(BASE_CASE)
    return data, solve_case(data)


@pytest.fixture(scope="session")
def dask_cluster():
    """One local Dask cluster (two single-threaded worker processes) for the whole session: starting
    one costs seconds. Tests submit to ``dask_cluster.scheduler_address``; they must not close it."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  host="127.0.0.1") as cluster:
        yield cluster
