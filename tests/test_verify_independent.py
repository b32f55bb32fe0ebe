"""The independent check (model/verify.py) does not share the data layer's derived figures.

A bug planted in a ``CaseData`` method moves the model and its result tables together; the check
recomputes every derived figure from the plain input values, so it must now fail the re-solved
plan. Also: non-finite numbers fail the check, and ``battery-plan verify`` rechecks a results
workbook (in-process CLI calls).
"""
from __future__ import annotations

import ast
import dataclasses
import inspect
import math
import shutil
from pathlib import Path

import pytest

from cases import raw_workbook, tiny_tables, write_case
from model import data as data_mod
from model import verify as verify_mod
from model.cli import main
from model.data import CaseData, build_case
from model.errors import ModelError
from model.pipeline import solve_case
from model.verify import recheck, verify


def _solve(tables=None):
    res = solve_case(build_case(raw_workbook(tables)), check=False)
    assert res.solve.has_solution
    return res


# --------------------------------------------------------------------------- planted bugs
def _landed_tariff_on_freight(self, m, o, y):
    rt = self.imports[(m, o)]
    return (1.0 + rt.tariff_rate) * (rt.price_usd_per_unit * (1.0 + rt.price_escalation_per_year)
                                     ** (y - self.settings.base_year) + rt.freight_usd_per_unit)


def _crf_wrong_lifetime(self, f):
    r = self.settings.discount_rate
    n = self.facilities[f].lifetime_years + 5
    return r / (1.0 - (1.0 + r) ** -n)


def _demand_off(self, k, y):
    return 1.1 * self.vehicles[y] * self.kwh_per_vehicle[y] * self.share.get((k, y), 0.0) / 1e6


def _df_off_by_one(self, y):
    return (1.0 + self.settings.discount_rate) ** -(y - self.settings.base_year + 1)


def _existing_wrong_year(self, f, y):
    fac = self.facilities[f]
    return fac.existing_capacity if y > fac.existing_from_year else 0.0


def _existing_om_wrong_year(self, f, y):
    fac = self.facilities[f]
    return fac.existing_fixed_om_usd_per_year if (fac.existing_capacity > 0 and y > fac.existing_from_year) else 0.0


def _build_years_ignore_earliest(self, f):
    return tuple(self.years) if self.facilities[f].max_modules > 0 else ()


def _import_years_ignore_first(self, m, o):
    return tuple(self.years)


def _late_cell_plant(t):
    t["facilities"][0]["earliest_online_year"] = 2027


def _late_anode(t):
    t["imports"][2]["first_year"] = 2027


PLANTED = [
    # (CaseData method, buggy replacement, change to the tiny case, words the failure must contain)
    ("landed_cost", _landed_tariff_on_freight, None, "cost imports"),
    ("crf", _crf_wrong_lifetime, None, "cost capex_annualised"),
    ("demand_gwh", _demand_off, None, "cell demand of"),
    ("discount_factor", _df_off_by_one, None, "discounted cost"),
    ("existing_capacity", _existing_wrong_year, None, "capacity of cathode_plant in 2026"),
    ("existing_fixed_om", _existing_om_wrong_year, None, "cost existing_fixed_om in 2026"),
    ("build_years", _build_years_ignore_earliest, _late_cell_plant, "cannot bring modules online in 2026"),
    ("import_years", _import_years_ignore_first, _late_anode, "before first_year 2027"),
]


@pytest.mark.parametrize("method,bug,change,words", PLANTED, ids=[p[0] for p in PLANTED])
def test_planted_bug_in_data_layer_fails_the_check(monkeypatch, method, bug, change, words):
    tables = tiny_tables()
    if change:
        change(tables)
    clean = _solve(tables)
    verify(clean)  # the correct plan passes
    monkeypatch.setattr(CaseData, method, bug)
    buggy = _solve(tables)
    # the bug really moves the model (else the test would prove nothing)
    assert not math.isclose(buggy.solve.objective, clean.solve.objective, rel_tol=1e-9)
    with pytest.raises(ModelError, match="independent check failed") as exc:
        verify(buggy)
    assert words in str(exc.value)


def test_every_derived_method_of_the_data_layer_is_planted():
    """A new derived method of CaseData needs a planted-bug case here (or a reason in this list)."""
    structural = {"facilities_making", "cell_facilities", "material_facilities"}  # name lists, not figures
    methods = {n for n, v in vars(CaseData).items() if not n.startswith("_") and (callable(v) or isinstance(v, property))}
    assert methods - structural - {p[0] for p in PLANTED} == set()


def _derived_names() -> tuple[set[str], set[str]]:
    """(methods, properties) of CaseData and of the record dataclasses of model.data."""
    methods, props = set(), set()
    for _, cls in inspect.getmembers(data_mod, inspect.isclass):
        if cls.__module__ != data_mod.__name__ or not dataclasses.is_dataclass(cls):
            continue
        fields = {f.name for f in dataclasses.fields(cls)}
        for n, v in vars(cls).items():
            if n.startswith("_") or n in fields:
                continue
            if isinstance(v, property):
                props.add(n)
            elif callable(v):
                methods.add(n)
    return methods, props


def test_verify_calls_no_derived_method_of_the_data_layer():
    methods, props = _derived_names()
    assert {"demand_gwh", "discount_factor", "crf", "landed_cost", "existing_capacity", "build_years"} <= methods
    tree = ast.parse(Path(verify_mod.__file__).read_text())
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in methods:
            bad.append(f"line {node.lineno}: call of .{node.func.attr}()")
        if isinstance(node, ast.Attribute) and node.attr in props:
            bad.append(f"line {node.lineno}: property .{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.module in ("results", "formulation") and node.level == 1:
            bad.append(f"line {node.lineno}: imports from model.{node.module}")
        if isinstance(node, ast.ImportFrom) and node.module == "data" and node.level == 1:
            assert {a.name for a in node.names} <= {"build_case"}, "verify may only use the data layer to read a case"
    assert bad == []


# --------------------------------------------------------------------------- non-finite numbers
def test_infinite_penalty_fails_instead_of_passing_with_nan():
    t = tiny_tables()
    t["facilities"][0]["max_modules"] = 1  # 2 GWh of cells a year: some demand is unmet
    res = _solve(t)
    assert res.tables["demand"]["unmet_gwh"].sum() > 0
    verify(res)
    case = dataclasses.replace(res.case, settings=dataclasses.replace(res.case.settings, unmet_penalty_usd_per_kwh=1e308))
    v = recheck(case, res.tables, res.solve.objective)
    assert not v.passed
    assert any("not a finite number" in x or "not finite" in x for x in v.violations)


@pytest.mark.parametrize("table,column,value", [("production", "quantity", math.nan),
                                                ("costs", "discounted_usd", math.inf),
                                                ("sourcing", "quantity", math.nan),
                                                ("build_schedule", "capacity", -math.inf)])
def test_non_finite_table_value_fails(table, column, value):
    res = _solve()
    t = {k: v.copy() for k, v in res.tables.items()}
    t[table].loc[t[table].index[0], column] = value
    v = recheck(res.case, t, res.solve.objective)
    assert not v.passed
    assert any(f"{table} row 1" in x and "not a finite number" in x for x in v.violations)


# --------------------------------------------------------------------------- rechecks from the tables
def test_edited_tables_are_caught():
    res = _solve()
    assert recheck(res.case, res.tables, res.solve.objective).passed
    t = {k: v.copy() for k, v in res.tables.items()}
    b = t["build_schedule"]
    i = b.index[(b.facility == "cell_plant") & (b.modules_built > 0)][0]
    b["modules_built"] = b["modules_built"].astype(float)
    b.loc[i, "modules_built"] += 0.5
    v = recheck(res.case, t, res.solve.objective)
    assert any("is not a whole number of modules" in x for x in v.violations)
    t = {k: v.copy() for k, v in res.tables.items()}
    t["capex_cashflow"].loc[t["capex_cashflow"].index[0], "capex_usd"] *= 2
    assert any("capex cash flow of" in x for x in recheck(res.case, t, res.solve.objective).violations)
    v = recheck(res.case, res.tables, res.solve.objective * 1.01)
    assert any("differs from the solver's objective" in x for x in v.violations)


def test_export_of_imported_material_is_caught():
    """Version 2 correction 1: exports come only from local production."""
    res = _solve()
    t = {k: v.copy() for k, v in res.tables.items()}
    s = t["sourcing"]
    loc = s[(s.material == "cathode_LFP") & (s.year == 2026) & (s.source_kind == "local")].quantity.sum()
    # export 10 t more than made locally, importing them: the balance still holds
    extra = loc + 10.0
    rows = [("cathode_LFP", 2026, "export", "export", extra), ("cathode_LFP", 2026, "import", "China", extra)]
    import pandas as pd

    t["sourcing"] = pd.concat([s, pd.DataFrame(rows, columns=s.columns)], ignore_index=True)
    v = recheck(res.case, t, None)
    assert any("export of cathode_LFP in 2026 exceeds local production" in x for x in v.violations)


# --------------------------------------------------------------------------- battery-plan verify
@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    d = tmp_path_factory.mktemp("verify_cli")
    case = write_case(d / "case.xlsx")
    out = d / "case_results.xlsx"
    assert main(["run", str(case), "-o", str(out), "--no-figures", "-q"]) == 0
    return case, out


def _edited(src: Path, dst: Path, edit) -> Path:
    import openpyxl

    shutil.copy(src, dst)
    wb = openpyxl.load_workbook(dst)
    edit(wb)
    wb.save(dst)
    return dst


def _cell(ws, column: str, **match):
    """The cell of ``column`` in the first row whose cells equal ``match`` (by header)."""
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        rec = dict(zip(header, row))
        if all(rec[k].value == v for k, v in match.items()):
            return rec[column]
    raise AssertionError(f"no row {match}")


def test_cli_verify_passes_a_fresh_plan(solved, capsys):
    case, out = solved
    assert main(["verify", str(case), str(out)]) == 0
    text = capsys.readouterr().out
    assert "PASSED" in text and "checks" in text
    assert main(["verify", str(out)]) == 0  # against the input sheets the results carry
    assert "PASSED" in capsys.readouterr().out


def test_cli_verify_fails_production_above_capacity(solved, tmp_path, capsys):
    case, out = solved

    def edit(wb):
        c = _cell(wb["production"], "quantity", facility="cell_plant", chemistry="LFP", year=2026)
        c.value = c.value + 5.0

    bad = _edited(out, tmp_path / "bad.xlsx", edit)
    assert main(["verify", str(case), str(bad)]) == 1
    text = capsys.readouterr().out
    assert "FAILED" in text
    assert "production of cell_plant in 2026 exceeds capacity" in text


def test_cli_verify_fails_an_edited_cost(solved, tmp_path, capsys):
    case, out = solved

    def edit(wb):
        c = _cell(wb["costs"], "undiscounted_usd", year=2027, category="fixed_om")
        c.value = c.value + 1e6

    bad = _edited(out, tmp_path / "bad_cost.xlsx", edit)
    assert main(["verify", str(bad)]) == 1
    assert "cost fixed_om in 2027" in capsys.readouterr().out


def test_cli_verify_blank_value_is_a_failed_check(solved, tmp_path, capsys):
    case, out = solved

    def edit(wb):
        _cell(wb["demand"], "unmet_gwh", chemistry="NMC", year=2028).value = None

    bad = _edited(out, tmp_path / "blank.xlsx", edit)
    assert main(["verify", str(case), str(bad)]) == 1
    assert "not a finite number" in capsys.readouterr().out


def test_cli_verify_bad_input_exits_2(solved, tmp_path, capsys):
    case, out = solved
    assert main(["verify", str(tmp_path / "missing.xlsx")]) == 2
    assert main(["verify", str(case)]) == 2  # an input workbook is not a results workbook
    assert "not a results workbook" in capsys.readouterr().err

    def edit(wb):
        _cell(wb["sourcing"], "quantity", material="anode", year=2026, source_kind="import").value = "lots"

    bad = _edited(out, tmp_path / "text.xlsx", edit)
    assert main(["verify", str(case), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "sheet 'sourcing'" in err and "column 'quantity'" in err and "row " in err

    def drop(wb):
        del wb["costs"]

    bad = _edited(out, tmp_path / "nocosts.xlsx", drop)
    assert main(["verify", str(bad)]) == 2
    assert "costs" in capsys.readouterr().err
    assert main(["verify", str(case), str(out), str(out)]) == 2
