"""Issue 9: nothing a user types crashes, hangs, misreports or destroys a file (one section per class)
and issue 11 items 5 (default outputs never overwrite another input's results) and 6 (one pass).

CLI tests run ``run_optimizer.py`` in a subprocess and assert the exit status, the message and that
nothing was written or replaced. Crash tests fork a real child that kills itself with SIGSEGV.
"""
from __future__ import annotations

import glob
import math
import os
import re
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import openpyxl
import pytest

from model import cli, isolate
from model.data import load_case
from model.errors import InputError
from model.xlsx_util import remove_stale_temps
from tests.cases import tiny_tables, write_case
from tests.clirun import run_cli as _run_cli

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "inputs" / "base_case.xlsx"
POSIX = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork/signals are POSIX")


def run_cli(*args, cwd=None, timeout=None):
    """The command line in this process (tests/clirun.py); asserts no traceback was printed. ``timeout`` is
    kept for the callers written for a subprocess: a call in this process cannot hang unnoticed for long
    (the tests' cases are tiny), and pytest reports the test's duration."""
    return _run_cli(*args, cwd=cwd)


def case_with(tmp_path, edit=None, name="case.xlsx"):
    t = tiny_tables()
    if edit:
        edit(t)
    return write_case(tmp_path / name, t)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def main_in_process(argv):
    old_term, old_int = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        return cli.main(argv)
    finally:
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)


# =========================================================================== class 1: solver crashes
def test_escalation_that_crashed_highs_is_refused_at_its_cell_exit_2(tmp_path):
    out = tmp_path / "out" / "r.xlsx"
    p = run_cli("run", BASE, "-o", out, "--set", "imports[anode,China].price_escalation_per_year=100")
    assert p.returncode == 2, p.stderr
    assert "sheet 'imports', row" in p.stderr and "price_escalation_per_year" in p.stderr
    assert "landed import cost" in p.stderr
    assert not out.parent.exists()


def _segfault(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGSEGV)


@POSIX
def test_solver_crash_in_run_is_exit_1_and_replaces_nothing(tmp_path, monkeypatch, capsys):
    import model.pipeline as pipeline

    monkeypatch.setattr(pipeline, "solve_case", _segfault)  # the child dies by a real SIGSEGV
    case = case_with(tmp_path)
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"previous results")
    code = main_in_process(["run", str(case), "-o", str(out), "--no-figures", "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert "crashed" in err and "SIGSEGV" in err and "No results were written" in err
    assert out.read_bytes() == b"previous results"
    assert files_in(tmp_path) == ["case.xlsx", "r.xlsx"]


@POSIX
def test_solver_crash_in_scenario_all_is_exit_1_and_writes_nothing(tmp_path, monkeypatch, capsys):
    import model.pipeline as pipeline

    monkeypatch.setattr(pipeline, "solve_case", _segfault)
    case = case_with(tmp_path, lambda t: t.__setitem__("scenarios", [
        {"scenario": "low", "address": "settings.discount_rate", "operation": "=", "value": "0.05"},
        {"scenario": "high", "address": "settings.discount_rate", "operation": "=", "value": "0.1"}]))
    code = main_in_process(["run", str(case), "--scenario", "all", "-o", str(tmp_path / "o" / "r.xlsx"), "-q"])
    assert code == 1 and "SIGSEGV" in capsys.readouterr().err
    assert files_in(tmp_path / "o") == []


@POSIX
def test_solver_crash_in_sweep_workers_0_costs_one_case(tmp_path, monkeypatch):
    from model import sweep

    real = sweep.CaseRunner.run

    def run(self, overrides):
        if any("0.12" in o for o in overrides):
            os.kill(os.getpid(), signal.SIGSEGV)
        return real(self, overrides)

    monkeypatch.setattr(sweep.CaseRunner, "run", run)
    case = case_with(tmp_path, lambda t: t.__setitem__("sensitivity", [
        {"address": "settings.discount_rate", "operation": "=", "low": 0.04, "high": 0.12, "steps": 3}]))
    res = sweep.run_sweep(case, output=tmp_path / "o" / "s.xlsx", workers=0, figures=False)
    st = dict(zip(res.table.case, res.table.status))
    assert sorted(st.values()).count("error") == 1, st
    msg = res.table.loc[res.table.status == "error", "message"].iloc[0]
    assert "SIGSEGV" in msg
    assert (tmp_path / "o" / "s.xlsx").exists()


@POSIX
def test_isolation_returns_values_and_exceptions():
    assert isolate.run_isolated(lambda a, b: a + b, 2, 3) == 5
    with pytest.raises(InputError) as ei:
        isolate.run_isolated(lambda: (_ for _ in ()).throw(InputError("bad cell")))
    assert "bad cell" in str(ei.value)
    with pytest.raises(ValueError):
        isolate.run_isolated(lambda: int("x"))
    from model.errors import ModelError

    with pytest.raises(ModelError, match="SIGABRT"):
        isolate.run_isolated(lambda: os.abort())


# =========================================================================== class 2: memory and time
@pytest.mark.parametrize("edit, where", [
    (lambda t: t["facilities"][0].update(lead_time_years=10**15), "lead_time_years"),
    (lambda t: t["facilities"][0].update(lifetime_years=10**9), "lifetime_years"),
    (lambda t: t["facilities"][0].update(max_modules=10**12), "max_modules"),
    (lambda t: t["settings"].update(end_year=2500), "the limit is 100"),
])
def test_count_like_inputs_have_upper_bounds(tmp_path, edit, where):
    with pytest.raises(InputError) as ei:
        load_case(case_with(tmp_path, edit))
    assert where in ei.value.report()


def test_every_count_like_column_has_an_upper_bound_in_the_docs():
    from model import schema as S

    counts = [S.FACILITIES.column(c) for c in ("lead_time_years", "lifetime_years", "max_modules")]
    counts.append(S.SENSITIVITY.column("steps"))
    for c in counts:
        assert c.le is not None, c.name
    docs = (ROOT / "docs" / "inputs.md").read_text()
    assert "[0, 50]" in docs and "[2, 100000]" in docs


def test_huge_sweep_steps_refused_before_work(tmp_path):
    case = case_with(tmp_path, lambda t: t.__setitem__("sensitivity", [
        {"address": "settings.discount_rate", "operation": "=", "low": 0.01, "high": 0.2, "steps": 10**7}]))
    p = run_cli("sweep", case, "-o", tmp_path / "o" / "s.xlsx", "--workers", "0", timeout=120)
    assert p.returncode == 2 and "steps" in p.stderr and "100000" in p.stderr
    assert not (tmp_path / "o").exists()
    p = run_cli("sweep", case, "--samples", str(10**9), timeout=120)
    assert p.returncode == 2 and "--samples" in p.stderr


# =========================================================================== class 3: NaN in the check
def test_nan_making_penalty_is_refused_before_the_solve(tmp_path):
    case = case_with(tmp_path, lambda t: t["settings"].update(unmet_penalty_usd_per_kwh=1e308))
    out = tmp_path / "o" / "r.xlsx"
    p = run_cli("run", case, "-o", out)
    assert p.returncode == 2 and "unmet_penalty_usd_per_kwh" in p.stderr and "sheet 'settings'" in p.stderr
    assert not out.parent.exists()


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_in_a_reported_table_fails_the_independent_check(tmp_path, bad):
    """A NaN or an infinity in a reported table is a failed independent check (model/verify.py)."""
    from model.errors import ModelError
    from model.pipeline import solve_case
    from model.verify import verify

    res = solve_case(load_case(case_with(tmp_path)), check=False)
    res.tables["costs"].loc[res.tables["costs"].index[0], "discounted_usd"] = bad
    with pytest.raises(ModelError):
        verify(res)


# =========================================================================== class 4: outputs
def test_scenario_names_that_look_alike_write_distinct_files(tmp_path):
    rows = [{"scenario": n, "address": "settings.unmet_penalty_usd_per_kwh", "operation": "=", "value": v}
            for n, v in (("a b", "100"), ("a_b", "200"), ("a/b", "400"))]
    case = case_with(tmp_path, lambda t: t.__setitem__("scenarios", rows))
    out = tmp_path / "o" / "r.xlsx"
    p = run_cli("run", case, "--scenario", "all", "-o", out, "--no-figures", "-q")
    assert p.returncode == 0, p.stderr
    books = sorted((tmp_path / "o").glob("r_*.xlsx"))
    assert len(books) == 5, books  # the base case, three scenarios and the comparison
    scen = [b for b in books if "comparison" not in b.name and not b.name.endswith("_base.xlsx")]
    scenarios = set()
    for b in scen:
        wb = openpyxl.load_workbook(b, read_only=True)
        s = {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True) if r[0]}
        wb.close()
        scenarios.add(s["scenario"])
    assert scenarios == {"a b", "a_b", "a/b"}


def test_outputs_planned_unique_and_distinct_from_inputs(tmp_path):
    a = tmp_path / "x.xlsx"
    with pytest.raises(InputError, match="same file"):
        cli.plan_outputs([a, tmp_path / "X.XLSX"], [])
    with pytest.raises(InputError, match="is an input"):
        cli.plan_outputs([a], [tmp_path / "sub" / ".." / "x.xlsx"])
    outs, cmp_out = cli.scenario_outputs(tmp_path / "r.xlsx", ["a b", "a_b", "a/b", "A B", "comparison"])
    keys = {str(p).casefold() for p in [*outs.values(), cmp_out]}
    assert len(keys) == 6


def test_sweep_output_cannot_overwrite_its_definition(tmp_path):
    case = case_with(tmp_path)
    definition = tmp_path / "X.csv"
    text = "address,operation,low,high,steps\nsettings.discount_rate,=,0.04,0.12,2\n"
    definition.write_text(text)
    p = run_cli("sweep", case, "--definition", definition, "-o", tmp_path / "X.xlsx", "--workers", "0", "--quiet")
    assert p.returncode == 2 and "is an input" in p.stderr, p.stderr
    assert definition.read_text() == text
    assert not (tmp_path / "X.xlsx").exists() and not (tmp_path / "X_cases").exists()


def test_failed_figures_publish_nothing(tmp_path, monkeypatch, capsys):
    import model.figures as figures

    def broken(*a, **k):
        raise RuntimeError("figure backend failed")

    monkeypatch.setattr(figures, "write_figures", broken)
    case = case_with(tmp_path)
    out = tmp_path / "o" / "r.xlsx"
    out.parent.mkdir()
    out.write_bytes(b"previous results")
    code = main_in_process(["run", str(case), "-o", str(out), "--figures", "-q"])  # PNGs are on request
    assert code != 0
    assert out.read_bytes() == b"previous results"
    assert files_in(out.parent) == ["r.xlsx"]  # no staging folder or temp file left


def test_default_output_of_another_input_is_kept_not_overwritten(tmp_path):
    """Two cases with one name in two folders: the second run's results take the default path, the
    first run's results are kept beside them under a name that says so (never silently replaced)."""
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    a = case_with(tmp_path / "one", name="base_case.xlsx")
    b = case_with(tmp_path / "two", lambda t: t["settings"].update(discount_rate=0.05), name="base_case.xlsx")
    p = run_cli("run", a, "--no-figures", "-q", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = tmp_path / "outputs" / "base_case_results.xlsx"
    before = out.read_bytes()

    def recorded(path):
        wb = openpyxl.load_workbook(path, read_only=True)
        s = {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True) if r[0]}
        wb.close()
        return s

    s = recorded(out)
    assert Path(s["input_file"]).is_absolute() and Path(s["input_file"]) == a.resolve()
    assert len(s["input_sha256"]) == 64
    p = run_cli("run", b, "--no-figures", "-q", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    kept = tmp_path / "outputs" / f"base_case_results.previous-{s['input_sha256'][:8]}.xlsx"
    assert "held the results of another input" in p.stderr and kept.name in p.stderr
    assert kept.read_bytes() == before  # the first input's results, byte for byte
    assert Path(recorded(out)["input_file"]) == b.resolve()
    p = run_cli("run", b, "--no-figures", "-q", cwd=tmp_path)  # the same input again: a re-run, nothing kept
    assert p.returncode == 0, p.stderr
    assert sorted(f.name for f in (tmp_path / "outputs").iterdir()) == sorted(["base_case_results.xlsx", kept.name])


def test_a_default_output_that_is_not_ours_is_refused(tmp_path):
    a = case_with(tmp_path, name="base_case.xlsx")
    out = tmp_path / "outputs" / "base_case_results.xlsx"
    out.parent.mkdir()
    out.write_bytes(b"a planner's own file")
    p = run_cli("run", a, "--no-figures", "-q", cwd=tmp_path)
    assert p.returncode == 2 and "not a results workbook of this tool" in p.stderr and "-o" in p.stderr
    assert out.read_bytes() == b"a planner's own file"


# =========================================================================== class 5: formulas
def _with_cached_formula(path: Path, sheet_xml: str, cell: str, formula: str, cached: str) -> Path:
    src = zipfile.ZipFile(path)
    items = {n: src.read(n) for n in src.namelist()}
    src.close()
    x = items[sheet_xml].decode()
    x, n = re.subn(rf'<c r="{cell}"[^>]*?(/>|>.*?</c>)', f'<c r="{cell}"><f>{formula}</f><v>{cached}</v></c>', x,
                   count=1)
    assert n == 1
    items[sheet_xml] = x.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items.items():
            z.writestr(name, data)
    return path


def test_cached_zero_of_a_recalc_on_load_workbook_is_refused_at_its_cell(tmp_path):
    path = case_with(tmp_path)  # openpyxl writes fullCalcOnLoad="1", as xlsxwriter does
    assert b'fullCalcOnLoad="1"' in zipfile.ZipFile(path).read("xl/workbook.xml")
    _with_cached_formula(path, "xl/worksheets/sheet1.xml", "B4", "0.04*2", "0")  # settings!B4 = discount_rate
    with pytest.raises(InputError) as ei:
        load_case(path)
    p = next(p for p in ei.value.problems if (p.sheet, p.row, p.column) == ("settings", 4, "value"))
    assert "cannot be trusted" in p.message and "0.04*2" in p.message
    r = run_cli("validate", path)
    assert r.returncode == 2 and "cannot be trusted" in r.stderr


def test_libreoffice_booleans_are_accepted(tmp_path):
    path = case_with(tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb["settings"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "allow_unmet_demand":
            row[1].value = "=FALSE()"
    wb.save(path)
    assert load_case(path).settings.allow_unmet_demand is False


# =========================================================================== class 6: the user's files
@pytest.mark.parametrize("how", ["read-only", "excel-lock", "libreoffice-lock"])
def test_protected_or_open_results_are_not_replaced(tmp_path, how):
    case = case_with(tmp_path)
    out = tmp_path / "o" / "results.xlsx"
    out.parent.mkdir()
    out.write_bytes(b"previous results")
    if how == "read-only":
        out.chmod(0o444)
    elif how == "excel-lock":
        (out.parent / "~$results.xlsx").write_bytes(b"owner")
    else:
        (out.parent / ".~lock.results.xlsx#").write_text("owner")
    p = run_cli("run", case, "-o", out, "-q")
    assert p.returncode == 2, p.stderr
    assert ("make it writable" in p.stderr) if how == "read-only" else ("close it" in p.stderr)
    assert out.read_bytes() == b"previous results"
    if how == "read-only":
        assert not (out.stat().st_mode & 0o222), "the file came back writable"
    assert "results.xlsx" in files_in(out.parent) and not [n for n in files_in(out.parent) if n.endswith(".tmp")]


# =========================================================================== class 7: processes and litter
def test_stale_temp_files_of_dead_runs_are_removed_and_nothing_else(tmp_path):
    dead = 2**22 + 12345  # above the usual pid_max: no such process
    while True:
        try:
            os.kill(dead, 0)
            dead += 1
        except ProcessLookupError:
            break
        except PermissionError:
            dead += 1
    mine = tmp_path / f".r.xlsx.bp{dead}-abc123.tmp"
    stage = tmp_path / f".battery-plan-{dead}-xyz.stage"
    live = tmp_path / f".r.xlsx.bp{os.getpid()}-abc123.tmp"
    other = tmp_path / ".something.tmp"
    old = tmp_path / ".r.xlsx.abcdefgh.tmp"
    for f in (mine, live, other, old):
        f.write_bytes(b"x")
    stage.mkdir()
    (stage / "r.xlsx").write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    removed = {p.name for p in remove_stale_temps(tmp_path)}
    assert removed == {mine.name, stage.name, old.name}
    assert live.exists() and other.exists()


def test_a_run_removes_litter_of_a_killed_run(tmp_path):
    out = tmp_path / "o" / "r.xlsx"
    out.parent.mkdir()
    litter = out.parent / ".r.xlsx.bp999999999-deadbeef.tmp"
    litter.write_bytes(b"half a workbook")
    p = run_cli("run", case_with(tmp_path), "-o", out, "--no-figures", "-q")
    assert p.returncode == 0, p.stderr
    assert not litter.exists() and out.exists()


def _tagged(tag: str) -> list[int]:
    out = []
    for e in glob.glob("/proc/[0-9]*/environ"):
        try:
            with open(e, "rb") as fh:
                if tag.encode() in fh.read():
                    out.append(int(e.split("/")[2]))
        except OSError:
            pass
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_a_sweep_parent_leaves_no_process(tmp_path):
    case = case_with(tmp_path, lambda t: t.__setitem__("sensitivity", [
        {"address": "settings.discount_rate", "operation": "=", "low": 0.01, "high": 0.2, "steps": 400}]))
    tag = f"BP_TEST_{uuid.uuid4().hex}"
    env = {**os.environ, "BP_TEST_TAG": tag, "PYTHONPATH": str(ROOT)}
    store = tmp_path / "o" / "s_cases"
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_optimizer.py"), "sweep", str(case), "-o",
                             str(tmp_path / "o" / "s.xlsx"), "--workers", "2", "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(store.glob("*.json"))) < 2 and proc.poll() is None:
            time.sleep(0.2)
        assert proc.poll() is None, "the sweep ended before it could be killed"
        assert len(_tagged(tag)) >= 3  # main, fork server / resource tracker, workers
        proc.kill()
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        left = _tagged(tag)
        while left and time.monotonic() < deadline:
            time.sleep(0.25)
            left = _tagged(tag)
        assert left == [], f"processes left after kill -9 of the sweep: {left}"
    finally:
        for pid in _tagged(tag):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


# =========================================================================== class 8: arguments, late checks
@pytest.mark.parametrize("args, words", [
    (["--write-model", "m.txt"], "--write-model"),
    (["--threads", "0"], "--threads"),
    (["--time-limit", "inf"], "--time-limit"),
])
def test_bad_arguments_exit_2_before_any_solve(tmp_path, args, words):
    out = tmp_path / "o" / "r.xlsx"
    p = run_cli("run", case_with(tmp_path), "-o", out, *args, cwd=tmp_path)
    assert p.returncode == 2 and words in p.stderr, p.stderr
    assert "internal error" not in p.stderr and "status:" not in p.stdout
    assert not out.parent.exists() and not (tmp_path / "m.txt").exists()


@pytest.mark.parametrize("edit, where", [
    (lambda t: t["facilities"][0].update(module_size=1e-320), "module_size"),
    (lambda t: t["imports"][0].update(price_escalation_per_year=1e300), "price_escalation_per_year"),
    (lambda t: t["settings"].update(base_year=2500), "base_year"),
])
def test_values_the_model_cannot_handle_are_refused_at_their_cell(tmp_path, edit, where):
    p = run_cli("run", case_with(tmp_path, edit), "-o", tmp_path / "o" / "r.xlsx")
    assert p.returncode == 2 and where in p.stderr and "internal error" not in p.stderr, p.stderr
    assert not (tmp_path / "o").exists()


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402

from model import schema as S  # noqa: E402

_NUMERIC = [(s.name, c.name) for s in S.SHEETS for c in s.columns
            if c.kind in ("int", "float") and s.name in tiny_tables()]
_EXTREME = st.one_of(st.sampled_from([1e-320, 5e-324, 1e-300, 1e300, 1.7e308, 1e308, -1e300, 1e15, 2**53, 0.0,
                                      -0.999999, -0.9999999999999999]),
                     st.floats(allow_nan=False, allow_infinity=False))


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cell=st.sampled_from(_NUMERIC), value=_EXTREME, row=st.integers(0, 1))
def test_extreme_numbers_give_a_case_within_limits_or_located_problems(tmp_path_factory, cell, value, row):
    """'internal error' is unreachable from input: extreme numbers in any numeric column give either
    located problems or a case whose every coefficient is finite and within the limits."""
    from model.data import build_case
    from model.workbook import RawWorkbook, RawSheet

    sheet, column = cell
    t = tiny_tables()
    if sheet == "settings":
        t["settings"][column] = value
    else:
        recs = t[sheet]
        recs[min(row, len(recs) - 1)][column] = value
    # in memory, as the reader would give it (no file: fast)
    sheets = {}
    for name, data in t.items():
        if name == "settings":
            sheets[name] = RawSheet(name, ("key", "value"), tuple((k, v) for k, v in data.items()),
                                    tuple(range(2, 2 + len(data))))
        else:
            header = tuple(dict.fromkeys(k for rec in data for k in rec))
            sheets[name] = RawSheet(name, header, tuple(tuple(rec.get(h) for h in header) for rec in data),
                                    tuple(range(2, 2 + len(data))))
    try:
        data = build_case(RawWorkbook(sheets=sheets))
    except InputError as exc:
        assert all(p.sheet in t for p in exc.problems), exc.report()
        return
    for y in data.years:
        assert math.isfinite(data.discount_factor(y))
        for (m, o) in data.imports:
            assert math.isfinite(data.landed_cost(m, o, y))
    for f in data.facilities:
        assert math.isfinite(data.crf(f))


# =========================================================================== class 9 and issue 11 item 6
def test_known_sheets_are_never_suggested_as_renames(tmp_path):
    def edit(t):
        del t["intensity"]
        t["sensitivity"] = [{"address": "settings.discount_rate", "operation": "=", "low": 0.01, "high": 0.2}]
    with pytest.raises(InputError) as ei:
        load_case(case_with(tmp_path, edit))
    assert "rename" not in ei.value.report()

    def misspelt(t):
        t["Intensities"] = t.pop("intensity")
    with pytest.raises(InputError) as ei:
        load_case(case_with(tmp_path, misspelt, name="m.xlsx"))
    assert "Intensities" in ei.value.report() and "rename" in ei.value.report()


def test_problems_in_every_sheet_in_one_pass(tmp_path):
    def edit(t):
        t["settings"]["start_year"] = "soon"
        t["demand"][0]["vehicles"] = -5
        t["materials"][0]["reference_price_usd_per_unit"] = "cheap"
        t["facilities"][0]["lead_time_years"] = 10**6
        t["imports"][0]["price_usd_per_unit"] = -1
        t["intensity"][0]["amount_per_gwh"] = "lots"
    with pytest.raises(InputError) as ei:
        load_case(case_with(tmp_path, edit))
    sheets = {p.sheet for p in ei.value.problems}
    assert sheets >= {"settings", "demand", "materials", "facilities", "imports", "intensity"}, ei.value.report()


def test_publication_keeps_a_replaced_target_aside(tmp_path):
    from model.xlsx_util import atomic_write, publish_together

    target, backup = tmp_path / "r.xlsx", tmp_path / "r.previous-0000.xlsx"
    target.write_bytes(b"old results")
    with publish_together() as pub:
        pub.keep_aside(target, backup)
        atomic_write(target, lambda fh: fh.write(b"new results"))
    assert target.read_bytes() == b"new results" and backup.read_bytes() == b"old results"
    assert [(t.name, b.name) for t, b in pub.kept] == [(target.name, backup.name)]
    with pytest.raises(RuntimeError):  # a failed publication keeps nothing aside and replaces nothing
        with publish_together() as pub:
            pub.keep_aside(target, tmp_path / "other.xlsx")
            raise RuntimeError("write failed")
    assert target.read_bytes() == b"new results" and not (tmp_path / "other.xlsx").exists()
