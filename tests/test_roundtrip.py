"""The Excel round-trip: an output workbook is a valid input (interface.md, "input sheets as solved").

``run outputs/x_results.xlsx`` re-solves the inputs echoed in the output and finds the same plan;
a planner can edit an echoed input sheet of an output, add notes (an extra column, an extra
sheet) and run it again: the edit takes effect and the notes are kept, never rejected.
"""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from cases import tiny_tables, write_case
from clirun import run_cli
from model.compare import compare

ROOT = Path(__file__).resolve().parents[1]
REL = 1e-9
RESULT_SHEETS = {"summary", "charts", "build_schedule", "production", "sourcing", "demand", "costs",
                 "capex_cashflow", "local_content"}


def cli(*args, cwd=None):
    """The command line in this process (tests/clirun.py); asserts no traceback was printed."""
    return run_cli(*args, cwd=cwd)


def run(case, out, *extra):
    p = cli("run", case, "-o", out, "--no-figures", *extra)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def summary(path) -> dict:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True) if r[0]}
    finally:
        wb.close()


def objective(path) -> float:
    s = summary(path)
    assert s["status"] == "optimal", s["status"]
    return s["net_present_cost_usd"]


def sheet_names(path) -> list[str]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def input_sheet_names(path) -> list[str]:
    return [n for n in sheet_names(path) if n not in RESULT_SHEETS]


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    d = tmp_path_factory.mktemp("rt")
    t = tiny_tables()
    t["settings"]["mip_rel_gap"] = 0.0
    t["scenarios"] = [{"scenario": "high_tariff", "address": "imports[anode,China].tariff_rate", "operation": "=",
                       "value": "0.4"}]
    return d, write_case(d / "case.xlsx", t)


@pytest.fixture(scope="module")
def r1(case):
    d, c = case
    out = d / "x_results.xlsx"
    run(c, out)
    return out


def test_output_is_a_valid_input(case, r1):
    d, _ = case
    p = cli("validate", r1)
    assert p.returncode == 0, p.stdout + p.stderr
    r2 = d / "x_results_again.xlsx"
    run(r1, r2)
    assert objective(r2) == pytest.approx(objective(r1), rel=REL)
    assert compare(r1, r2).inputs == []  # the same inputs, cell for cell


def test_rerun_does_not_echo_result_sheets_as_inputs(case, r1):
    """Running an output again must not take its result tables for extra input sheets (they would be
    echoed as ``input_<table>`` and pile up run after run)."""
    d, _ = case
    r2 = d / "x_results_rerun.xlsx"
    run(r1, r2)
    assert [n for n in sheet_names(r2) if n.startswith("input_") and n[6:] in RESULT_SHEETS - {"demand", "local_content"}] == []
    assert input_sheet_names(r2) == input_sheet_names(r1)
    assert sheet_names(r2) == sheet_names(r1)


def test_output_of_a_run_with_overrides_reruns_to_the_same_objective(case):
    d, c = case
    r1 = d / "ov1.xlsx"
    run(c, r1, "--set", "facilities[*].capex_usd_per_module*=0.5", "--set", "settings.discount_rate=0.05")
    s1 = summary(r1)
    assert "override_1" in s1 and "override_2" in s1
    r2 = d / "ov2.xlsx"
    run(r1, r2)
    s2 = summary(r2)
    assert s2["net_present_cost_usd"] == pytest.approx(s1["net_present_cost_usd"], rel=REL)
    assert s2.get("overrides") == "none" and "override_1" not in s2  # the overrides are in the echoed cells now
    assert s2["case_discount_rate"] == pytest.approx(0.05)
    assert compare(r1, r2).inputs == []
    # and the direct run without overrides is different (the overrides mattered)
    assert objective(d / "ov2.xlsx") != pytest.approx(objective(_plain_run(case)), rel=1e-6)


def _plain_run(case):
    d, c = case
    out = d / "plain.xlsx"
    if not out.exists():
        run(c, out)
    return out


def test_output_of_a_scenario_run_reruns_to_the_same_objective(case):
    d, c = case
    r1 = d / "sc1.xlsx"
    run(c, r1, "--scenario", "high_tariff")
    r2 = d / "sc2.xlsx"
    run(r1, r2)  # the echoed sheets already carry the scenario; it is not applied twice
    assert objective(r2) == pytest.approx(objective(r1), rel=REL)
    assert objective(r1) > objective(_plain_run(case)) * (1 + 1e-6)


def _edit_output(src: Path, dst: Path, facility: str, capex: float) -> None:
    """What a planner does in Excel: change a capex in the echoed facilities sheet, add a comment column
    and a notes sheet."""
    wb = openpyxl.load_workbook(src)
    ws = wb["facilities"]
    head = [c.value for c in ws[1]]
    fcol, ccol = head.index("facility") + 1, head.index("capex_usd_per_module") + 1
    comment_col = len(head) + 1
    ws.cell(row=1, column=comment_col, value="comment")
    found = False
    for r in range(2, ws.max_row + 1):
        if ws.cell(row=r, column=fcol).value == facility:
            ws.cell(row=r, column=ccol, value=capex)
            ws.cell(row=r, column=comment_col, value="quote from the EPC contractor, May")
            found = True
    assert found
    notes = wb.create_sheet("my_notes")
    notes.append(["topic", "note"])
    notes.append(["capex", "raised after the site visit"])
    wb.save(dst)
    wb.close()


def test_planner_edits_an_output_and_reruns_it(case, r1):
    d, c = case
    edited = d / "edited.xlsx"
    new_capex = 4e8
    _edit_output(r1, edited, "cathode_plant", new_capex)

    r3 = d / "edited_results.xlsx"
    p = cli("run", edited, "-o", r3, "--no-figures")
    assert p.returncode == 0, p.stdout + p.stderr
    direct = d / "direct.xlsx"
    run(c, direct, "--set", f"facilities[cathode_plant].capex_usd_per_module={new_capex:g}")
    assert objective(r3) == pytest.approx(objective(direct), rel=REL)
    assert objective(r3) != pytest.approx(objective(r1), rel=1e-6)  # the edit took effect

    # the comparison finds the edit and the comment, nothing else
    diffs = {(x.sheet, x.key, x.column, x.change) for x in compare(r1, r3).inputs}
    assert diffs == {("facilities", "cathode_plant", "capex_usd_per_module", "changed"),
                     ("facilities", "cathode_plant", "comment", "changed")}

    # the extra column is kept in the echoed facilities sheet of the next output
    wb = openpyxl.load_workbook(r3, read_only=True)
    try:
        rows = list(wb["facilities"].iter_rows(values_only=True))
        names = wb.sheetnames
        notes = list(wb["my_notes"].iter_rows(values_only=True)) if "my_notes" in names else None
    finally:
        wb.close()
    head = list(rows[0])
    assert "comment" in head
    rec = {r[head.index("facility")]: r for r in rows[1:]}
    assert rec["cathode_plant"][head.index("comment")] == "quote from the EPC contractor, May"
    assert rec["cathode_plant"][head.index("capex_usd_per_module")] == pytest.approx(new_capex)
    if notes is not None:  # an extra sheet may be echoed too; if it is, unchanged
        assert notes[:2] == [("topic", "note"), ("capex", "raised after the site visit")]

    # and that output runs again to the same plan
    r4 = d / "edited_results_again.xlsx"
    run(r3, r4)
    assert objective(r4) == pytest.approx(objective(r3), rel=REL)


def test_base_case_output_reruns_within_the_gap(tmp_path):
    base = ROOT / "inputs" / "base_case.xlsx"
    if not base.exists():
        pytest.skip("inputs/base_case.xlsx not built")
    r1, r2 = tmp_path / "base_results.xlsx", tmp_path / "base_again.xlsx"
    run(base, r1)
    run(r1, r2)
    s1, s2 = summary(r1), summary(r2)
    assert s1["status"] == s2["status"] == "optimal", (s1["status"], s2["status"])
    gap = max(float(s1.get("setting_mip_rel_gap") or 0), float(s1.get("mip_gap") or 0), float(s2.get("mip_gap") or 0))
    o1, o2 = s1["net_present_cost_usd"], s2["net_present_cost_usd"]
    assert abs(o2 - o1) <= 2 * gap * abs(o1) + 1e-6 * max(1.0, abs(o1)) * 1e-3
    assert compare(r1, r2).inputs == []
