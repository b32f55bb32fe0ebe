"""The case table (one row per case) and its analysis: tornado swings, Sobol' indices, Morris
elementary effects.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .design import Case, Design, MORRIS_LEVELS, _num_text, design_matrix


# --------------------------------------------------------------------------- the result of a sweep
@dataclass
class SweepResult:
    """Everything a finished (or resumed) sweep knows: the design, its cases, their records and the table."""

    design: Design
    cases: list[Case]
    table: Any  # pandas DataFrame, one row per case
    records: dict[str, dict]  # hash -> record
    hashes: list[str]  # per case
    n_computed: int = 0  # solved in this run
    n_reused: int = 0  # taken from the store
    n_failed: int = 0
    wall_seconds: float = 0.0
    paths: dict[str, Path] = field(default_factory=dict)
    analysis: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    run_info: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- tables and analysis
BASE_COLUMNS = ("case", "status", "net_present_cost_usd", "cost_change_vs_base_usd", "cost_change_vs_base_pct",
                "unmet_gwh_total", "penalty_share_of_cost")
TAIL_COLUMNS = ("mip_gap", "highs_seconds", "case_seconds", "highs_cpu_seconds", "cpu_seconds", "overrides", "message", "hash")
#: The record field that holds a case's objective (the stored records keep their first name).
RECORD_COST = "objective_npv_usd"


def case_table(design: Design, cases: list[Case], hashes: list[str], records: dict[str, dict]):
    """One row per case (case 0 is the base case): net present cost and its change from the base, unmet
    demand and the penalty's share of the cost, the varied inputs, the planner's KPIs, then run details."""
    import pandas as pd

    base = records[hashes[0]].get(RECORD_COST) if hashes else None
    rows = []
    kpi_cols: list[str] = []
    for c, h in zip(cases, hashes):
        rec = records[h]
        obj = rec.get(RECORD_COST)
        row = {"case": c.index, "status": rec.get("status"), "net_present_cost_usd": obj}
        row["cost_change_vs_base_usd"] = (obj - base) if obj is not None and base is not None else None
        row["cost_change_vs_base_pct"] = ((obj - base) / abs(base)) if obj is not None and base else None
        row["unmet_gwh_total"] = rec.get("unmet_gwh_total")
        row["penalty_share_of_cost"] = (rec.get("kpi") or {}).get("penalty_share_of_cost")
        row["mip_gap"] = rec.get("mip_gap")
        vals = dict(c.values)
        for f in design.factors:
            row[f.label] = vals.get(f.label)
        for k, v in (rec.get("kpi") or {}).items():
            if k in BASE_COLUMNS:
                continue
            if k not in kpi_cols:
                kpi_cols.append(k)
            row[k] = v
        row["highs_seconds"] = rec.get("highs_seconds")
        row["case_seconds"] = rec.get("case_seconds")
        row["highs_cpu_seconds"] = rec.get("highs_cpu_seconds")
        row["cpu_seconds"] = rec.get("cpu_seconds")
        row["overrides"] = "; ".join(c.overrides)
        row["message"] = rec.get("message", "")
        row["hash"] = h
        rows.append(row)
    cols = list(BASE_COLUMNS) + [f.label for f in design.factors] + kpi_cols + list(TAIL_COLUMNS)
    df = pd.DataFrame(rows, columns=cols)
    for c in BASE_COLUMNS[2:] + ("mip_gap", "highs_seconds", "case_seconds", "highs_cpu_seconds", "cpu_seconds") + \
            tuple(f.label for f in design.factors):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    for c in kpi_cols:
        df[c] = pd.to_numeric(df[c], errors="coerce")
    for c in ("status", "overrides", "message", "hash"):
        df[c] = df[c].fillna("").astype(str)
    return df


#: An input whose swing is at least this share unmet-demand penalty is marked "mostly penalty".
PENALTY_SWING_SHARE = 0.5


def tornado_table(design: Design, cases: list[Case], table):
    """Net present cost at each input's low and high value (others at base), sorted by swing.

    ``penalty_share_of_swing`` is the part of the swing that is unmet-demand penalty; at
    :data:`PENALTY_SWING_SHARE` or more the input is marked ``mostly_penalty``: its bar measures
    demand the plan does not meet, not the cost of a plan.
    """
    import pandas as pd

    base = table.loc[table.case == 0, "net_present_cost_usd"]
    base = float(base.iloc[0]) if len(base) and pd.notna(base.iloc[0]) else None
    cost = dict(zip(table.case, table.net_present_cost_usd))
    pen = dict(zip(table.case, table["unmet_penalty_usd"])) if "unmet_penalty_usd" in table else {}

    def num(d, k):
        v = d.get(k)
        return None if v is None or pd.isna(v) else float(v)

    rows = []
    for f in design.factors:
        mine = [(dict(c.values)[f.label], c.index) for c in cases if len(c.values) == 1 and c.values[0][0] == f.label]
        if not mine:
            continue
        lo_v, lo_c = min(mine)
        hi_v, hi_c = max(mine)
        lo, hi = num(cost, lo_c), num(cost, hi_c)
        plo, phi = num(pen, lo_c), num(pen, hi_c)
        swing = abs(hi - lo) if lo is not None and hi is not None else None
        pswing = abs(phi - plo) if plo is not None and phi is not None else None
        share = (min(1.0, pswing / swing) if swing else (0.0 if pswing == 0 else None)) if pswing is not None else None
        rows.append({"address": f.address, "operation": f.op, "low": lo_v, "high": hi_v,
                     "cost_low_usd": lo, "cost_high_usd": hi, "cost_base_usd": base,
                     "change_at_low_usd": (lo - base) if lo is not None and base is not None else None,
                     "change_at_high_usd": (hi - base) if hi is not None and base is not None else None,
                     "swing_usd": swing, "penalty_swing_usd": pswing, "penalty_share_of_swing": share,
                     "mostly_penalty": bool(share is not None and share >= PENALTY_SWING_SHARE)})
    df = pd.DataFrame(rows, columns=["address", "operation", "low", "high", "cost_low_usd", "cost_high_usd",
                                     "cost_base_usd", "change_at_low_usd", "change_at_high_usd", "swing_usd",
                                     "penalty_swing_usd", "penalty_share_of_swing", "mostly_penalty"])
    if len(df):
        df = df.sort_values("swing_usd", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    return df


def tornado_label(row) -> str:
    """The tornado's label of an input: its address and range, and a warning when its swing is mostly penalty."""
    lab = f"{row.address} {row.operation} [{_num_text(row.low)}, {_num_text(row.high)}]"
    return lab + "  (mostly unmet-demand penalty)" if bool(row.mostly_penalty) else lab


def analyse(design: Design, cases: list[Case], table) -> tuple[dict, list[str]]:
    """Tornado (oat) or SALib indices (sobol, morris) of the net present cost; notes say what was skipped and why."""
    import numpy as np
    import pandas as pd

    out: dict[str, Any] = {}
    notes: list[str] = []
    if design.kind == "oat":
        out["tornado"] = tornado_table(design, cases, table)
        if out["tornado"]["swing_usd"].isna().any():
            notes.append("tornado: some inputs have no swing because a low or high case failed")
        return out, notes
    if design.kind not in ("sobol", "morris"):
        return out, notes
    y = table.loc[table.case > 0].sort_values("case")["net_present_cost_usd"].to_numpy(dtype=float)
    if np.isnan(y).any():
        notes.append(f"{design.kind} indices not computed: {int(np.isnan(y).sum())} case(s) have no net present cost "
                     "(see the cases sheet); the indices need every sample")
        return out, notes
    problem = design.problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if design.kind == "sobol":
            from SALib.analyze import sobol

            res = sobol.analyze(problem, y, calc_second_order=False, print_to_console=False, seed=design.seed)
            out["sobol"] = pd.DataFrame({"address": [f.address for f in design.factors],
                                         "operation": [f.op for f in design.factors],
                                         "S1": res["S1"], "S1_conf": res["S1_conf"],
                                         "ST": res["ST"], "ST_conf": res["ST_conf"]})
        else:
            from SALib.analyze import morris

            X = design_matrix(design)
            res = morris.analyze(problem, X, y, num_levels=MORRIS_LEVELS, print_to_console=False, seed=design.seed)
            out["morris"] = pd.DataFrame({"address": [f.address for f in design.factors],
                                          "operation": [f.op for f in design.factors],
                                          "mu": res["mu"], "mu_star": res["mu_star"], "sigma": res["sigma"],
                                          "mu_star_conf": res["mu_star_conf"]})
            if any(f.integer for f in design.factors):
                notes.append("morris: whole-number inputs were rounded; their effects are approximate")
    if float(np.nanstd(y)) == 0.0:
        notes.append(f"{design.kind}: the net present cost is the same in every case; the indices are undefined")
    return out, notes
