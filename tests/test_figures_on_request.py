"""PNG figures are written on request only (``--figures``): they stay off a small run's critical path.

The output workbook carries its own Excel charts; docs/performance.md (issue 13, goal 2) has the
measurement behind the decision.
"""
from __future__ import annotations

from cases import tiny_tables
from model import cli
from model.xlsx_util import write_input_workbook


def _case(tmp_path):
    tables = tiny_tables()  # every figure has something to draw; the default case would only be slower
    tables["settings"]["time_limit_s"] = 60.0
    return write_input_workbook(tmp_path / "case.xlsx", tables)


def test_no_figures_by_default_and_figures_on_request(tmp_path):
    case = _case(tmp_path)
    plain_out = tmp_path / "a" / "r.xlsx"
    assert cli.main(["run", str(case), "-o", str(plain_out), "-q"]) == 0
    assert plain_out.exists() and not (plain_out.parent / "figures").exists()

    out = tmp_path / "b" / "r.xlsx"
    assert cli.main(["run", str(case), "-o", str(out), "-q", "--figures"]) == 0
    pngs = sorted((out.parent / "figures").glob("r_*.png"))
    assert pngs and all(p.stat().st_size > 0 for p in pngs)
