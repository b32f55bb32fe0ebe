"""Every speed-up keeps the optimum: plain statement vs the fast path, at a zero MIP gap.

The fast path is the strengthened model (``build_model(data)``), the HiGHS options of
``model.solve.TUNED_HIGHS_OPTIONS`` and a MIP start from :func:`model.warmstart.relax_and_fix`. The
plain path is ``build_model(data, strengthen=False)`` solved with HiGHS's defaults and no start.
Both are solved to ``mip_rel_gap = 0`` and the optimal objectives must agree to 1e-6 (relative),
on randomised cases (the seeded generator of ``test_strengthening``) and on generated cases whose
plants retire and are rebuilt inside the horizon (short lifetimes).
"""
from __future__ import annotations

import pytest

from benchmarks.generate import CaseSpec, generate_tables
from model.data import load_case
from model.formulation import build_model
from model.solve import TUNED_HIGHS_OPTIONS, SolverOptions, solve_model
from model.warmstart import relax_and_fix
from model.xlsx_util import write_input_workbook
from test_strengthening import random_tables

REL = 1e-6
PLAIN = SolverOptions(mip_rel_gap=0.0, time_limit_s=60.0)
FAST = SolverOptions(mip_rel_gap=0.0, time_limit_s=60.0, extra=TUNED_HIGHS_OPTIONS)


def _load(tmp_path, tables):
    path = tmp_path / "case.xlsx"
    write_input_workbook(path, tables)
    return load_case(path)


def _plain(data):
    return solve_model(build_model(data, strengthen=False), PLAIN)


def _fast(data, window_years=2):
    m = build_model(data)
    start, info = relax_and_fix(m, data.years, window_years=window_years)
    return solve_model(m, FAST, start=start), start, info


def _assert_same(plain, fast, label):
    assert fast.status == plain.status, f"{label}: status {fast.status} != plain {plain.status}"
    if plain.has_solution:
        assert plain.status == "optimal"
        assert fast.objective == pytest.approx(plain.objective, rel=REL, abs=1e-3), label


@pytest.mark.parametrize("seed", range(6))
def test_random_cases_plain_vs_fast(tmp_path, seed):
    data = _load(tmp_path, random_tables(seed))
    plain = _plain(data)
    fast, start, info = _fast(data)
    _assert_same(plain, fast, f"seed {seed}")
    if info.found:  # a start is a feasible plan: never better than the optimum
        assert plain.has_solution
        assert info.objective >= plain.objective * (1 - REL) - 1e-3


REBUILD = [CaseSpec("r1", sites=2, years=6, origins=2, chemistries=1, lifetimes=(2, 3)),
           CaseSpec("r2", sites=2, years=8, origins=1, chemistries=2, lifetimes=(3, 4, 5))]


@pytest.mark.parametrize("spec", REBUILD, ids=lambda s: s.name)
def test_rebuild_cases_plain_vs_fast(tmp_path, spec):
    tables = generate_tables(spec, seed=5)
    data = _load(tmp_path, tables)
    lifetimes = {f.lifetime_years for f in data.facilities.values()}
    assert max(lifetimes) < len(data.years), "plants retire inside the horizon"
    plain = _plain(data)
    fast, start, info = _fast(data, window_years=3)
    assert info.found and start, "relax-and-fix finds a plan on these cases"
    _assert_same(plain, fast, spec.name)


def test_a_start_is_used_and_an_infeasible_start_is_harmless(tmp_path):
    data = _load(tmp_path, generate_tables(REBUILD[0], seed=1))
    plain = _plain(data)
    m = build_model(data)
    start, info = relax_and_fix(m, data.years, window_years=3)
    assert info.found
    # a nonsense start (every build at its upper bound plus one): HiGHS rejects it, same optimum
    bad = [(v, (v.ub or 0) + 1.0) for v, _ in start]
    _assert_same(plain, solve_model(build_model(data), FAST, start=bad), "bad start")
