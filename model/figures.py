"""PNG figures of a solved plan, and the pivoted chart data the workbook charts share.

:func:`chart_data` turns the long result tables into small year-by-series tables (one place, so
the Excel charts of :mod:`model.report` and the PNGs here always show the same numbers);
:func:`write_figures` draws the PNGs with matplotlib's Agg backend and writes each atomically.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .output_schema import COST_CATEGORIES
from .results import Results
from .xlsx_util import atomic_write

CELLS = "cells"
SOURCE_KINDS = ("local", "import", "export")
#: Sourcing rows of imported cells are named ``cells_<chemistry>`` (interface.md, version 2).
CELL_PREFIX = "cells_"
#: Most cell plants drawn one by one; the smaller ones are summed into one series.
MAX_PLANT_SERIES = 12
OTHER_PLANTS = "other cell plants"
_EPS = 1e-9


def _top_rows(df: pd.DataFrame, n: int, other: str) -> pd.DataFrame:
    """Drop all-zero rows; keep the ``n - 1`` largest (by total) and sum the rest as ``other``."""
    df = df.loc[(df.abs() > _EPS).any(axis=1)] if len(df) else df
    if len(df) <= n:
        return df
    keep = df.sum(axis=1).sort_values(ascending=False).index[: n - 1]
    rest = df.loc[~df.index.isin(keep)].sum(axis=0)
    out = df.loc[[i for i in df.index if i in set(keep)]]
    return pd.concat([out, rest.to_frame(other).T])


# --------------------------------------------------------------------------- chart data
@dataclass
class ChartData:
    """Year-by-series tables (rows = series, columns = years) behind every chart."""

    years: list[int]
    cell_capacity: pd.DataFrame  # cell plant x year, GWh/yr (plants with capacity; small ones grouped)
    cell_demand: pd.Series  # year -> GWh demanded (all chemistries)
    cell_met: pd.Series  # year -> GWh met
    material_capacity: pd.DataFrame  # material x year, material unit / yr
    material_consumption: pd.DataFrame  # material x year: local + import - export
    sourcing: dict[str, pd.DataFrame] = field(default_factory=dict)  # material -> local/import/export x year
    costs: pd.DataFrame = field(default_factory=pd.DataFrame)  # category x year, discounted USD
    local_content: pd.DataFrame = field(default_factory=pd.DataFrame)  # local_value_share/target x year
    units: dict[str, str] = field(default_factory=dict)  # material -> unit
    #: year -> GWh of cells imported (version 2; sourcing rows ``cells_<chemistry>``), all chemistries
    cell_imported: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))

    @property
    def materials(self) -> list[str]:
        return list(self.sourcing)

    @property
    def material_capacity_share(self) -> pd.DataFrame:
        """Local capacity / consumption per material and year (NaN where nothing is consumed)."""
        mats = [m for m in self.material_consumption.index if (self.material_consumption.loc[m] > _EPS).any()]
        if not mats:
            return pd.DataFrame(columns=self.years, dtype=float)
        cons = self.material_consumption.loc[mats]
        cap = self.material_capacity.reindex(index=mats, columns=self.years).fillna(0.0)
        return (cap / cons.where(cons > _EPS)).astype(float)

    @property
    def has_data(self) -> bool:
        return bool(self.years) and not (self.cell_capacity.empty and self.costs.empty and not self.sourcing)

    def unit(self, material: str) -> str:
        return self.units.get(material) or "units"


def _table(results: Results, name: str, columns: tuple[str, ...]) -> pd.DataFrame | None:
    df = results.tables.get(name) if results.tables else None
    if df is None or len(df) == 0 or not all(c in df.columns for c in columns):
        return None
    df = df.loc[df["year"].notna()] if "year" in df.columns else df
    return df if len(df) else None


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").fillna(0.0).astype(float)


def _pivot(df: pd.DataFrame | None, index: str, value: str, years: list[int],
           order: list[str] | None = None) -> pd.DataFrame:
    """Sum ``value`` by ``index`` (rows) and year (columns); rows ordered by ``order`` then first appearance."""
    if df is None or len(df) == 0:
        return pd.DataFrame(columns=years, dtype=float)
    d = pd.DataFrame({
        "i": df[index].map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)),
        "year": pd.to_numeric(df["year"], errors="coerce"),
        "v": _num(df[value]),
    }).dropna(subset=["year"])
    d["year"] = d["year"].astype(int)
    p = d.groupby(["i", "year"], sort=False)["v"].sum().unstack("year")
    p = p.reindex(columns=years).fillna(0.0).astype(float)
    first = list(dict.fromkeys(d["i"]))
    rows = [o for o in (order or []) if o in p.index] + [i for i in first if i not in set(order or [])]
    p = p.reindex(rows)
    p.index.name = None
    p.columns.name = None
    return p


def chart_data(results: Results) -> ChartData:
    """Pivot the result tables for charts (robust to missing or empty tables)."""
    case = results.case
    bs = _table(results, "build_schedule", ("facility", "product", "year", "capacity"))
    src = _table(results, "sourcing", ("material", "year", "source_kind", "quantity"))
    dem = _table(results, "demand", ("year", "demand_gwh", "met_gwh"))
    cst = _table(results, "costs", ("year", "category", "discounted_usd"))
    lc = _table(results, "local_content", ("year", "local_value_share"))

    years: list[int] = list(getattr(case, "years", ()) or ())
    if not years:
        ys: set[int] = set()
        for df in (bs, src, dem, cst, lc):
            if df is not None:
                ys.update(int(y) for y in pd.to_numeric(df["year"], errors="coerce").dropna())
        years = sorted(ys)

    facilities = list(getattr(case, "facilities", {}) or {})
    case_materials = list(getattr(case, "materials", {}) or {})
    units = {m: (getattr(mat, "unit", "") or "") for m, mat in (getattr(case, "materials", {}) or {}).items()}

    # capacity
    if bs is not None:
        is_cells = bs["product"].astype(str) == CELLS
        cell_cap = _top_rows(_pivot(bs.loc[is_cells], "facility", "capacity", years, facilities),
                             MAX_PLANT_SERIES, OTHER_PLANTS)
        mat_cap = _pivot(bs.loc[~is_cells], "product", "capacity", years, case_materials)
    else:
        cell_cap = _pivot(None, "facility", "capacity", years)
        mat_cap = _pivot(None, "product", "capacity", years)

    # demand
    if dem is not None:
        d = pd.DataFrame({"year": pd.to_numeric(dem["year"], errors="coerce"),
                          "demand": _num(dem["demand_gwh"]), "met": _num(dem["met_gwh"])}).dropna(subset=["year"])
        d["year"] = d["year"].astype(int)
        g = d.groupby("year")[["demand", "met"]].sum().reindex(years).fillna(0.0)
        cell_demand, cell_met = g["demand"].astype(float), g["met"].astype(float)
    else:
        cell_demand = pd.Series(0.0, index=years, dtype=float)
        cell_met = pd.Series(0.0, index=years, dtype=float)

    # sourcing, per material: local / import / export
    sourcing: dict[str, pd.DataFrame] = {}
    consumption = {}
    if src is not None:
        s = src.assign(source_kind=src["source_kind"].astype(str).str.strip().str.lower())
        mats_in = list(dict.fromkeys(str(m) for m in s["material"].dropna()))
        order = [m for m in case_materials if m in mats_in] + [m for m in mats_in if m not in case_materials]
        per_kind = _pivot(s.assign(key=s["material"].astype(str) + "\x00" + s["source_kind"]), "key", "quantity", years)
        for m in order:
            rows = {}
            for k in SOURCE_KINDS:
                key = m + "\x00" + k
                rows[k] = per_kind.loc[key] if key in per_kind.index else pd.Series(0.0, index=years)
            t = pd.DataFrame(rows).T.reindex(columns=years).fillna(0.0).astype(float)
            sourcing[m] = t
            consumption[m] = t.loc["local"] + t.loc["import"] - t.loc["export"]
    # imported cells (sourcing rows cells_<chemistry>, GWh) belong with the cells, not the materials
    cell_rows = [m for m in sourcing if m.startswith(CELL_PREFIX)]
    cell_imported = pd.Series(0.0, index=years, dtype=float)
    for m in cell_rows:
        cell_imported = cell_imported + sourcing.pop(m).loc["import"]
        consumption.pop(m, None)
    mat_cons = (pd.DataFrame(consumption).T.reindex(columns=years).astype(float) if consumption
                else pd.DataFrame(columns=years, dtype=float))

    # costs (discounted), report order, all-zero categories dropped
    costs = _pivot(cst, "category", "discounted_usd", years, list(COST_CATEGORIES))
    if len(costs):
        costs = costs.loc[(costs.abs() > _EPS).any(axis=1)]

    # local content
    if lc is not None:
        d = pd.DataFrame({"year": pd.to_numeric(lc["year"], errors="coerce"),
                          "local_value_share": pd.to_numeric(lc["local_value_share"], errors="coerce"),
                          "target": (pd.to_numeric(lc["target"], errors="coerce") if "target" in lc.columns
                                     else float("nan"))}).dropna(subset=["year"])
        d["year"] = d["year"].astype(int)
        local = d.groupby("year")[["local_value_share", "target"]].first().reindex(years).T.astype(float)
    else:
        local = pd.DataFrame(columns=years, dtype=float)

    return ChartData(years=years, cell_capacity=cell_cap, cell_demand=cell_demand, cell_met=cell_met,
                     material_capacity=mat_cap, material_consumption=mat_cons, sourcing=sourcing,
                     costs=costs, local_content=local, units=units, cell_imported=cell_imported)


# --------------------------------------------------------------------------- PNG figures
_COLORS = {"local": "#2e7d32", "import": "#ef6c00", "export": "#1565c0"}


def _atomic_savefig(fig, path: Path, dpi: int) -> Path:
    return atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi))


def _stacked_bars(ax, x, rows: list[tuple[str, Any]], colors=None, width=0.8):
    """Stacked bars where positive values stack up and negative values stack down."""
    import numpy as np

    pos = np.zeros(len(x))
    neg = np.zeros(len(x))
    for i, (label, vals) in enumerate(rows):
        v = np.nan_to_num(np.asarray(vals, dtype=float))
        bottom = np.where(v >= 0, pos, neg)
        ax.bar(x, v, width, bottom=bottom, label=label,
               color=(colors[i] if colors else None), edgecolor="white", linewidth=0.4)
        pos = pos + np.where(v >= 0, v, 0)
        neg = neg + np.where(v < 0, v, 0)


def _no_data(ax, text="no data"):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=12, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def _year_axis(ax, years):
    ax.set_xlim(min(years) - 0.6, max(years) + 0.6)
    step = max(1, math.ceil(len(years) / 12))
    ax.set_xticks(years[::step])
    ax.grid(axis="y", alpha=0.3)


def write_figures(results: Results, folder, stem: str = "results", dpi: int = 120) -> list[Path]:
    """Write ``<stem>_capacity.png``, ``<stem>_sourcing.png`` and ``<stem>_costs.png`` in ``folder``.

    Each file is written to a temporary name in ``folder`` and moved into place, so a failed
    run never leaves a half-written PNG. Returns the paths written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cd = chart_data(results)
    years = cd.years
    status = str(results.summary.get("status") or getattr(results.solve, "status", "") or "")
    no_plan = f"no plan to show (status: {status})" if status else "no plan to show"
    written: list[Path] = []
    rc = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 8,
          "xtick.labelsize": 8, "ytick.labelsize": 9}
    thousands = FuncFormatter(lambda v, _: f"{v:,.0f}")

    with plt.rc_context(rc):
        # 1. capacity: cells (GWh/yr, stacked by facility, with demand) + materials (% of consumption)
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.6))
        if years and (len(cd.cell_capacity) or cd.cell_demand.abs().sum() > 0):
            plants = list(cd.cell_capacity.index)
            cmap = plt.get_cmap("tab10" if len(plants) <= 10 else "tab20")
            bars = [(f, cd.cell_capacity.loc[f].values) for f in plants]
            colors = [cmap(i % cmap.N) for i in range(len(plants))]
            if len(cd.cell_imported) and cd.cell_imported.max() > 1e-9:
                bars.append(("imported cells", cd.cell_imported.values))
                colors.append("#9e9e9e")  # grey: not a plant of ours, whatever colours the plants took
            _stacked_bars(ax1, years, bars, colors)
            ax1.plot(years, cd.cell_demand.values, color="black", marker="o", ms=3, lw=1.5, label="cell demand")
            if (cd.cell_met - cd.cell_demand).abs().max() > 1e-6:
                ax1.plot(years, cd.cell_met.values, color="crimson", ls="--", lw=1.2, label="demand met")
            _year_axis(ax1, years)
            ax1.set_ylabel("GWh per year")
            ax1.yaxis.set_major_formatter(thousands)
            ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=4, frameon=False)
        else:
            _no_data(ax1, no_plan)
        ax1.set_title("Cell capacity by plant (+ imported cells) vs demand, GWh/yr")
        share = cd.material_capacity_share
        if years and len(share):
            for m in share.index:
                ax2.plot(years, (share.loc[m] * 100).values, marker="o", ms=3, lw=1.5, label=m)
            ax2.axhline(100, color="0.3", lw=0.8, ls=":")
            _year_axis(ax2, years)
            ax2.set_ylim(bottom=0)
            ax2.yaxis.set_major_formatter(PercentFormatter(100))
            ax2.set_ylabel("local capacity / consumption")
            ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=4, frameon=False)
        else:
            _no_data(ax2, no_plan if not years or not cd.has_data else "no material consumption")
        ax2.set_title("Material plant capacity, % of what the value chain uses")
        fig.tight_layout()
        written.append(_atomic_savefig(fig, folder / f"{stem}_capacity.png", dpi))
        plt.close(fig)

        # 2. sourcing mix per material: small multiples
        mats = cd.materials
        n = max(1, len(mats))
        ncols = min(3, n)
        nrows = math.ceil(n / ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.4 * nrows + 0.6), squeeze=False)
        for i, ax in enumerate(axes.flat):
            if i >= len(mats):
                if not mats and i == 0:
                    _no_data(ax, no_plan)
                else:
                    ax.axis("off")
                continue
            m = mats[i]
            t = cd.sourcing[m]
            rows = [("local production", t.loc["local"].values), ("import", t.loc["import"].values)]
            colors = [_COLORS["local"], _COLORS["import"]]
            if (t.loc["export"] > _EPS).any():
                rows.append(("export (negative)", -t.loc["export"].values))
                colors.append(_COLORS["export"])
            _stacked_bars(ax, years, rows, colors)
            if m in cd.material_capacity.index and (cd.material_capacity.loc[m] > _EPS).any():
                ax.step(years, cd.material_capacity.loc[m].values, where="mid", color="black", lw=1.2,
                        ls="--", label="local capacity")
            _year_axis(ax, years)
            ax.axhline(0, color="0.3", lw=0.6)
            ax.yaxis.set_major_formatter(thousands)
            ax.set_title(f"{m} ({cd.unit(m)}/yr)")
        handles = {}
        for ax in axes.flat:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(lab, h)
        if handles:
            fig.legend(list(handles.values()), list(handles.keys()), loc="lower center",
                       ncols=len(handles), frameon=False)
        fig.suptitle("Sourcing mix by material: local production vs imports (material units per year)")
        fig.tight_layout(rect=(0, 0.06 if handles else 0, 1, 1))
        written.append(_atomic_savefig(fig, folder / f"{stem}_sourcing.png", dpi))
        plt.close(fig)

        # 3. cost breakdown (discounted, bn USD)
        fig, ax = plt.subplots(figsize=(10, 4.8))
        if years and len(cd.costs):
            rows = [(c, cd.costs.loc[c].values / 1e9) for c in cd.costs.index]
            cmap = plt.get_cmap("tab10" if len(rows) <= 10 else "tab20")
            _stacked_bars(ax, years, rows, [cmap(i % cmap.N) for i in range(len(rows))])
            total = cd.costs.sum(axis=0).values / 1e9
            ax.plot(years, total, color="black", marker="o", ms=3, lw=1.2, label="net total")
            ax.axhline(0, color="0.3", lw=0.6)
            _year_axis(ax, years)
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.1f}"))
            ax.set_ylabel("bn USD (discounted)")
            ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
            npv = float(cd.costs.values.sum())
            ax.set_title(f"Cost by category and year, discounted to the base year, bn USD "
                         f"(net present cost {npv / 1e9:,.1f} bn USD)")
        else:
            _no_data(ax, no_plan)
            ax.set_title("Cost by category and year, discounted to the base year, bn USD")
        fig.tight_layout()
        written.append(_atomic_savefig(fig, folder / f"{stem}_costs.png", dpi))
        plt.close(fig)
    return written
