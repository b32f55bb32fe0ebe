"""Issue 13 goal 2: everything outside HiGHS's own solve on the default case, end to end from the shell.

    python -m benchmarks.startup [--case inputs/base_case.xlsx] [--runs 5] [--figures]

Runs ``python -m model.cli run CASE -o <tmp> --tee`` ``--runs`` times as a fresh process (interpreter
start, imports, read, validate, build, solve, verify, marginals, report; figures only with
``--figures``), and takes from HiGHS's own log its ``Timing`` line (the MIP's wall time inside HiGHS).
Outside HiGHS = wall time of the process - HiGHS's time. Prints each run and the median; the CPU
time of the process (user + system) is printed as well because wall times on a shared machine
mostly measure the other load.
"""
from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_TIMING = re.compile(r"^\s*Timing\s+([0-9.]+)", re.M)


def one_run(case: Path, figures: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "model.cli", "run", str(case), "-o", str(Path(tmp) / "r.xlsx"), "--tee"]
        if figures:
            cmd.append("--figures")
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"run failed ({p.returncode}):\n{p.stderr[-2000:]}")
    highs = sum(float(x) for x in _TIMING.findall(p.stdout))
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {"wall_s": wall, "highs_s": highs, "outside_s": wall - highs, "cpu_s": cpu}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__.splitlines()[0])
    ap.add_argument("--case", type=Path, default=ROOT / "inputs" / "base_case.xlsx")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--figures", action="store_true", help="also write the PNG figures (off by default in the CLI)")
    a = ap.parse_args(argv)
    rows = []
    for i in range(a.runs):
        r = one_run(a.case, a.figures)
        rows.append(r)
        print(f"run {i + 1}: wall {r['wall_s']:.2f} s, HiGHS {r['highs_s']:.2f} s, outside HiGHS "
              f"{r['outside_s']:.2f} s, process CPU {r['cpu_s']:.2f} s", flush=True)
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    print(f"median of {a.runs}: wall {med['wall_s']:.2f} s, HiGHS {med['highs_s']:.2f} s, outside HiGHS "
          f"{med['outside_s']:.2f} s (goal <= 1.5 s), process CPU {med['cpu_s']:.2f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
