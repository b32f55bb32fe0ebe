"""The in-memory compiler of :mod:`model.warmstart` (relax-and-fix and ``benchmarks/levers.py``).

Pyomo's standard-form compiler in mixed form marks rows 0 '=', 1 '<=', -1 '>='; :func:`compile_model`
turns them into HiGHS row bounds. Every row kind exists in the model, and the compiled model handed
to HiGHS has the optimum the Pyomo path finds.
"""
from __future__ import annotations

import math

import pytest

from model.formulation import build_model
from model.pipeline import prepare_case
from model.solve import SolverOptions, solve_model
from model.warmstart import _pass, _quiet_stdout, compile_model


def test_compiled_model_has_every_row_kind_and_the_pyomo_optimum(make_case):
    data, _ = prepare_case(make_case())
    sf = compile_model(build_model(data))
    kinds = {(lo == hi, math.isinf(lo), math.isinf(hi)) for lo, hi in zip(sf.row_lower, sf.row_upper)}
    assert {(True, False, False), (False, True, False), (False, False, True)} <= kinds
    assert sf.integer.any() and sf.n_cols == sf.A.shape[1] and sf.n_rows == sf.A.shape[0]

    import highspy

    with _quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.resetGlobalScheduler(False)  # whatever thread count earlier tests of this process started
    _pass(h, sf)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    highs_objective = sf.sense * h.getInfo().objective_function_value
    ref = solve_model(build_model(data), SolverOptions(mip_rel_gap=0.0, time_limit_s=60.0))
    assert ref.status == "optimal"
    assert highs_objective == pytest.approx(ref.objective, rel=1e-9)
