"""Faults during a run: stopped solves, solver errors, kills, full disks, unwritable outputs.

Nothing is ever lost: an existing output is only replaced by a complete new one.
"""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from cases import write_case
from model import cli
from model.data import load_case
from model.pipeline import solve_case

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "inputs" / "base_case.xlsx"


def summary_of(path):
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True) if r[0]}
    finally:
        wb.close()


def test_stopped_solve_reports_incumbent_and_gap():
    # HiGHS stopped at its first improving solution: the plan is kept, checked, and its gap reported
    res = solve_case(load_case(BASE), mip_rel_gap=0.0, solver_options={"mip_max_improving_sols": 1})
    assert res.solve.status in ("time_limit_feasible", "optimal")
    assert res.solve.objective is not None and res.solve.mip_gap is not None
    if res.solve.status == "time_limit_feasible":
        assert res.solve.mip_gap > 0
    assert any("independent check passed" in n for n in res.notes)


def test_time_limit_keeps_a_plan_or_says_none(tmp_path):
    out = tmp_path / "r.xlsx"
    code = cli.main(["run", str(BASE), "-o", str(out), "--time-limit", "0.05", "--mip-gap", "0", "--no-figures", "-q"])
    s = summary_of(out)
    assert s["status"] in ("time_limit_feasible", "time_limit_no_solution", "optimal")
    assert code == (0 if s["status"] != "time_limit_no_solution" else 1)
    if s["status"] == "time_limit_feasible":
        assert s["mip_gap"] is not None and s["net_present_cost_usd"] is not None


def test_solver_error_never_replaces_output(tmp_path, monkeypatch, capsys):
    import model.solve as solve_mod

    class Broken:
        def solve(self, m):
            raise RuntimeError("HiGHS crashed")

    monkeypatch.setattr(solve_mod, "make_solver", lambda opts: Broken())
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"earlier results")
    code = cli.main(["run", str(BASE), "-o", str(out), "--no-figures"])
    err = capsys.readouterr().err
    assert code == 1
    assert "HiGHS crashed" in err and "Traceback" not in err
    assert out.read_bytes() == b"earlier results"


def test_disk_full_on_write_keeps_previous_output(tmp_path, tmp_path_factory, monkeypatch, capsys):
    import model.xlsx_util as xu

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    case = write_case(tmp_path_factory.mktemp("case") / "case.xlsx")  # the tiny case: the write fails, not the solve
    monkeypatch.setattr(xu.os, "fsync", no_space)
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"earlier results")
    code = cli.main(["run", str(case), "-o", str(out), "--no-figures", "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert "No space left on device" in err and "Traceback" not in err
    assert out.read_bytes() == b"earlier results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.xlsx"]  # no temp file left behind


def test_unwritable_output_path_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    code = cli.main(["run", str(BASE), "-o", str(blocker / "r.xlsx"), "--no-figures", "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot" in err and "Traceback" not in err


def test_output_must_be_xlsx(tmp_path, capsys):
    assert cli.main(["run", str(BASE), "-o", str(tmp_path / "r.csv")]) == 2
    assert ".xlsx" in capsys.readouterr().err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_kill_during_run_leaves_no_partial_file(tmp_path, sig):
    out = tmp_path / "out" / "r.xlsx"
    out.parent.mkdir()
    out.write_bytes(b"earlier results")
    p = subprocess.Popen([sys.executable, str(ROOT / "run_optimizer.py"), "run", str(BASE), "-o", str(out),
                          "--mip-gap", "0"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)  # inside reading/solving: the base case takes several seconds end to end
    p.send_signal(sig)
    stdout, stderr = p.communicate(timeout=120)
    assert "Traceback" not in stdout + stderr
    if p.returncode == 0:  # finished before the signal arrived: then the output is complete
        assert summary_of(out)["status"] == "optimal"
    else:
        assert p.returncode == 130 and "interrupted" in stderr
        # untouched, or (signal after the atomic replace) the complete new workbook: never a part
        if out.read_bytes() != b"earlier results":
            assert summary_of(out)["status"] == "optimal"
    assert [q.name for q in out.parent.iterdir()] == ["r.xlsx"] or (out.parent / "figures").exists()
    assert not [q for q in out.parent.rglob("*.tmp")]
