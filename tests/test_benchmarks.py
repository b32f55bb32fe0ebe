"""The benchmark code runs: a tiny case through every phase, its tables and plot written to tmp_path."""
from __future__ import annotations

import csv

from benchmarks import run_benchmarks
from benchmarks.generate import SIZES, generate_tables, write_case
from model.data import load_case
from model.formulation.strengthen import identical_groups


def test_generator_is_deterministic_and_grows(tmp_path):
    assert generate_tables("small", seed=3) == generate_tables("small", seed=3)
    assert generate_tables("small", seed=3) != generate_tables("small", seed=4)
    sizes = [len(generate_tables(name)["facilities"]) * len(generate_tables(name)["demand"]) for name in SIZES]
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)
    large = generate_tables("large")
    assert len(large["demand"]) == 30 and large["demand"][-1]["year"] == 2055
    assert len({f["product"] for f in large["facilities"]}) == 6
    assert len({r["origin"] for r in large["imports"]}) == 6
    # the workbook is valid input with identical and near-identical candidates
    data = load_case(write_case(tmp_path / "small.xlsx", "small", seed=1))
    assert identical_groups(data)
    assert any(f.lifetime_years < len(data.years) for f in data.facilities.values()) or len(data.years) < 12


def test_tiny_benchmark_all_phases(tmp_path):
    out = tmp_path / "results"
    rc = run_benchmarks.main(["--sizes", "tiny", "--seeds", "0", "--out", str(out), "--time-limit", "30"])
    assert rc == 0
    rows = list(csv.DictReader(open(out / "benchmarks.csv")))
    assert len(rows) == 1
    r = rows[0]
    assert r["error"] == "" and r["status"] == "optimal" and r["verify"] == "passed"
    for phase in ("read", "validate", "build", "solve", "extract", "verify", "report"):
        assert float(r[f"t_{phase}"]) > 0, phase
    assert int(r["rows"]) > 0 and int(r["cols"]) > 0 and int(r["integers"]) > 0
    assert float(r["highs_seconds"]) > 0 and float(r["ratio_total_to_highs"]) > 0
    assert float(r["peak_rss_mb"]) > 0
    assert r["objectives_agree"] == "yes" and r["plain_objective_agrees"] == "yes"
    md = (out / "benchmarks.md").read_text()
    assert "Plain statement vs strengthened" in md and "tiny_s0" in md
    # solved to the gap: the times to 1e-3 and 1e-4 are recorded and ordered, the root gap is known
    for pre in ("highs_", "plain_"):
        assert 0 < float(r[f"{pre}t_1e-3"]) <= float(r[f"{pre}t_1e-4"]) <= float(r[f"{pre}seconds"]) + 1e-6
        assert float(r[f"{pre}root_gap"]) >= 0
    assert "Time to gap" in md
    assert (out / "time_vs_size.png").stat().st_size > 0


def test_rebuild_cases_retire_and_rebuild():
    from benchmarks.generate import spec_by_name

    for name in ("small_rebuild", "medium_rebuild"):
        t = generate_tables(name, seed=0)
        years = len(t["demand"])
        assert max(f["lifetime_years"] for f in t["facilities"]) < years, name
        assert set(f["lifetime_years"] for f in t["facilities"]) <= set(spec_by_name(name).lifetimes)
        # exact copies keep their source's lifetime: the symmetry breaking still finds identical groups
        groups: dict = {}
        for f in t["facilities"]:
            key = tuple((k, v) for k, v in f.items() if k not in ("facility", "site"))
            groups[key] = groups.get(key, 0) + 1
        assert max(groups.values()) >= 2, name
