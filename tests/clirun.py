"""The command line, called in this process: ``run_cli("run", case, "-o", out)``.

Starting a Python interpreter and importing Pyomo, pandas and HiGHS costs about a second per
call; most CLI tests check what :func:`model.cli.main` returns and prints, which needs no new
process. :func:`run_cli` calls ``main`` with the arguments as strings and gives back what
``subprocess.run(..., capture_output=True, text=True)`` would: ``returncode``, ``stdout`` and
``stderr``. Like the subprocess helpers it replaces, it asserts that no traceback was printed; an
exception escaping ``main`` fails the test with its traceback (in a subprocess it would have been
a traceback on stderr).

What the process boundary itself decides (signals, the entry point's exit code, the interpreter's
own traceback printing, memory limits, process clean-up) keeps real subprocess tests
(test_faults, test_safety, test_hostile, test_sweep each keep a few).

The call is made as the subprocess was: in ``cwd`` (default: the project root), without
``BATTERY_PLAN_DEBUG`` in the environment; the signal handlers ``main`` installs and the stop flag
are restored afterwards, so one call cannot change the next test.
"""
from __future__ import annotations

import contextlib
import io
import os
import signal
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class CliResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args, cwd=None, check_traceback: bool = True) -> CliResult:
    """``battery-plan ARGS...`` in this process, in ``cwd`` (default: the project root)."""
    from model import cli, interrupt

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    debug = os.environ.pop("BATTERY_PLAN_DEBUG", None)
    here = os.getcwd()
    try:
        os.chdir(cwd or ROOT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse's exit (status 2 for bad arguments, 0 for --help)
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.chdir(here)
        for s, h in handlers.items():
            signal.signal(s, h)
        interrupt._requested = False
        if debug is not None:
            os.environ["BATTERY_PLAN_DEBUG"] = debug
    res = CliResult(argv, int(code), out.getvalue(), err.getvalue())
    if check_traceback:
        assert "Traceback" not in res.stdout + res.stderr, res.stdout + res.stderr
    return res


def run_entry_point(*args, cwd=None, timeout: float = 600, env: dict | None = None):
    """``python run_optimizer.py ARGS...`` in a new process: for the few tests about the process itself
    (the entry point's exit status, what reaches the real stdout/stderr). Asserts no traceback."""
    import subprocess
    import sys

    env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k != "BATTERY_PLAN_DEBUG"}
    env["PYTHONPATH"] = str(ROOT)
    p = subprocess.run([sys.executable, str(ROOT / "run_optimizer.py"), *map(str, args)], cwd=cwd or ROOT,
                       capture_output=True, text=True, env=env, timeout=timeout)
    assert "Traceback" not in p.stdout + p.stderr, p.stdout + p.stderr
    return p
