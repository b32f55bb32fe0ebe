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


PCAM = {"material": "pCAM", "unit": "t", "reference_price_usd_per_unit": 3000}
PCAM_CHINA = {"material": "pCAM", "origin": "China", "price_usd_per_unit": 1000}  # 4,000 + 800 < 5,017.5: make


def test_recipe_inputs_and_cell_imports(tmp_path):
    """Cathode made from imported pCAM (0.8 t/t): its local cost counts the pCAM at its marginal cost;
    cells can be imported at 80 USD/kWh: the cell rows give the break-even cell import price."""
    from test_marginals import ANODE, ANODE_CHINA, ANODE_USE, CAM, CATHODE, CATHODE_USE, CHINA, LINE

    t = tables(years=(2026, 2027), gwh={2026: 15.0, 2027: 25.0}, r=0.08, materials=(CATHODE, ANODE, PCAM),
               intensity=(CATHODE_USE, ANODE_USE), facilities=(LINE, CAM), imports=(CHINA, ANODE_CHINA, PCAM_CHINA))
    t["recipes"] = [{"product": "cathode", "input": "pCAM", "amount_per_unit": 0.8}]
    t["cell_imports"] = [{"chemistry": "LFP", "origin": "China", "price_usd_per_kwh": 80, "max_gwh_per_year": 4}]
    path = tmp_path / "v2.xlsx"
    write_input_workbook(path, t)
    res = solve_case(load_case(path))
    assert res.solve.status == "optimal"
    add_marginal_costs(res)
    mvb = res.tables["make_vs_buy"]
    mc = res.tables["marginal_costs"]

    def marginal(kind, item, y):
        return mc[(mc.kind == kind) & (mc.item == item) & (mc.year == y)].marginal_usd_per_unit.iloc[0]

    for y in (2026, 2027):
        assert marginal("material", "pCAM", y) == pytest.approx(1000.0, rel=1e-6)  # imported at the margin
        cath = mvb[(mvb.material == "cathode") & (mvb.year == y)].iloc[0]
        assert cath.input_cost_usd_per_unit == pytest.approx(0.8 * 1000.0, rel=1e-6)
        assert cath.decision in ("make", "both")
        pcam = mvb[(mvb.material == "pCAM") & (mvb.year == y)].iloc[0]
        # pCAM is used only by the local cathode plant's recipe: 0.8 t per t made
        made = res.tables["production"]
        cam_t = made[(made.facility == "cam") & (made.year == y)].quantity.sum()
        assert cam_t > 0 and pcam.consumption == pytest.approx(0.8 * cam_t, rel=1e-9) and pcam.decision == "buy"
        cells = mvb[(mvb.material == "cells_LFP") & (mvb.year == y)].iloc[0]
        assert cells.cheapest_import_origin == "China"
        assert cells.cheapest_import_usd_per_unit == pytest.approx(80e6)
        imported = res.tables["sourcing"]
        q = imported[(imported.material == "cells_LFP") & (imported.year == y)].quantity.sum()
        assert cells.import_quantity == pytest.approx(q)
        assert cells.local_quantity + cells.import_quantity == pytest.approx({2026: 15.0, 2027: 25.0}[y], rel=1e-9)
        assert cells.input_cost_usd_per_unit == pytest.approx(2000 * marginal("material", "cathode", y)
                                                              + 1000 * marginal("material", "anode", y), rel=1e-6)
        assert cells.break_even_import_usd_per_unit == pytest.approx(cells.local_full_cost_usd_per_unit)
        assert "USD/kWh" in cells.break_even
