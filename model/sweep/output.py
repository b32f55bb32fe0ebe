"""The sweep's outputs: the workbook (cover, cases, analysis sheets), CSV/Parquet, PNG figures.
"""
from __future__ import annotations

import math
from pathlib import Path

from .. import MODEL_VERSION, __version__
from .analysis import SweepResult, tornado_label
from .design import SAMPLED, _num_text
from .store import RunSpec, atomic_write_bytes
from .worker import OK


# --------------------------------------------------------------------------- writing the outputs
def _owasp(v):
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r", "\0"):
        return "'" + v
    return v


def csv_safe(df):
    """A copy whose text cells cannot run as spreadsheet formulas (OWASP CSV injection)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or str(out[c].dtype) in ("str", "string"):
            out[c] = out[c].map(_owasp)
    out.columns = [_owasp(str(c)) for c in out.columns]
    return out


def summary_sections(result: SweepResult) -> tuple[list[tuple[str, list[tuple]]], list[tuple[str, str]]]:
    """The sweep's cover: ``[(section, [(key, value, unit, meaning), ...])]`` and the alerts (unmet demand)."""
    from ..solve import solver_version

    info = getattr(result, "run_info", {})
    spec: RunSpec = info.get("spec")
    t = result.table
    d = result.design
    plan = [
        ("design", d.kind, None, "oat: one input at a time; grid; lhs/sobol/morris: sampled"),
        ("definition_source", d.source, None, "where the sweep's inputs and ranges were defined"),
        ("inputs_varied", len(d.factors), "count", "inputs varied (sheet definition)"),
        ("samples", d.samples, "count", "samples of a sampled design"),
        ("seed", d.seed if d.kind in SAMPLED else None, None, "random seed of a sampled design"),
        ("n_cases", len(result.cases), "count", "cases, the base case (case 0) included"),
        ("n_unique_cases", info.get("n_unique"), "count", "distinct cases solved or reused"),
        ("n_ok", int(t.status.isin(OK).sum()), "count", "cases with a plan"),
        ("n_failed", result.n_failed, "count", "cases without a plan (see the cases sheet, column message)"),
    ]
    for status, n in t.status.value_counts().items():
        plan.append((f"n_status_{status}", int(n), "count", f"cases that ended {status}"))
    base = t.loc[t.case == 0]

    def first(col):
        if not len(base) or col not in base or pd_isna(base[col].iloc[0]):
            return None
        v = base[col].iloc[0]
        return v.item() if hasattr(v, "item") else v

    def agg(col, how):
        if col not in t or not t[col].notna().any():
            return None
        return float(getattr(t[col], how)())

    plan.insert(0, ("base_status", first("status"), None, "how the base case (no input changed) ended"))
    cost = [
        ("base_net_present_cost_usd", first("net_present_cost_usd"), "USD",
         "net present cost of the base case (lower is better)"),
        ("cost_min_usd", agg("net_present_cost_usd", "min"), "USD", "lowest net present cost over the cases"),
        ("cost_max_usd", agg("net_present_cost_usd", "max"), "USD", "highest net present cost over the cases"),
        ("cost_change_vs_base_max_pct", agg("cost_change_vs_base_pct", "max"), "change",
         "largest increase of a case's cost over the base case"),
        ("cost_change_vs_base_min_pct", agg("cost_change_vs_base_pct", "min"), "change",
         "largest decrease of a case's cost below the base case"),
    ]
    tor = result.analysis.get("tornado")
    mostly: list[str] = []
    if tor is not None and len(tor) and tor.swing_usd.notna().any():
        top = tor.iloc[0]
        cost.append(("biggest_swing_input", f"{top.address} {top.operation} [{_num_text(top.low)}, "
                     f"{_num_text(top.high)}]", None, "the input that moves the cost most (sheet tornado)"))
        cost.append(("biggest_swing_usd", float(top.swing_usd), "USD", "its swing: cost at high - cost at low"))
        mostly = [a for a, m in zip(tor.address, tor.mostly_penalty) if bool(m)]
    n_unmet = int((t.unmet_gwh_total.fillna(0) > 1e-6).sum()) if "unmet_gwh_total" in t else 0
    demand = [
        ("base_unmet_gwh_total", first("unmet_gwh_total"), "GWh", "cell demand the base case leaves unmet"),
        ("cases_with_unmet_demand", n_unmet, "count", "cases that leave cell demand unmet (paying the penalty)"),
        ("unmet_gwh_max", agg("unmet_gwh_total", "max"), "GWh", "most unmet cell demand in a case"),
        ("penalty_share_of_cost_max", agg("penalty_share_of_cost", "max"), "share",
         "largest share of a case's cost that is unmet-demand penalty"),
        ("inputs_mostly_penalty", "; ".join(mostly) if mostly else "none", None,
         "inputs whose tornado swing is mostly unmet-demand penalty: their bar measures demand not met"),
    ]
    local = []
    shares = sorted(c for c in t.columns if str(c).startswith("local_value_share_"))
    if shares:
        k = shares[-1]
        local = [(f"base_{k}", first(k), "share", f"local value share of the base case in {k[-4:]}"),
                 (f"{k}_min", agg(k, "min"), "share", f"lowest local value share in {k[-4:]} over the cases"),
                 (f"{k}_max", agg(k, "max"), "share", f"highest local value share in {k[-4:]} over the cases")]
    prov = [
        ("n_computed_this_run", result.n_computed, "count", "cases solved in this run"),
        ("n_reused_from_store", result.n_reused, "count", "cases taken from an earlier run of the same sweep"),
        ("backend", info.get("backend"), None, ""),
        ("workers", info.get("workers"), "count", ""),
        ("scheduler", info.get("scheduler"), None, ""),
        ("wall_seconds", round(result.wall_seconds, 3), "seconds", "elapsed time of this run"),
        ("highs_seconds_total", round(float(t.highs_seconds.sum()), 3), "seconds", "HiGHS time summed over cases"),
        ("case_seconds_total", round(float(t.case_seconds.sum()), 3), "seconds", "case time summed over cases"),
        ("highs_cpu_seconds_total", round(float(t.highs_cpu_seconds.sum()), 3), "seconds", ""),
        ("cases_per_second_this_run", round(result.n_computed / result.wall_seconds, 4)
         if result.wall_seconds and result.n_computed else None, None, ""),
        ("input_file", info.get("input_file"), None, "input workbook"),
        ("input_sha256", info.get("input_sha256"), None, "SHA-256 of the input workbook file"),
        ("inputs_content_sha256", spec.inputs_sha256 if spec else None, None, "SHA-256 of the input sheets' content"),
        ("case_store", info.get("store"), None, "folder of the stored cases (a re-run reuses them)"),
        ("solver", "highs (through Pyomo, as run; threads=1 per worker process)", None, ""),
        ("solver_version", solver_version(), None, ""),
        ("model_version", MODEL_VERSION, None, ""),
        ("battery_plan_version", __version__, None, ""),
        ("setting_mip_rel_gap", spec.mip_rel_gap if spec and spec.mip_rel_gap is not None else "from the settings sheet",
         None, ""),
        ("setting_time_limit_s", spec.time_limit_s if spec and spec.time_limit_s is not None
         else "from the settings sheet", None, ""),
    ]
    for i, n in enumerate(result.notes, start=1):
        prov.append((f"note_{i}", n, None, ""))
    alerts = []
    if n_unmet:
        worst, share = agg("unmet_gwh_total", "max"), agg("penalty_share_of_cost", "max")
        alerts.append(("unmet_demand_alert",
                       f"UNMET DEMAND in {n_unmet} of {len(t)} cases: up to {worst:,.1f} GWh of cell demand is not "
                       f"met" + (f" and the penalty is up to {share * 100:.1f}% of a case's net present cost"
                                 if share is not None else "")
                       + ". Those cases pay a penalty instead of supplying demand"
                       + (f"; the tornado bars of {', '.join(mostly)} are mostly that penalty." if mostly else ".")))
    sections = [("Plan (the sweep)", plan), ("Cost", cost), ("Demand", demand), ("Local content", local),
                ("Run provenance", prov)]
    return sections, alerts


def pd_isna(v) -> bool:
    import pandas as pd

    return v is None or bool(pd.isna(v))


#: Columns of the sweep's tables with their cover units beyond :data:`model.styles.COLUMN_UNITS`.
_SWEEP_NOTES = {
    "case": "case number; 0 is the base case (no input changed)",
    "net_present_cost_usd": "net present cost of the case, USD (lower is better)",
    "cost_change_vs_base_usd": "case - base case, USD (positive = dearer)",
    "cost_change_vs_base_pct": "(case - base case) / base case",
    "unmet_gwh_total": "cell demand not met, GWh (charged at the penalty)",
    "penalty_share_of_cost": "unmet-demand penalty / net present cost",
    "swing_usd": "|cost at high - cost at low|, USD",
    "penalty_share_of_swing": "part of the swing that is unmet-demand penalty",
    "mostly_penalty": "TRUE: the swing is mostly penalty for unmet demand, not the cost of a plan",
}


def _write_df(ws, df, number_formats: dict[str, str] | None = None, st=None) -> None:
    """A DataFrame as a table, formatted by unit (:mod:`model.styles`), ready to print."""
    from ..styles import column_format, write_table

    fmts = number_formats or {}
    formats = [fmts.get(c) or column_format(str(c)) or _default_format(str(c)) for c in df.columns]
    write_table(ws, [str(c) for c in df.columns], ([_cell(v) for v in row] for row in df.itertuples(index=False)),
                st, formats=formats, notes=_SWEEP_NOTES)


def _default_format(name: str) -> str | None:
    if name.endswith("_usd"):
        return "#,##0"
    if "share" in name or name.endswith("gap"):
        return "0.0%" if "share" in name else "0.00E+00"
    if name.endswith("seconds"):
        return "0.000"
    return None


def _cell(v):
    if v is None:
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _sorted_cases(table):
    """The base case first, then the cases with the biggest cost change."""
    t = table.copy()
    t["_k"] = t.cost_change_vs_base_usd.abs().fillna(-1.0)
    t.loc[t.case == 0, "_k"] = float("inf")
    return t.sort_values(["_k", "case"], ascending=[False, True], kind="stable").drop(columns="_k")


def build_workbook(result: SweepResult):
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference

    from ..styles import Styles, write_cover

    st = Styles()
    wb = Workbook()
    ws = wb.active
    ws.title = "summary"
    sections, alerts = summary_sections(result)
    write_cover(ws, sections, st, alerts=alerts)

    wc = wb.create_sheet("cases")
    _write_df(wc, _sorted_cases(result.table), st=st)
    for c in wc[2]:
        if wc.cell(2, 1).value == 0:
            c.fill = st.base_fill  # the base case

    tor = result.analysis.get("tornado")
    if tor is not None:
        wt = wb.create_sheet("tornado")
        tdf = tor.copy()
        tdf.insert(0, "input", [tornado_label(r) for r in tor.itertuples()])
        _write_df(wt, tdf, st=st)
        n = len(tdf)
        for r, m in enumerate(tdf.mostly_penalty, start=2):
            if bool(m):
                for c in wt[r]:
                    c.font = st.alert
        if n:
            cols = list(tdf.columns)
            chart = BarChart()
            chart.type = "bar"
            chart.grouping = "clustered"
            chart.overlap = 100
            chart.title = "Net present cost change vs base case, bn USD (one input at a time)"
            chart.y_axis.title = "bn USD"
            chart.x_axis.title = None
            chart.x_axis.scaling.orientation = "maxMin"  # largest swing on top
            chart.x_axis.tickLblPos = "low"  # labels left of the plot, never over the bars
            chart.x_axis.delete = False
            chart.y_axis.delete = False
            chart.y_axis.number_format = '#,##0.0,,,'
            chart.y_axis.majorGridlines = None
            lo = cols.index("change_at_low_usd") + 1
            data = Reference(wt, min_col=lo, max_col=lo + 1, min_row=1, max_row=n + 1)
            cats = Reference(wt, min_col=1, min_row=2, max_row=n + 1)
            chart.add_data(data, titles_from_data=True)
            chart.set_categories(cats)
            chart.legend.position = "b"
            chart.height = min(17.0, max(7.5, 2.5 + 0.8 * n))
            chart.width = 26
            wt.add_chart(chart, f"A{n + 4}")
    for name, ycols in (("sobol", (3, 5)), ("morris", (4, 4))):
        df = result.analysis.get(name)
        if df is None:
            continue
        wx = wb.create_sheet(name)
        _write_df(wx, df, {c: "0.000" for c in df.columns if c not in ("address", "operation")}, st=st)
        n = len(df)
        if n:
            chart = BarChart()
            chart.type = "bar"
            chart.title = ("Sobol indices of the net present cost (S1, ST)" if name == "sobol"
                           else "Morris mu* of the net present cost (USD)")
            chart.x_axis.scaling.orientation = "maxMin"
            chart.x_axis.tickLblPos = "low"
            chart.x_axis.delete = False
            chart.y_axis.delete = False
            for col in sorted(set(ycols)):
                chart.add_data(Reference(wx, min_col=col, max_col=col, min_row=1, max_row=n + 1), titles_from_data=True)
            chart.set_categories(Reference(wx, min_col=1, min_row=2, max_row=n + 1))
            chart.height = min(17.0, max(7.5, 1.0 + 0.9 * n))
            chart.width = 24
            wx.add_chart(chart, f"A{n + 4}")

    wd = wb.create_sheet("definition")
    import pandas as pd

    ddf = pd.DataFrame([{"address": f.address, "operation": f.op, "low": f.low, "high": f.high,
                         "steps": f.steps if result.design.kind in ("oat", "grid") else None,
                         "design": result.design.kind, "whole_numbers": f.integer, "defined_on_row": f.row}
                        for f in result.design.factors])
    _write_df(wd, ddf, st=st)
    return wb


def write_figures(result: SweepResult, folder: Path, stem: str) -> dict[str, Path]:
    import numpy as np
    from matplotlib.figure import Figure

    paths: dict[str, Path] = {}

    def save(fig, name):
        p = folder / f"{stem}_{name}.png"
        atomic_write_bytes(p, lambda fh: fig.savefig(fh, format="png", dpi=110, bbox_inches="tight"))
        paths[name] = p

    npv = result.table["net_present_cost_usd"].dropna().to_numpy(dtype=float) / 1e9
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    if len(npv):
        ax.hist(npv, bins=min(40, max(5, int(len(npv) ** 0.5) + 1)), color="#1565c0", alpha=0.85)
        base = result.table.loc[result.table.case == 0, "net_present_cost_usd"]
        if len(base) and not np.isnan(base.iloc[0]):
            ax.axvline(base.iloc[0] / 1e9, color="k", ls="--", lw=1, label="base case")
            ax.legend()
    else:
        ax.text(0.5, 0.5, "no solved case", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("net present cost, bn USD")
    ax.set_ylabel("cases")
    ax.set_title(f"Net present cost over {len(result.cases)} cases ({result.design.kind} design)")
    save(fig, "cost_hist")

    tor = result.analysis.get("tornado")
    if tor is not None and len(tor):
        t = tor.iloc[::-1]
        fig = Figure(figsize=(8, 1.2 + 0.45 * len(t)))
        ax = fig.add_subplot()
        yy = np.arange(len(t))
        labels = [tornado_label(r) for r in t.itertuples()]
        ax.barh(yy, t.change_at_low_usd.fillna(0) / 1e9, color="#2e7d32", label="at low")
        ax.barh(yy, t.change_at_high_usd.fillna(0) / 1e9, color="#ef6c00", alpha=0.8, label="at high")
        ax.set_yticks(yy, labels, fontsize=8)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_xlabel("net present cost change vs base case, bn USD (lower is better)")
        ax.set_title("Tornado: one input at a time" + ("; red labels: swing mostly unmet-demand penalty"
                                                        if t.mostly_penalty.any() else ""))
        for lab, m in zip(ax.get_yticklabels(), t.mostly_penalty):
            if bool(m):
                lab.set_color("#c62828")
        ax.legend(loc="lower right", fontsize=8)
        save(fig, "tornado")
    for name in ("sobol", "morris"):
        df = result.analysis.get(name)
        if df is None or not len(df):
            continue
        fig = Figure(figsize=(8, 1.2 + 0.45 * len(df)))
        ax = fig.add_subplot()
        yy = np.arange(len(df))
        if name == "sobol":
            ax.barh(yy - 0.2, df.S1, 0.4, xerr=df.S1_conf, label="S1 (first order)", color="#1565c0")
            ax.barh(yy + 0.2, df.ST, 0.4, xerr=df.ST_conf, label="ST (total)", color="#ef6c00")
            ax.set_xlabel("Sobol index of the net present cost")
        else:
            ax.barh(yy, df.mu_star / 1e9, xerr=df.mu_star_conf / 1e9, color="#1565c0", label="mu*")
            ax.set_xlabel("Morris mu* of the net present cost, bn USD")
        ax.set_yticks(yy, [f"{a} {o}" for a, o in zip(df.address, df.operation)], fontsize=8)
        ax.invert_yaxis()
        ax.legend(fontsize=8)
        save(fig, name)
    return paths


def write_outputs_all(result: SweepResult, out: Path, *, figures: bool = True) -> dict[str, Path]:
    """The workbook, the raw table (parquet and CSV) and PNG figures, each written atomically."""
    from ..xlsx_util import atomic_save

    out = Path(out)
    paths: dict[str, Path] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    table = result.table
    pq = out.with_suffix(".parquet")
    atomic_write_bytes(pq, lambda fh: table.to_parquet(fh, index=False))
    paths["parquet"] = pq
    csv = out.with_suffix(".csv")
    safe = csv_safe(table)
    atomic_write_bytes(csv, lambda fh: fh.write(safe.to_csv(index=False, lineterminator="\n").encode("utf-8")))
    paths["csv"] = csv
    if figures:
        try:
            paths.update(write_figures(result, out.parent, out.stem))
        except Exception as exc:  # a figure never costs the results
            result.notes.append(f"figures not written: {type(exc).__name__}: {exc}")
    paths["workbook"] = atomic_save(build_workbook(result), out)
    return paths
