"""Numeric limits: every coefficient the model hands to HiGHS stays in a documented safe range.

A cell can be legal on its own and still make a coefficient HiGHS cannot handle: an import price
escalating at 100 a year grows by 10^28 over fifteen years, and HiGHS has been seen to die by
SIGSEGV on such a model. This module computes, before any model is built, the largest (and for
matrix coefficients the smallest non-zero) value of each *coefficient family* over the whole
horizon, discounting and escalation included, and refuses the case naming the cell that drives
the coefficient out of range. No Pyomo here: it reads the validated settings and the raw rows.

The check is table-driven: :data:`FAMILIES` has one row per family of coefficients (which sheet
and columns make it, how it is computed, its safe range). Families whose sheet or columns are
absent from the workbook are skipped, so rows for Version-2 inputs (``cell_imports``,
``recipes``, ``capex_change_per_year``, ``cell_conversion_value_usd_per_kwh``) can sit here
before the sheets exist. Every computation is done on base-10 logarithms, so no input, however
extreme, raises ``OverflowError``.

Safe ranges (docs/reliability.md, "Numeric limits"): objective coefficients (discounted USD per
unit of a variable) at most 1e13; constraint coefficients between 1e-9 and 1e9 when not zero;
bounds and right-hand sides at most 1e12; discount factors between 1e-8 and 1e8. HiGHS treats
1e20 as infinity and warns above 1e15 for matrix values; the ranges leave orders of magnitude of
room so that a relative MIP gap of 1e-4 still means something.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from .errors import Problem

#: Largest objective coefficient: discounted USD per unit of one variable.
MAX_COST = 1e13
#: Range of a non-zero constraint-matrix coefficient.
MIN_MATRIX, MAX_MATRIX = 1e-9, 1e9
#: Largest bound or right-hand side (unit/yr, GWh/yr).
MAX_BOUND = 1e12
#: Range of the discount factor DF[y] = (1 + r) ** -(y - base_year) over the horizon.
MIN_DF, MAX_DF = 1e-8, 1e8

NEG_INF = float("-inf")


def log10p(x: float) -> float:
    """log10 of a non-negative number; -inf for 0."""
    return math.log10(x) if x > 0 else NEG_INF


def log10_sum(*logs: float) -> float:
    """log10(10**a + 10**b + ...) without overflow."""
    finite = [v for v in logs if v != NEG_INF]
    if not finite:
        return NEG_INF
    if any(math.isnan(v) for v in finite):
        return float("inf")  # only inf - inf makes NaN here: beyond any float
    top = max(finite)
    if math.isinf(top):
        return top
    return top + math.log10(sum(10 ** (v - top) for v in finite))


@dataclass(frozen=True)
class Horizon:
    start: int
    end: int
    base: int
    rate: float

    def log_df(self, y: int) -> float:
        """log10 DF[y] = -(y - base) * log10(1 + r)."""
        return -(y - self.base) * math.log10(1.0 + self.rate)

    def max_log_df(self, years: Iterable[int] | None = None) -> float:
        ys = list(years) if years is not None else [self.start, self.end]
        return max(self.log_df(y) for y in ys)

    def crf_log(self, lifetime: int) -> float:
        r, n = self.rate, max(int(lifetime), 1)
        if r == 0:
            return -math.log10(n)
        return math.log10(r) - math.log10(-math.expm1(-n * math.log1p(r)))


@dataclass(frozen=True)
class Family:
    """One family of coefficients: where it comes from, how it is computed, its safe range.

    ``compute(h, get)`` gets the horizon and a getter of the row's numbers (``get(column)``,
    default applied) and returns ``{column: log10 contribution}`` plus the family's log10 value
    under key ``"="``; the column with the largest contribution is named in the message.
    ``kind`` is "cost" (upper limit MAX_COST), "matrix" (non-zero within MIN/MAX_MATRIX) or
    "bound" (upper limit MAX_BOUND).
    """

    name: str
    sheet: str
    columns: tuple[str, ...]
    formula: str
    kind: str
    unit: str
    compute: Callable[[Horizon, Callable[[str], float]], dict[str, float]]
    fix: str = "lower it"
    version: int = 1  # 2: a Version-2 input, skipped while its sheet/columns are absent
    requires: tuple[str, ...] = ()  # columns that must be in the sheet, else the family is skipped

    @property
    def limits(self) -> tuple[float | None, float]:
        return {"cost": (None, MAX_COST), "matrix": (MIN_MATRIX, MAX_MATRIX), "bound": (None, MAX_BOUND)}[self.kind]


def _escalated(h: Horizon, price_log: float, esc: float, adder_log: float, scale_log: float = 0.0):
    """max over y of log10(DF[y] * 10**scale * (10**price * (1+esc)**(y-base) + 10**adder)) and the parts."""
    best, parts = NEG_INF, {"esc": NEG_INF, "df": 0.0}
    for y in (h.start, h.end):
        esc_log = (y - h.base) * math.log10(1.0 + esc) if esc > -1 else NEG_INF
        val = h.log_df(y) + scale_log + log10_sum(price_log + esc_log, adder_log)
        if math.isnan(val):
            val = float("inf")
        if val > best:
            best, parts = val, {"esc": esc_log, "df": h.log_df(y)}
    return best, parts


def _landed(price: str, esc: str, freight: str, tariff: str, scale_log: float = 0.0):
    def compute(h: Horizon, get) -> dict[str, float]:
        p_log = log10p(1.0 + get(tariff)) + log10p(get(price)) if get(price) > 0 else NEG_INF
        val, parts = _escalated(h, p_log, get(esc), log10p(get(freight)), scale_log)
        return {"=": val, price: log10p(get(price)), esc: parts["esc"], freight: log10p(get(freight)),
                tariff: log10p(1.0 + get(tariff))}
    return compute


def _per_module_cost(column: str, annualised: bool = False):
    def compute(h: Horizon, get) -> dict[str, float]:
        c = log10p(get(column))
        crf = h.crf_log(get("lifetime_years") or 1) if annualised else 0.0
        return {"=": c + crf + h.max_log_df(), column: c}
    return compute


def _vintage_capex(h: Horizon, get) -> dict[str, float]:
    """max over v <= y of log10(DF[y] * CRF * capex * (1 + g) ** (v - base))."""
    c, g = log10p(get("capex_usd_per_module")), get("capex_change_per_year")
    lg = math.log10(1.0 + g) if g > -1 else NEG_INF
    crf = h.crf_log(get("lifetime_years") or 1)
    best, esc = NEG_INF, 0.0
    for v, y in ((h.start, h.start), (h.start, h.end), (h.end, h.end)):
        e = (v - h.base) * lg if lg != NEG_INF else NEG_INF
        val = h.log_df(y) + crf + c + e
        if val > best:
            best, esc = val, e
    return {"=": best, "capex_usd_per_module": c, "capex_change_per_year": esc}


def _plain(column: str, scale_log: float = 0.0, discounted: bool = False):
    def compute(h: Horizon, get) -> dict[str, float]:
        v = log10p(abs(get(column)))
        return {"=": v + scale_log + (h.max_log_df() if discounted else 0.0), column: v}
    return compute


def _product(a: str, b: str, scale_log: float = 0.0):
    def compute(h: Horizon, get) -> dict[str, float]:
        la, lb = log10p(get(a)), log10p(get(b))
        return {"=": la + lb + scale_log if NEG_INF not in (la, lb) else NEG_INF, a: la, b: lb}
    return compute


def _demand(h: Horizon, get) -> dict[str, float]:
    v, k = log10p(get("vehicles")), log10p(get("kwh_per_vehicle"))
    return {"=": v + k - 6 if NEG_INF not in (v, k) else NEG_INF, "vehicles": v, "kwh_per_vehicle": k}


#: One row per family of coefficients the model hands to HiGHS.
FAMILIES: tuple[Family, ...] = (
    Family("landed import cost", "imports",
           ("price_usd_per_unit", "price_escalation_per_year", "freight_usd_per_unit", "tariff_rate"),
           "DF[y] * ((1 + tariff_rate) * price * (1 + escalation) ** (y - base_year) + freight)", "cost", "USD/unit",
           _landed("price_usd_per_unit", "price_escalation_per_year", "freight_usd_per_unit", "tariff_rate")),
    Family("annualised capex", "facilities", ("capex_usd_per_module", "lifetime_years"),
           "DF[y] * CRF[f] * capex_usd_per_module", "cost", "USD/module", _per_module_cost("capex_usd_per_module", True)),
    Family("fixed O&M", "facilities", ("fixed_om_usd_per_module_year",),
           "DF[y] * fixed_om_usd_per_module_year", "cost", "USD/module", _per_module_cost("fixed_om_usd_per_module_year")),
    Family("opening cost", "facilities", ("opening_cost_usd",), "DF[y] * opening_cost_usd", "cost", "USD",
           _per_module_cost("opening_cost_usd")),
    Family("variable production cost", "facilities", ("variable_cost_usd_per_unit",),
           "DF[y] * variable_cost_usd_per_unit", "cost", "USD/unit", _plain("variable_cost_usd_per_unit", discounted=True)),
    Family("existing fixed O&M", "facilities", ("existing_fixed_om_usd_per_year",),
           "DF[y] * existing_fixed_om_usd_per_year (objective constant)", "cost", "USD",
           _plain("existing_fixed_om_usd_per_year", discounted=True)),
    Family("export revenue", "exports", ("price_usd_per_unit",), "DF[y] * export price", "cost", "USD/unit",
           _plain("price_usd_per_unit", discounted=True)),
    Family("unmet-demand penalty", "settings", ("unmet_penalty_usd_per_kwh",),
           "DF[y] * unmet_penalty_usd_per_kwh * 1e6", "cost", "USD/GWh",
           _plain("unmet_penalty_usd_per_kwh", scale_log=6, discounted=True)),
    Family("module size", "facilities", ("module_size",), "module_size (capacity per module)", "matrix", "unit/yr",
           _plain("module_size"), fix="use a module size between 1e-9 and 1e9 (change the unit if needed)"),
    Family("capacity of all modules", "facilities", ("module_size", "max_modules"), "module_size * max_modules",
           "bound", "unit/yr", _product("module_size", "max_modules")),
    Family("existing capacity", "facilities", ("existing_capacity",), "existing_capacity", "bound", "unit/yr",
           _plain("existing_capacity")),
    Family("material intensity", "intensity", ("amount_per_gwh",), "amount_per_gwh", "matrix", "unit/GWh",
           _plain("amount_per_gwh"), fix="use an amount between 1e-9 and 1e9 (change the material's unit if needed)"),
    Family("local-content value", "materials", ("reference_price_usd_per_unit",),
           "reference_price_usd_per_unit (local-content row)", "cost", "USD/unit",
           _plain("reference_price_usd_per_unit")),
    Family("cell demand", "demand", ("vehicles", "kwh_per_vehicle"), "vehicles * kwh_per_vehicle / 1e6", "bound",
           "GWh/yr", _demand),
    Family("import limit", "imports", ("max_per_year",), "max_per_year", "bound", "unit/yr", _plain("max_per_year"),
           fix="lower it (blank means no limit)"),
    Family("export limit", "exports", ("max_per_year",), "max_per_year", "bound", "unit/yr", _plain("max_per_year"),
           fix="lower it (blank means no limit)"),
    # ---- Version 2 inputs (workbook.md, "Version 2 sheets"); skipped while absent
    Family("cell import cost", "cell_imports",
           ("price_usd_per_kwh", "price_escalation_per_year", "freight_usd_per_kwh", "tariff_rate"),
           "DF[y] * 1e6 * ((1 + tariff_rate) * price_usd_per_kwh * (1 + escalation) ** (y - base_year) + freight_usd_per_kwh)",
           "cost", "USD/GWh",
           _landed("price_usd_per_kwh", "price_escalation_per_year", "freight_usd_per_kwh", "tariff_rate", scale_log=6),
           version=2, requires=("price_usd_per_kwh",)),
    Family("cell import limit", "cell_imports", ("max_gwh_per_year",), "max_gwh_per_year", "bound", "GWh/yr",
           _plain("max_gwh_per_year"), fix="lower it (blank means no limit)", version=2),
    Family("vintage capex", "facilities", ("capex_usd_per_module", "capex_change_per_year", "lifetime_years"),
           "DF[y] * CRF[f] * capex_usd_per_module * (1 + capex_change_per_year) ** (v - base_year), v <= y",
           "cost", "USD/module", _vintage_capex, version=2,
           requires=("capex_change_per_year",)),
    Family("recipe amount", "recipes", ("amount_per_unit",), "amount_per_unit", "matrix", "unit/unit",
           _plain("amount_per_unit"), fix="use an amount between 1e-9 and 1e9 (change a unit if needed)", version=2,
           requires=("amount_per_unit",)),
    Family("cell conversion value", "settings", ("cell_conversion_value_usd_per_kwh",),
           "1e6 * cell_conversion_value_usd_per_kwh (local-content row)", "cost", "USD/GWh",
           _plain("cell_conversion_value_usd_per_kwh", scale_log=6), version=2),
)

#: Defaults of Version-2 columns not (yet) in the schema.
def _column_default(sheet: str, column: str):
    """The schema's default of ``sheet.column`` (every column a family reads is in the schema)."""
    from . import schema as S

    return S.SHEETS_BY_NAME[sheet].column(column).default


def _rows(raw, sheet: str, columns: tuple[str, ...]):
    """``(excel_row, label column per key, get)`` for each row of a table sheet, or of the settings."""
    from .coercion import _Bad, coerce

    rs = raw.sheet(sheet) if raw is not None else None
    if rs is None or not rs.complete:
        return
    if sheet == "settings":
        ki, vi = rs.col_index("key"), rs.col_index("value")
        if ki is None or vi is None:
            return
        vals, rows = {}, {}
        for r, row in zip(rs.excel_rows, rs.rows):
            k = str(row[ki]).strip().lower() if row[ki] is not None else None
            if k in columns:
                try:
                    v = coerce(row[vi], "float")
                except _Bad:
                    continue
                if v is not None:
                    vals[k], rows[k] = v, r
        if not vals:
            return
        for k, r in rows.items():
            yield r, "value", k, (lambda c, _v=vals: _v.get(c, _column_default(sheet, c) or 0.0))
        return
    idx = {c: rs.col_index(c) for c in columns}
    if all(i is None for i in idx.values()):
        return
    for r, row in zip(rs.excel_rows, rs.rows):
        vals: dict[str, float] = {}
        ok = True
        for c, i in idx.items():
            v = row[i] if i is not None and i < len(row) else None
            try:
                v = coerce(v, "float")
            except _Bad:
                ok = False
                break
            if v is None:
                v = _column_default(sheet, c)
            vals[c] = 0.0 if v is None else float(v)
        if ok:
            yield r, None, None, (lambda c, _v=vals: _v[c])


def check(raw, settings) -> list[Problem]:
    """Every coefficient family against its safe range; one problem per offending row, at its cell.

    ``settings`` is the validated :class:`model.data.Settings` (the horizon, base year and
    discount rate); ``raw`` the workbook as read. Rows that cannot be read are skipped (they are
    reported by the validator).
    """
    h = Horizon(settings.start_year, settings.end_year, settings.base_year, settings.discount_rate)
    problems: list[Problem] = []
    seen: set[tuple] = set()
    problems += _check_discounting(raw, settings, h)
    if problems:  # every discounted family would repeat the same cause
        return problems
    for fam in FAMILIES:
        rs = raw.sheet(fam.sheet) if raw is not None else None
        if rs is None:
            continue
        if any(rs.col_index(c) is None for c in fam.requires):
            continue
        lo, hi = fam.limits
        for r, col_label, key, get in _rows(raw, fam.sheet, fam.columns):
            if fam.sheet == "settings" and key not in fam.columns:
                continue
            try:
                parts = fam.compute(h, get)
            except (ValueError, OverflowError, ZeroDivisionError):
                continue
            val = parts.pop("=")
            if val == NEG_INF:
                continue
            if math.isnan(val):  # inf - inf: an input is beyond any float arithmetic, so far too large
                val = float("inf")
            too_big = val > math.log10(hi)
            too_small = lo is not None and val < math.log10(lo)
            if not (too_big or too_small):
                continue
            cands = {c: v for c, v in parts.items() if v != NEG_INF and not math.isnan(v)} or \
                {c: 0.0 for c in parts}
            blame = (max(cands, key=lambda c: cands[c]) if too_big else min(cands, key=lambda c: cands[c]))
            column = col_label or blame
            where = (rs.name, r, column)
            if where in seen:
                continue
            seen.add(where)
            shown = _shown(val)
            limit = f"at least {lo:g}" if too_small else f"at most {hi:g}"
            problems.append(Problem(rs.name, r, column,
                                    f"{fam.name} ({fam.formula}) reaches {shown} {fam.unit} over {h.start}-{h.end}"
                                    f"{' (' + blame + ' drives it)' if col_label else ''}; the solver needs it "
                                    f"{limit}: {fam.fix}"))
    problems += [p for p in _check_local_content(raw) if (p.sheet, p.row, p.column) not in seen]
    return problems


def _shown(log_value: float) -> str:
    """A value given by its log10, printed without overflow."""
    if not math.isfinite(log_value):
        return "more than 1e+308"
    return f"1e{log_value:+.0f}" if abs(log_value) > 300 else f"{10 ** log_value:.3g}"


def _check_local_content(raw) -> list[Problem]:
    """The local-content row's coefficients p_m * amount_per_gwh[k,m] (a product across two sheets)."""
    from .coercion import _Bad, coerce

    mats, inten = raw.sheet("materials"), raw.sheet("intensity")
    if mats is None or inten is None or not (mats.complete and inten.complete):
        return []
    price: dict[str, float] = {}
    mi, pi = mats.col_index("material"), mats.col_index("reference_price_usd_per_unit")
    ci, ai = inten.col_index("material"), inten.col_index("amount_per_gwh")
    if None in (mi, pi, ci, ai):
        return []
    for row in mats.rows:
        try:
            v = coerce(row[pi], "float")
        except _Bad:
            continue
        if row[mi] is not None and v is not None:
            price[str(row[mi]).strip()] = abs(v)
    out = []
    for r, row in zip(inten.excel_rows, inten.rows):
        try:
            a = coerce(row[ai], "float")
        except _Bad:
            continue
        p = price.get(str(row[ci]).strip()) if row[ci] is not None else None
        if not a or not p:
            continue
        val = log10p(abs(a)) + log10p(p)
        if val > math.log10(MAX_COST):
            out.append(Problem(inten.name, r, "amount_per_gwh",
                               f"local-content coefficient (reference_price_usd_per_unit of '{row[ci]}' * "
                               f"amount_per_gwh) reaches {_shown(val)} USD/GWh; the solver needs it at most "
                               f"{MAX_COST:g}: lower the amount or the reference price (change the material's "
                               "unit if needed)"))
    return out


def _check_discounting(raw, settings, h: Horizon) -> list[Problem]:
    lo, hi = max(h.log_df(h.start), h.log_df(h.end)), min(h.log_df(h.start), h.log_df(h.end))
    if hi >= math.log10(MIN_DF) and lo <= math.log10(MAX_DF):
        return []
    rs = raw.sheet("settings") if raw is not None else None
    outside = not (h.start <= h.base <= h.end)
    key = "base_year" if outside else "discount_rate"
    row = None
    if rs is not None and rs.col_index("key") is not None:
        ki = rs.col_index("key")
        for r, rowv in zip(rs.excel_rows, rs.rows):
            if rowv[ki] is not None and str(rowv[ki]).strip().lower() == key:
                row = r
    if row is None and key == "base_year":  # base_year defaulted: the horizon is what moves it
        key = "discount_rate"
        for r, rowv in zip(rs.excel_rows, rs.rows) if rs is not None and rs.col_index("key") is not None else ():
            if rowv[rs.col_index("key")] is not None and str(rowv[rs.col_index("key")]).strip().lower() == key:
                row = r
    ext = max(abs(lo), abs(hi))
    return [Problem(rs.name if rs is not None else "settings", row, "value",
                    f"{key}: the discount factor (1 + discount_rate) ** -(year - base_year) reaches "
                    f"1e{(lo if abs(lo) >= abs(hi) else hi):+.0f} over {h.start}-{h.end} (base_year {h.base}, "
                    f"discount_rate {h.rate:g}); the solver needs it between {MIN_DF:g} and {MAX_DF:g}: "
                    + ("put base_year inside the horizon" if outside else "lower the discount rate")
                    + (" (costs of different years would differ by 10^%d)" % round(ext) if ext < 1e6 else ""))]


def describe() -> list[dict[str, Any]]:
    """The family table, for docs/reliability.md."""
    out = []
    for f in FAMILIES:
        lo, hi = f.limits
        out.append({"family": f.name, "sheet": f.sheet, "inputs": ", ".join(f.columns), "coefficient": f.formula,
                    "range": (f"[{lo:g}, {hi:g}] when not 0" if lo is not None else f"<= {hi:g}") + f" {f.unit}",
                    "version": f.version})
    return out
