"""The issue-13 window covers (``window_covers``, off by default) keep the optimum.

Randomised version-1 and version-2 cases (recipes, cell imports, committed builds, vintage capex)
solved at a zero MIP gap as the plain statement and with the window covers on top of the default
strengthening and alone; the optimal objectives must agree. The LP relaxation with them is never
weaker than without, and the rows really are built (with lifetimes shorter than the horizon).
"""
from __future__ import annotations

import pytest

from cases import raw_workbook
from model.data import build_case
from model.formulation import Strengthening, build_model
from test_covers import _capped_import_case, _lp_bound
from test_strengthening import _assert_same, _load, _solve, random_tables
from test_strengthening_v2 import random_v2_tables

WINDOW = Strengthening(window_covers=True)
WINDOW_ALONE = Strengthening(**{**{f: False for f in Strengthening.__dataclass_fields__}, "window_covers": True})


@pytest.mark.parametrize("seed", range(6))
def test_random_cases_keep_the_optimum(tmp_path, seed):
    data = _load(tmp_path, random_tables(600 + seed))
    plain = _solve(data, False)
    _assert_same(plain, _solve(data, WINDOW), f"seed {seed}, window covers on the default")
    _assert_same(plain, _solve(data, WINDOW_ALONE), f"seed {seed}, window covers alone")


@pytest.mark.parametrize("seed", range(6))
def test_random_v2_cases_keep_the_optimum(seed):
    data = build_case(raw_workbook(random_v2_tables(700 + seed)))
    plain = _solve(data, False)
    _assert_same(plain, _solve(data, WINDOW), f"v2 seed {seed}, window covers on the default")
    _assert_same(plain, _solve(data, WINDOW_ALONE), f"v2 seed {seed}, window covers alone")


@pytest.mark.parametrize("seed", range(3))
def test_lp_bound_never_weaker(seed):
    data = build_case(raw_workbook(random_v2_tables(800 + seed)))
    default, window = _lp_bound(data, True), _lp_bound(data, WINDOW)
    if default is None:
        assert window is None  # valid cuts cannot make an infeasible relaxation feasible
    else:
        assert window is not None and window >= default - 1e-7 * abs(default)


def test_window_rows_on_a_capped_import_case_with_rebuilds():
    t = _capped_import_case()
    for f in t["facilities"]:
        f["lifetime_years"] = 2  # modules retire and are rebuilt inside the horizon
    data = build_case(raw_workbook(t))
    m = build_model(data, strengthen=WINDOW)
    assert len(m.s_window_cover) > 0
    assert _lp_bound(data, WINDOW_ALONE) >= _lp_bound(data, False) * (1 - 1e-9)
    _assert_same(_solve(data, False), _solve(data, WINDOW), "capped imports, rebuilds")
