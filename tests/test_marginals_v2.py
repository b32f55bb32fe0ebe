"""Make-vs-buy for cells (break-even cell import price) and for materials made by a recipe, and the
local-content marginal on the Version-2 basis (model.marginals)."""
from __future__ import annotations

import math

import pytest

from model.data import load_case
from model.marginals import MAKE_VS_BUY_COLUMNS, add_marginal_costs
from model.pipeline import solve_case
from model.xlsx_util import write_input_workbook
from test_marginals import LANDED, TWO_YEARS, tables


def _solved(tmp_path, **kw):
    path = tmp_path / "case.xlsx"
    write_input_workbook(path, tables(**kw))
    res = solve_case(load_case(path))
    assert res.solve.status == "optimal"
    add_marginal_costs(res)
    return res


def test_cell_rows_on_a_v1_case(tmp_path):
    res = _solved(tmp_path, **TWO_YEARS)
    mvb = res.tables["make_vs_buy"]
    assert list(mvb.columns) == list(MAKE_VS_BUY_COLUMNS)
    cells = mvb[mvb.material == "cells_LFP"].set_index("year")
    assert list(cells.index) == [2026, 2027]
    assert list(mvb.material[:4]) == ["cathode", "cathode", "anode", "anode"]  # materials first, as before
    r = 0.08
    crf = r / (1 - (1 + r) ** -10)
    for y, made in ((2026, 15.0), (2027, 25.0)):
        row = cells.loc[y]
        assert row.unit == "GWh" and row.decision == "make"
        assert row.local_quantity == pytest.approx(made) and row.import_quantity == 0
        # the materials of one GWh at their marginal cost: cathode imported at the margin, anode imported
        assert row.input_cost_usd_per_unit == pytest.approx(2000 * LANDED + 1000 * 1000, rel=1e-6)
        full = crf * 1e8 / 10 + 1e6 + row.input_cost_usd_per_unit
        assert row.local_full_cost_usd_per_unit == pytest.approx(full, rel=1e-9)
        assert row.break_even_import_usd_per_unit == pytest.approx(full, rel=1e-9)
        assert row.best_facility == "line"
        assert row.cheapest_import_origin is None or isinstance(row.cheapest_import_origin, float)
        assert math.isnan(row.cheapest_import_usd_per_unit)
        assert "no import route for LFP cells" in row.break_even
        # the marginal cost of a GWh of cells is the cell dual
        mc = res.tables["marginal_costs"]
        dual = mc[(mc.kind == "cells") & (mc.item == "LFP") & (mc.year == y)].marginal_usd_per_unit.iloc[0]
        assert row.marginal_cost_usd_per_unit == pytest.approx(dual)
    mat = mvb[mvb.material == "cathode"]
    assert (mat.input_cost_usd_per_unit == 0).all()  # no recipes: a material's inputs cost nothing
