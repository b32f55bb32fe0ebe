"""The suite stays fast as it grows: new processes and clusters are started only where the process is
what is tested (README, "Tests").

A new interpreter costs about a second of imports before a test does anything; a Dask cluster
several. CLI tests call the command line in this process (tests/clirun.py ``run_cli``); the
tests below are the ones that need a real process (signals, the entry point, a memory cap).
Adding one: put it in ``REAL_PROCESSES`` with the reason.
"""
from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent

#: (file, function) -> why it needs a process of its own
REAL_PROCESSES = {
    ("clirun.py", "run_entry_point"): "the helper for the tests below",
    ("test_cli.py", "test_no_arguments_solves_default_case"): "the README's first command: the entry point itself",
    ("test_faults.py", "test_kill_during_run_leaves_no_partial_file"): "SIGTERM/SIGINT to a running process",
    ("test_safety.py", "test_kill_9_of_a_sweep_parent_leaves_no_process"): "kill -9 of a sweep and its workers",
    ("test_hostile.py", "test_bombs_are_refused_under_a_memory_limit"): "a memory cap (RLIMIT_AS) on the reader",
    ("test_hostile.py", "cli_runs"): "one hostile file through the entry point: the real stderr and exit status",
    ("test_hostile.py", "one"): "(the job function of cli_runs)",
}
SPAWNERS = {"run", "Popen", "call", "check_call", "check_output", "run_entry_point", "system", "spawnv"}


def _spawning_functions():
    """(file, function) of every function in tests/ that starts a process or a Dask cluster."""
    found = set()
    for path in sorted(TESTS.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if not isinstance(node, ast.Call):
                    continue
                f = node.func
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                    owner, name = f.value.id, f.attr
                elif isinstance(f, ast.Name):
                    owner, name = "", f.id
                else:
                    continue
                if (owner in ("subprocess", "os") and name in SPAWNERS) or name == "run_entry_point" \
                        or name in ("LocalCluster", "SpecCluster"):
                    found.add((path.name, fn.name))
    return found


def test_processes_are_started_only_where_the_process_is_tested():
    extra = _spawning_functions() - set(REAL_PROCESSES) - {("conftest.py", "dask_cluster")}
    assert not extra, (f"{sorted(extra)} start a new process or cluster: call the command line with "
                       "tests/clirun.py run_cli, use the session's dask_cluster fixture, or add the test to "
                       "REAL_PROCESSES with the reason")


def test_the_list_of_real_processes_is_current():
    assert set(REAL_PROCESSES) <= _spawning_functions(), "a test in REAL_PROCESSES no longer starts a process"
