"""Issue 13 goal 1 (and goal 4's generated cases): a whole run of the command line, timed from the shell.

    python -m benchmarks.end_to_end [--sizes large] [--seeds 0,1,2] [--gap 1e-4] [--time-limit 240]
                                    [--threads N] [--out benchmarks/results/end_to_end]

For each generated case (``benchmarks.generate``, cached in ``--out/work``) this runs, as a fresh
process, exactly what a planner types::

    python -m model.cli run CASE -o <tmp>/results.xlsx --mip-gap GAP --time-limit T --tee

and measures the process's wall time. From what the run prints it takes the phase line
(``time: read ..., build ..., solve ..., report ...``), HiGHS's own ``Timing`` of the MIP, its node
count, and from HiGHS's branch-and-bound log the first time the gap was at or under 1e-3 and the gap
when the root node ended (the last log line before any node was explored). HiGHS prints a log line
whenever it finds a better plan and otherwise every 5 s, so the time to 1e-3 is the time of the first
line that shows it: up to 5 s late. ``rest`` = wall - the phases: interpreter start, imports, the
forked solver child and the console summary.

Writes ``end_to_end.json`` and ``end_to_end.md`` into ``--out`` and prints the table; what each run
printed (HiGHS's whole log included) is kept in ``--out/logs/<case>.log``.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "end_to_end"
_TIMING = re.compile(r"^\s*Timing\s+([0-9.]+)", re.M)
_NODES = re.compile(r"^\s*Nodes\s+(\d+)", re.M)
_PHASES = re.compile(r"^time: (.*)$", re.M)
_STATUS = re.compile(r"^status: (\w+)(?: \| net present cost ([0-9.]+) bn USD)?", re.M)
# one row of HiGHS's branch-and-bound table: [src] proc inqueue leaves expl% bestbound bestsol gap% cuts inlp
# confl lpiters time
_BB = re.compile(r"^\s*[A-Za-z]?\s+(\d+)\s+(\d+)\s+(\d+)\s+([0-9.]+)%\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)"
                 r"\s+(\d+)\s+([0-9.]+)s\s*$")


def parse_gap(text: str) -> float:
    """HiGHS's gap column: ``0.02%`` -> 2e-4; ``inf`` / ``Large`` -> inf."""
    if text.endswith("%"):
        try:
            return float(text[:-1]) / 100.0
        except ValueError:
            return math.inf
    return math.inf


def parse_log(stdout: str) -> dict[str, Any]:
    """What the run printed -> phases, HiGHS's MIP time and nodes, time to 1e-3, root gap, status."""
    out: dict[str, Any] = {}
    m = _PHASES.findall(stdout)
    phases: dict[str, float] = {}
    if m:
        for part in m[-1].split(","):
            name, _, sec = part.strip().rpartition(" ")
            if name and sec.endswith("s"):
                phases[name] = float(sec[:-1])
    out["phases"] = phases
    timings = [float(x) for x in _TIMING.findall(stdout)]
    out["highs_mip_s"] = timings[0] if timings else math.nan
    out["highs_all_s"] = sum(timings) if timings else math.nan
    nodes = _NODES.findall(stdout)
    out["nodes"] = int(nodes[0]) if nodes else None
    st = _STATUS.findall(stdout)
    out["status"] = st[-1][0] if st else "?"
    out["objective_bn_usd"] = float(st[-1][1]) if st and st[-1][1] else math.nan
    t_1e3 = math.nan
    root_gap = math.nan
    mip_log = stdout.split("Solving report")[0]  # the MIP's own table (the marginal LP prints no table)
    for line in mip_log.splitlines():
        r = _BB.match(line)
        if not r:
            continue
        explored = int(r.group(1))
        gap = parse_gap(r.group(7))
        t = float(r.group(12))
        if explored == 0:
            root_gap = gap
        if math.isnan(t_1e3) and gap <= 1e-3:
            t_1e3 = t
    out["highs_t_1e-3"] = t_1e3
    out["root_gap"] = root_gap
    return out


def run_one(case: Path, *, gap: float | None = None, time_limit_s: float | None = None, threads: int | None = None,
            extra_args: tuple[str, ...] = (), log_dir: Path | None = None) -> dict[str, Any]:
    """One run of the command line on ``case`` as a fresh process; measured (what it printed kept in ``log_dir``).

    Without ``gap`` / ``time_limit_s`` the case's own settings apply."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "model.cli", "run", str(case), "-o", str(Path(tmp) / "results.xlsx"), "--tee",
               *extra_args]
        if gap is not None:
            cmd += ["--mip-gap", repr(gap)]
        if time_limit_s is not None:
            cmd += ["--time-limit", repr(time_limit_s)]
        if threads:
            cmd += ["--threads", str(threads)]
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        (log_dir / f"{case.stem}.log").write_text(" ".join(cmd) + "\n" + p.stdout + p.stderr)
    rec: dict[str, Any] = {"case": case.stem, "exit": p.returncode, "wall_s": wall,
                           "cpu_s": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)}
    rec.update(parse_log(p.stdout))
    rec["rest_s"] = wall - sum(rec["phases"].values())
    rec["outside_highs_s"] = wall - rec["highs_mip_s"]
    if p.returncode != 0:
        rec["error"] = (p.stderr or p.stdout)[-500:]
    return rec


def _f(v, spec=".2f") -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def table(rows: list[dict], gap: float) -> str:
    names = []
    for r in rows:
        for k in r["phases"]:
            if k not in names:
                names.append(k)
    head = ["case", "exit", "wall s", *names, "rest", "HiGHS MIP s", "outside HiGHS s",
            "HiGHS to 1e-3 s", "root gap", "nodes", "status", "net present cost bn USD"]
    lines = [f"End to end through the command line, `--mip-gap {gap:g}` (seconds)", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["case"], str(r["exit"]), _f(r["wall_s"]), *[_f(r["phases"].get(k)) for k in names],
                 _f(r["rest_s"]), _f(r["highs_mip_s"]), _f(r["outside_highs_s"]), _f(r["highs_t_1e-3"]),
                 _f(r["root_gap"], ".1e"), str(r["nodes"]), r["status"], _f(r["objective_bn_usd"], ".4f")]
        lines.append("| " + " | ".join(cells) + " |")
    walls = [r["wall_s"] for r in rows if r["exit"] == 0]
    if walls:
        gm = math.exp(sum(math.log(w) for w in walls) / len(walls))
        lines += ["", f"wall: geometric mean {gm:.1f} s, worst {max(walls):.1f} s over {len(walls)} runs"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from benchmarks.generate import spec_by_name, write_case

    ap = argparse.ArgumentParser(prog="python -m benchmarks.end_to_end", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="large")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--gap", type=float, default=1e-4)
    ap.add_argument("--time-limit", type=float, default=240.0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = ap.parse_args(argv)
    work = a.out / "work"
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in [s.strip() for s in a.sizes.split(",") if s.strip()]:
        for seed in [int(s) for s in a.seeds.split(",") if s.strip()]:
            case = work / f"{size}_s{seed}.xlsx"
            if not case.exists():
                write_case(case, spec_by_name(size), seed)
            r = run_one(case, gap=a.gap, time_limit_s=a.time_limit, threads=a.threads, log_dir=a.out / "logs")
            rows.append(r)
            print(f"{r['case']}: wall {r['wall_s']:.1f} s, HiGHS {_f(r['highs_mip_s'])} s, outside "
                  f"{_f(r['outside_highs_s'])} s, status {r['status']}", flush=True)
    text = table(rows, a.gap)
    (a.out / "end_to_end.json").write_text(json.dumps({"gap": a.gap, "rows": rows}, indent=1))
    (a.out / "end_to_end.md").write_text(text)
    print(text)
    return 1 if any(r["exit"] != 0 for r in rows) else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
