"""Comparing results workbooks: two runs side by side (``compare A B``), or N scenarios (``run --scenario all``).

:func:`compare_workbooks` reads two output workbooks of ``run`` and shows what a planner asks
first: did the headline numbers move (``kpis``), which build decisions changed (``builds``), how
the sourcing changed (``sourcing``), where the cost went (``costs``) and *which inputs differ*
(``inputs_diff``, cell by cell over the echoed input sheets, keyed by the schema keys, with an
address that ``--set`` understands). It returns a compact console text and, when asked, writes
the same in a comparison workbook.

:func:`compare_scenarios` writes one workbook comparing the results of N scenarios of one case:
KPIs and their change from the base case, build years and net present cost by category.

Only the workbook is read: nothing is re-solved. Every workbook is written atomically and every
string goes through :func:`model.xlsx_util.set_cell`, so text from a workbook can never turn into a
live formula in the comparison.
"""
from __future__ import annotations

import dataclasses

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from . import schema, xlsx_util
from .errors import InputError, Problem
from .kpis import unmet_alert
from .output_schema import (COST_CATEGORIES, COST_KEY, OLD_COST_KEY, PLAN_STATUSES, SUMMARY_SHEET, TABLE_COLUMNS,
                            describe, reading)
from .overrides import SCENARIOS, cell_text, quote_key
from .results_workbook import inputs_from_report
from .schema import SHEETS_BY_NAME
from .styles import (FMT_PCT_CHANGE as FMT_CHANGE, FMT_SHARE as FMT_PCT, FMT_SIGNED_USD, FMT_USD,
                     FMT_USD_BN as FMT_BN1, Styles as _Styles, format_of_unit, write_cover, write_table)
from .workbook import RawSheet, RawWorkbook, normalise, read_workbook

SUMMARY = SUMMARY_SHEET
#: Input sheets compared cell by cell (the core schema, then the scenarios sheet).
INPUT_SHEETS = tuple(sh.name for sh in (*schema.SHEETS, schema.SCENARIOS))  # the schema's sheets, v2 included
#: Result tables read from a results workbook (their sheets are never taken for inputs).
#: Summary lines that say how a run was made (shown after the KPIs).
RUN_KEYS = ("input_file", "input_sha256", "scenario", "overrides", "mip_gap", "setting_mip_rel_gap",
            "setting_time_limit_s", "solver_version", "model_version")
SOURCE_KINDS = ("local", "import", "export")
NO_PLAN = "no plan"
LOCAL_SHARE = "local_share"
REL_TOL = 1e-9  # two numbers closer than this (relative) are the same

FMT_GAP = "0.00%"
FMT_QTY_FINE = "#,##0.00"  # quantities compared across runs: two decimals so small changes show
FMT_INT = "0"



# --------------------------------------------------------------------------- reading a results workbook
@dataclass
class ResultsBook:
    """A results workbook as the comparison needs it."""

    path: Path
    label: str  # short name for headers and text (file name)
    summary: dict[str, Any]  # key -> value, in sheet order
    raw: RawWorkbook  # every sheet as read
    inputs: RawWorkbook  # the echoed input sheets, under their input names
    units: dict[str, str] = field(default_factory=dict)  # key -> unit (the summary's unit column)

    def table(self, name: str) -> list[dict[str, Any]]:
        """Records of a result table (normalised column names); [] when the sheet is absent."""
        sh = self.raw.sheet(name)
        if sh is None:
            return []
        return [rec for _, rec in sh.records()]

    @property
    def has_plan(self) -> bool:
        """False for a run that ended without a plan (infeasible, unbounded, no solution in time)."""
        return str(self.summary.get("status") or "").strip().lower() in PLAN_STATUSES

    def number(self, key: str) -> float | None:
        v = self.summary.get(key)
        return float(v) if _is_number(v) else None


def load_results(path: str | Path) -> ResultsBook:
    """Read a results workbook; InputError (naming the file and the sheet) when it is not one."""
    path = Path(path)
    raw = read_workbook(path)
    sh = raw.sheet(SUMMARY)
    hint = ("compare takes two results workbooks written by 'run' (e.g. outputs/<case>_results.xlsx), "
            "not input workbooks")
    if sh is None:
        raise InputError(Problem(SUMMARY, None, None,
                                 f"{path.name} is not a results workbook: it has no '{SUMMARY}' sheet; {hint}"))
    ki, vi = sh.col_index("key"), sh.col_index("value")
    if ki is None or vi is None:
        raise InputError(Problem(sh.name, sh.header_row, None,
                                 f"{path.name} is not a results workbook: sheet '{sh.name}' needs the columns "
                                 f"'key' and 'value'; {hint}"))
    summary: dict[str, Any] = {}
    units: dict[str, str] = {}
    ui = sh.col_index("unit")
    for row in sh.rows:
        k = row[ki] if ki < len(row) else None
        if k is None or not str(k).strip():
            continue  # section headings of the cover have no key
        summary.setdefault(str(k).strip(), row[vi] if vi < len(row) else None)
        u = row[ui] if ui is not None and ui < len(row) else None
        if u not in (None, ""):
            units.setdefault(str(k).strip(), str(u))
    if COST_KEY not in summary and OLD_COST_KEY in summary:  # a workbook written before version 2
        summary[COST_KEY] = summary.pop(OLD_COST_KEY)
    if "status" not in summary:
        raise InputError(Problem(sh.name, None, "key",
                                 f"{path.name} is not a results workbook: sheet '{sh.name}' has no 'status' line; "
                                 f"{hint}"))
    return ResultsBook(path=path, label=path.name, summary=summary, raw=raw, inputs=_input_sheets(raw), units=units)


def _input_sheets(raw: RawWorkbook) -> RawWorkbook:
    """The echoed input sheets of a report: ``input_<name>`` restored, result tables dropped."""
    raw2 = inputs_from_report(raw)
    sheets: dict[str, RawSheet] = {}
    for name in INPUT_SHEETS:
        alt = raw2.sheet("input_" + name)
        sh = raw2.sheet(name)
        # an input sheet whose name a result table uses is echoed as input_<name>; never read a result table
        if alt is not None and (sh is None or _looks_like_result(sh, name)):
            sh = alt
        if sh is None or _looks_like_result(sh, name):
            continue
        sheets[normalise(name)] = sh
    return RawWorkbook(sheets=sheets, path=raw.path, sha256=raw.sha256)


def _looks_like_result(sh: RawSheet, name: str) -> bool:
    cols = TABLE_COLUMNS.get(name)
    if not cols:
        return False
    head = tuple(normalise(h) for h in sh.header)
    return head[: len(cols)] == cols


# --------------------------------------------------------------------------- small helpers
def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not (isinstance(v, float) and math.isnan(v))


def _num(v: Any) -> float:
    return float(v) if _is_number(v) else 0.0


def _same(a: Any, b: Any) -> bool:
    """Cell equality: blanks equal, numbers within REL_TOL, text exactly, booleans as booleans."""
    if isinstance(a, str) and not a.strip():
        a = None
    if isinstance(b, str) and not b.strip():
        b = None
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return a == b or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0.0)
    return a == b


def _differs(a: float, b: float) -> bool:
    return abs(a - b) > 1e-6 * max(1.0, abs(a), abs(b))


def _diff(a: Any, b: Any) -> tuple[float | None, float | None]:
    """(b - a, (b - a) / |a|) for numbers, (None, None) otherwise."""
    if not (_is_number(a) and _is_number(b)):
        return None, None
    d = float(b) - float(a)
    return d, (d / abs(float(a)) if float(a) != 0 else None)


def _year(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


FMT_BN = '#,##0.00,,," bn"'  # USD shown in billions, two decimals: a 0.5 % change still shows


def _kpi_format(key: str) -> str | None:
    k = key.lower()
    if k == "mip_gap" or k.endswith("_gap"):
        return FMT_GAP
    unit = describe(key)[1]
    if unit == "USD" or k.endswith("_usd"):
        return FMT_BN
    f = format_of_unit(unit) if unit else None
    if f:
        return f
    if k.startswith(("capacity", "unmet", "imports", "exports", "modules")):
        return "#,##0"
    return None


def _fmt(v: Any, key: str = "") -> str:
    """A value for the console."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "true" if v else "false"
    if _is_number(v):
        f = _kpi_format(key)
        if f == "0":  # a year
            return f"{int(round(float(v)))}"
        if f in (FMT_PCT, FMT_GAP):
            return f"{float(v) * 100:.{1 if f == FMT_PCT else 2}f}%"
        if f == FMT_USD or abs(float(v)) >= 1e5:
            return f"{float(v):,.0f}"
        if float(v).is_integer():
            return f"{int(v):,d}"
        return f"{float(v):,.4g}" if abs(float(v)) < 1 else f"{float(v):,.2f}"
    s = str(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _pct_text(p: float | None) -> str:
    return "" if p is None else f"{p * 100:+.2f}%"


# --------------------------------------------------------------------------- KPIs
#: Summary keys never shown as KPIs (solver internals and the alert sentence).
NOT_KPI = ("status", "unmet_demand_alert", "best_bound_usd", "mip_gap", "solve_seconds", "unmet_gwh_worst_year")


def kpi_keys(books: Sequence[ResultsBook]) -> list[str]:
    """The planner's KPIs found in the summaries (:mod:`model.kpis`): cost, demand, plan, local content.

    Solver internals (MIP gap, bound, times) are not KPIs; they are listed with the run provenance.
    """
    head = [COST_KEY, "unmet_gwh_total", "penalty_share_of_cost", "unmet_penalty_usd"]
    seen: list[str] = []
    for b in books:
        for k in b.summary:
            if k in NOT_KPI or k in head or k in seen:
                continue
            if describe(k)[0] in ("plan", "cost", "demand", "local content"):
                seen.append(k)
    present = {k for b in books for k in b.summary}
    return [k for k in head if k in present or k == COST_KEY] + seen


def unit_of_key(books: Sequence[ResultsBook], key: str) -> str | None:
    for b in books:
        if key in b.units:
            return b.units[key]
    return describe(key)[1]


def run_keys(books: Sequence[ResultsBook]) -> list[str]:
    """Summary lines that say how each run was made: input file/hash, scenario, overrides, settings."""
    keys = [k for k in RUN_KEYS if k != "overrides"]
    keys.insert(keys.index("scenario") + 1, "scenarios_applied")
    ov: list[str] = []
    for b in books:
        for k in b.summary:
            if (k.startswith("override_") or k == "overrides") and k not in ov:
                ov.append(k)
    ov.sort(key=lambda k: (k != "overrides", int(k.split("_")[1]) if k.split("_")[-1].isdigit() else 0))
    i = keys.index("scenario") + 1
    return keys[:i] + ov + keys[i:]


# --------------------------------------------------------------------------- builds
@dataclass
class _Builds:
    product: dict[str, str] = field(default_factory=dict)
    built: dict[tuple[str, int], float] = field(default_factory=dict)  # (facility, year) -> modules built
    order: list[str] = field(default_factory=list)

    def first_online(self, f: str) -> int | None:
        ys = [y for (ff, y), n in self.built.items() if ff == f and n > 0]
        return min(ys) if ys else None

    def total(self, f: str) -> float:
        return sum(n for (ff, _), n in self.built.items() if ff == f)


def _builds(book: ResultsBook) -> _Builds:
    out = _Builds()
    for rec in book.table("build_schedule"):
        f, y = rec.get("facility"), _year(rec.get("year"))
        if f is None or y is None:
            continue
        f = str(f)
        if f not in out.product:
            out.order.append(f)
            out.product[f] = "" if rec.get("product") is None else str(rec.get("product"))
        out.built[(f, y)] = out.built.get((f, y), 0.0) + _num(rec.get("modules_built"))
    return out


def _facilities(builds: Sequence[_Builds]) -> list[str]:
    order: list[str] = []
    for b in builds:
        for f in b.order:
            if f not in order:
                order.append(f)
    return order


def _first_text(book: ResultsBook, year: int | None) -> int | str:
    if not book.has_plan:
        return NO_PLAN
    return year if year is not None else "never"


def _as_int(x: float) -> int | float:
    return int(round(x)) if abs(x - round(x)) < 1e-9 else x


def build_rows(a: ResultsBook, b: ResultsBook) -> list[list[Any]]:
    """``facility, product, what, year, A, B, difference``: first-online year and total modules of every
    facility that builds in A or B, then the years whose modules_built differ."""
    ba, bb = _builds(a), _builds(b)
    both = a.has_plan and b.has_plan
    rows: list[list[Any]] = []
    for f in _facilities([ba, bb]):
        prod = ba.product.get(f) or bb.product.get(f, "")
        ta, tb = ba.total(f), bb.total(f)
        if ta <= 0 and tb <= 0:
            continue
        fa, fb = ba.first_online(f), bb.first_online(f)
        rows.append([f, prod, "first online year", None, _first_text(a, fa), _first_text(b, fb),
                     (fb - fa) if both and fa is not None and fb is not None else None])
        rows.append([f, prod, "modules built, total", None, _as_int(ta) if a.has_plan else NO_PLAN,
                     _as_int(tb) if b.has_plan else NO_PLAN, _as_int(tb - ta) if both else None])
        if not both:
            continue
        years = sorted({y for (ff, y) in ba.built if ff == f} | {y for (ff, y) in bb.built if ff == f})
        for y in years:
            na, nb = ba.built.get((f, y), 0.0), bb.built.get((f, y), 0.0)
            if _differs(na, nb):
                rows.append([f, prod, "modules built", y, _as_int(na), _as_int(nb), _as_int(nb - na)])
    return rows


# --------------------------------------------------------------------------- sourcing
def _sourcing(book: ResultsBook) -> dict[tuple[str, int, str], float]:
    out: dict[tuple[str, int, str], float] = {}
    for rec in book.table("sourcing"):
        m, y, k = rec.get("material"), _year(rec.get("year")), rec.get("source_kind")
        if m is None or y is None or k is None:
            continue
        key = (str(m), y, str(k).strip().lower())
        out[key] = out.get(key, 0.0) + _num(rec.get("quantity"))
    return out


def local_shares(src: dict[tuple[str, int, str], float]) -> dict[tuple[str, int], float | None]:
    """(material, year) -> (local - export) / (local + import - export); None without consumption."""
    out: dict[tuple[str, int], float | None] = {}
    for (m, y) in {(m, y) for (m, y, _) in src}:
        loc, imp, exp = (src.get((m, y, k), 0.0) for k in SOURCE_KINDS)
        use = loc + imp - exp
        out[(m, y)] = (loc - exp) / use if use > 1e-9 else None
    return out


def sourcing_rows(a: ResultsBook, b: ResultsBook) -> list[list[Any]]:
    """``material, year, source_kind, A, B, difference``: the quantities that differ, and the local share
    of every material and year (source_kind ``local_share``, a fraction)."""
    if not (a.has_plan and b.has_plan):
        return []
    sa, sb = _sourcing(a), _sourcing(b)
    la, lb = local_shares(sa), local_shares(sb)
    mats: list[str] = []
    for src in (sa, sb):
        for (m, _, _) in src:
            if m not in mats:
                mats.append(m)
    rows: list[list[Any]] = []
    kinds = list(SOURCE_KINDS) + sorted({k for (_, _, k) in (*sa, *sb)} - set(SOURCE_KINDS))
    for m in mats:
        years = sorted({y for (mm, y, _) in (*sa, *sb) if mm == m})
        for y in years:
            for k in kinds:
                qa, qb = sa.get((m, y, k)), sb.get((m, y, k))
                if qa is None and qb is None:
                    continue
                qa, qb = qa or 0.0, qb or 0.0
                if _differs(qa, qb):
                    rows.append([m, y, k, qa, qb, qb - qa])
            sha, shb = la.get((m, y)), lb.get((m, y))
            if sha is not None or shb is not None:
                rows.append([m, y, LOCAL_SHARE, sha, shb, _diff(sha, shb)[0]])
    return rows


# --------------------------------------------------------------------------- costs
def cost_by_category(book: ResultsBook) -> dict[str, float]:
    """Category -> discounted USD summed over the years (the categories sum to the net present cost)."""
    out: dict[str, float] = {}
    for rec in book.table("costs"):
        c = rec.get("category")
        if c is None:
            continue
        out[str(c)] = out.get(str(c), 0.0) + _num(rec.get("discounted_usd"))
    return out


def _categories(costs: Sequence[dict[str, float]]) -> list[str]:
    seen = {c for d in costs for c in d}
    return [c for c in COST_CATEGORIES if c in seen] + sorted(seen - set(COST_CATEGORIES))


def cost_rows(a: ResultsBook, b: ResultsBook) -> list[list[Any]]:
    """``category, cost A, cost B, difference, % difference`` and a ``total`` row last."""
    ca, cb = cost_by_category(a), cost_by_category(b)
    rows = []
    for c in _categories([ca, cb]):
        va = ca.get(c, 0.0) if a.has_plan else None
        vb = cb.get(c, 0.0) if b.has_plan else None
        d, p = _diff(va, vb)
        rows.append([c, va, vb, d, p])
    ta = sum(ca.values()) if a.has_plan else None
    tb = sum(cb.values()) if b.has_plan else None
    d, p = _diff(ta, tb)
    rows.append(["total", ta, tb, d, p])
    return rows


# --------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class InputDiff:
    """One difference between the echoed inputs of A and B."""

    sheet: str
    key: str  # key text, composite keys joined with ","
    column: str  # "" for a whole row or sheet
    a: Any
    b: Any
    change: str  # "changed", "row only in A", "row only in B", "sheet only in A", "sheet only in B"
    address: str = ""  # the --set address of the cell ("" for rows and sheets)


def _sheet_keys(name: str) -> tuple[str, ...]:
    if name == "settings":
        return ("key",)
    if name == "scenarios":
        return SCENARIOS.key

    sh = SHEETS_BY_NAME.get(name)
    return sh.key if sh is not None else ()


def _keyed(sh: RawSheet, keys: tuple[str, ...]) -> tuple[dict[str, tuple[Any, ...]], list[str]]:
    """Rows keyed by their key text (``a,b`` for composite keys; ``#2`` added to repeated keys)."""
    idx = [sh.col_index(k) for k in keys]
    out: dict[str, tuple[Any, ...]] = {}
    order: list[str] = []
    for r, row in zip(sh.excel_rows, sh.rows):
        if keys and all(i is not None for i in idx):
            parts = [cell_text(row[i] if i < len(row) else None) for i in idx]
            if keys == ("key",):
                parts = [normalise(parts[0])]  # setting names are case-insensitive
            k = ",".join(quote_key(p) for p in parts)
        else:
            k = f"row {r}"
        base, n = k, 1
        while k in out:
            n += 1
            k = f"{base} #{n}"
        out[k] = row
        order.append(k)
    return out, order


def _row_text(sh: RawSheet, row: tuple[Any, ...]) -> str:
    parts = []
    for h, v in zip(sh.header, row):
        if h and v is not None:
            parts.append(f"{h}={_fmt(v)}")
    return ", ".join(parts)


def _address(sheet: str, key: str, column: str) -> str:
    if sheet == "settings":
        return f"settings.{key}" if normalise(column) == "value" else f"settings[{key}].{column}"
    return f"{sheet}[{key}].{column}"


def input_diffs(a: RawWorkbook, b: RawWorkbook, sheets: Iterable[str] = INPUT_SHEETS) -> list[InputDiff]:
    """Cell-by-cell differences of the input sheets of two workbooks, keyed by the schema keys.

    Columns are matched like the reader matches them (case-insensitive, spaces ignored); a column
    one workbook lacks counts as blank, so a column added by an override shows only the cells it
    changed. Extra columns (a planner's ``comment``) are compared too.
    """
    out: list[InputDiff] = []
    for name in sheets:
        sa, sb = a.sheet(name), b.sheet(name)
        if sa is None and sb is None:
            continue
        if sa is None or sb is None:
            present = sa or sb
            side = "A" if sb is None else "B"
            text = f"{len(present.rows)} rows"
            out.append(InputDiff(name, "", "", text if side == "A" else None, text if side == "B" else None,
                                 f"sheet only in {side}"))
            continue
        keys = _sheet_keys(name)
        ra, order_a = _keyed(sa, keys)
        rb, order_b = _keyed(sb, keys)
        key_cols = {normalise(k) for k in keys}
        cols: list[tuple[str, str]] = []  # (normalised, display)
        for sh in (sa, sb):
            for h in sh.header:
                n = normalise(h)
                if n and n not in key_cols and n not in {c for c, _ in cols}:
                    cols.append((n, str(h).strip()))
        ia = {n: sa.col_index(n) for n, _ in cols}
        ib = {n: sb.col_index(n) for n, _ in cols}

        def cell(row, i):
            return row[i] if i is not None and i < len(row) else None

        for k in order_a + [k for k in order_b if k not in ra]:
            if k not in rb:
                out.append(InputDiff(name, k, "", _row_text(sa, ra[k]), None, "row only in A"))
                continue
            if k not in ra:
                out.append(InputDiff(name, k, "", None, _row_text(sb, rb[k]), "row only in B"))
                continue
            for n, disp in cols:
                va, vb = cell(ra[k], ia[n]), cell(rb[k], ib[n])
                if not _same(va, vb):
                    out.append(InputDiff(name, k, disp, va, vb, "changed", _address(name, k, disp)))
    return out


def _diff_line(d: InputDiff) -> str:
    if d.change == "changed":
        return f"{d.address}: {_fmt(d.a)} -> {_fmt(d.b)}"
    if d.change.startswith("sheet"):
        return f"sheet '{d.sheet}': {d.change} ({d.a or d.b})"
    return f"{d.sheet}[{d.key}]: {d.change}"


# --------------------------------------------------------------------------- the comparison
def _change_size(d: Any, p: Any) -> tuple[int, float]:
    """Sort key, biggest change first: relative change, then changes from zero, then unchanged rows."""
    if d is None or not _is_number(d):
        return (3, 0.0)
    if abs(d) <= 1e-9 * max(1.0, abs(d)):
        return (2, 0.0)
    if p is None:
        return (0, -abs(d))  # from zero: an infinite relative change
    return (1, -abs(p))


#: KPIs that lead every comparison, before the rest sorted by size of change.
HEADLINE = (COST_KEY, "unmet_gwh_total", "penalty_share_of_cost")


def kpi_diff(key: str, a: Any, b: Any) -> tuple[float | None, float | None]:
    """(b - a, relative change) of a KPI; years change by years, never by a percentage."""
    d, p = _diff(a, b)
    if describe(key)[1] == "year":
        p = None
    return d, p


def headline_first(rows: list[list[Any]], d_col: int = 4, p_col: int = 5, key_col: int = 0) -> list[list[Any]]:
    """The headline KPIs (net present cost, unmet demand, penalty share) first, then the biggest change first."""
    head = [r for k in HEADLINE for r in rows if r[key_col] == k]
    rest = [r for r in rows if r[key_col] not in HEADLINE]
    return head + sort_by_change(rest, d_col, p_col)


def sort_by_change(rows: list[list[Any]], d_col: int = 4, p_col: int = 5) -> list[list[Any]]:
    """Rows sorted so that the biggest change reads first (``d_col`` difference, ``p_col`` relative)."""
    return sorted(rows, key=lambda r: _change_size(r[d_col], r[p_col]))


@dataclass
class Comparison:
    """Everything :func:`compare_workbooks` shows, as rows (also handy for tests)."""

    a: ResultsBook
    b: ResultsBook
    kpis: list[list[Any]]  # item, unit, A, B, difference, % difference, reading (biggest change first)
    builds: list[list[Any]]
    sourcing: list[list[Any]]
    costs: list[list[Any]]
    inputs: list[InputDiff]


def compare(a: str | Path, b: str | Path) -> Comparison:
    """Read and compare two results workbooks (InputError when either is not one)."""
    problems: list[Problem] = []
    books: list[ResultsBook] = []
    for p in (a, b):
        try:
            books.append(load_results(p))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    ra, rb = books
    kpis: list[list[Any]] = [["results workbook", None, ra.label, rb.label, None, None, None],
                             ["status", None, ra.summary.get("status"), rb.summary.get("status"), None, None, None]]
    moved: list[list[Any]] = []
    for k in kpi_keys(books):
        va, vb = ra.summary.get(k), rb.summary.get(k)
        d, p = kpi_diff(k, va, vb)
        moved.append([k, unit_of_key(books, k), va, vb, d, p, reading(k, d)])
    kpis += headline_first(moved)
    for k in run_keys(books):
        va, vb = ra.summary.get(k), rb.summary.get(k)
        if va is None and vb is None:
            continue
        kpis.append([k, unit_of_key(books, k), va, vb, None, None, None])
    return Comparison(ra, rb, kpis, build_rows(ra, rb), sourcing_rows(ra, rb), cost_rows(ra, rb),
                      input_diffs(ra.inputs, rb.inputs))


def compare_workbooks(a: str | Path, b: str | Path, out: str | Path | None = None) -> str:
    """Compare two results workbooks; write the comparison workbook to ``out`` (atomically) when given.

    Returns the console text: KPIs side by side, the main build and cost differences, and the
    input cells that differ. InputError when a file is not a results workbook.
    """
    c = compare(a, b)
    text = comparison_text(c)
    if out is not None:
        path = write_comparison(c, out)
        text += f"\ncomparison workbook: {path}"
    return text


def comparison_text(c: Comparison, top: int = 10) -> str:
    lines = [f"A: {c.a.path}", f"B: {c.b.path}", ""]
    rows = [r for r in c.kpis if r[0] not in ("results workbook",)]
    w = max(len(str(r[0])) for r in rows) if rows else 10
    lines.append(f"{'':<{w}}  {'A':>18}  {'B':>18}  {'B - A':>16}  {'%':>9}  reading")
    for k, unit, va, vb, d, p, why in rows:
        if k in RUN_KEYS or k.startswith("override_") or k in ("overrides", "scenarios_applied"):
            continue
        if d is not None and not _differs(_num(va), _num(vb)) and k != COST_KEY:
            continue  # unchanged KPIs: on the workbook's kpis sheet
        lines.append(f"{k:<{w}}  {_fmt(va, k):>18}  {_fmt(vb, k):>18}  "
                     f"{'' if d is None else _fmt(d, k):>16}  {_pct_text(p):>9}  {why or ''}")
    for side, book in (("A", c.a), ("B", c.b)):
        alert = unmet_alert(book.number("unmet_gwh_total"), book.number("penalty_share_of_cost"),
                            book.number("unmet_penalty_usd"))
        if alert:
            lines.append(f"!! {side}: {alert}")
    for k in ("scenario", "input_sha256"):
        va, vb = c.a.summary.get(k), c.b.summary.get(k)
        if not _same(va, vb):
            short = (lambda v: str(v)[:12]) if k == "input_sha256" else _fmt
            lines.append(f"{k}: A {short(va) if va is not None else '-'} | B {short(vb) if vb is not None else '-'}")
    for side, book in (("A", c.a), ("B", c.b)):
        ov = [str(v) for k, v in book.summary.items() if k.startswith("override_") and v is not None]
        if ov:
            lines.append(f"overrides of {side}: " + "; ".join(ov[:5]) + (f" (+{len(ov) - 5} more)" if len(ov) > 5 else ""))

    lines.append("")
    for side, book in (("A", c.a), ("B", c.b)):
        if not book.has_plan:
            lines.append(f"{side} has no plan (status {book.summary.get('status')}): builds, sourcing and costs "
                         "are not compared")
    first = [r for r in c.builds if r[2] == "first online year" and r[4] != r[5]]
    years = [r for r in c.builds if r[2] == "modules built"]
    if not (c.a.has_plan and c.b.has_plan):
        pass
    elif not first and not years:
        lines.append("builds: the same in A and B")
    else:
        lines.append(f"builds that differ ({len(years)} facility-years):")
        for f, prod, _, _, fa, fb, _ in first:
            lines.append(f"  {f} ({prod}) first online: A {fa}, B {fb}")
        for f, prod, _, y, na, nb, d in sorted(years, key=lambda r: -abs(_num(r[6])))[:top]:
            lines.append(f"  {f} {y}: A {_fmt(na)}, B {_fmt(nb)} modules")
        if len(years) > top:
            lines.append(f"  ... {len(years) - top} more on sheet 'builds'")

    moved = [r for r in c.costs if r[0] != "total" and r[3] is not None and _differs(r[1], r[2])]
    if moved:
        lines.append("net present cost by category, B - A (largest first; positive = dearer):")
        for cat, va, vb, d, p in sorted(moved, key=lambda r: -abs(r[3]))[:5]:
            lines.append(f"  {cat:<22} {d:>+18,.0f} USD  (A {va:,.0f}, B {vb:,.0f})")

    lines.append("")
    n = len(c.inputs)
    if n == 0:
        lines.append("inputs: the echoed input sheets are identical")
    else:
        kinds: dict[str, int] = {}
        for d in c.inputs:
            kinds[d.change] = kinds.get(d.change, 0) + 1
        detail = ", ".join(f"{v} {k}" for k, v in kinds.items())
        lines.append(f"inputs: {n} difference{'s' if n != 1 else ''} ({detail}):")
        for d in c.inputs[:top]:
            lines.append("  " + _diff_line(d))
        if n > top:
            lines.append(f"  ... {n - top} more on sheet 'inputs_diff'")
    return "\n".join(lines)


# --------------------------------------------------------------------------- writing workbooks
def _write_table(ws, header: Sequence[str], rows: Sequence[Sequence[Any]], st: _Styles,
                 formats: Sequence[Any] = (), notes: dict[str, str] | None = None) -> int:
    """The report's table writer; ``formats[i]`` is a number format or a callable ``row -> format``."""
    return write_table(ws, header, rows, st, formats=list(formats) or None, notes=notes)


def _kpi_fmt(row) -> str | None:
    return _kpi_format(str(row[0]))


def _bar_chart(ws, title: str, data_cols: Sequence[int], names: Sequence[str], first_row: int, last_row: int,
               anchor: str):
    """A clustered column chart of columns ``data_cols`` (rows first_row..last_row), categories in column A."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.chart.data_source import AxDataSource, StrRef
    from openpyxl.chart.series import SeriesLabel

    ch = BarChart()
    ch.type = "col"
    ch.grouping = "clustered"
    ch.title = title
    ch.y_axis.title = "bn USD (discounted)"
    ch.x_axis.title = "cost category"
    ch.y_axis.number_format = '#,##0.0,,,'
    ch.x_axis.delete = False  # openpyxl 3.1 hides axes unless told otherwise
    ch.y_axis.delete = False
    ch.width, ch.height = 24.0, 10.0
    ch.legend.position = "b"
    for col, name in zip(data_cols, names):
        ch.add_data(Reference(ws, min_col=col, max_col=col, min_row=first_row, max_row=last_row),
                    titles_from_data=False)
        ch.series[-1].tx = SeriesLabel(v=xlsx_util.safe_text(str(name))[:255])
    # text categories: a string reference (set_categories would make a numeric one)
    cats = Reference(ws, min_col=1, max_col=1, min_row=first_row, max_row=last_row)
    for s in ch.series:
        s.cat = AxDataSource(strRef=StrRef(f=str(cats)))
    ws.add_chart(ch, anchor)
    return ch


_DIFF_NOTES = {
    "difference": "B - A",
    "pct_difference": "(B - A) / |A|",
    "address": "the cell as --set names it, e.g. --set \"imports[cathode,China].tariff_rate=0.4\"",
    "change": "changed, row only in A / B, sheet only in A / B",
    "key": "the row's key (schema key columns; composite keys joined with a comma)",
}


FMT_BN_SIGNED = '+#,##0.00,,," bn";-#,##0.00,,," bn";0.00'
def _last_share_key(books: Sequence[ResultsBook]) -> str | None:
    keys = sorted({k for b in books for k in b.summary if k.startswith("local_value_share_") and k[-4:].isdigit()})
    return keys[-1] if keys else None


def comparison_cover(books: Sequence[ResultsBook], labels: Sequence[str], base: int = 0):
    """Sections and alerts of a comparison's cover sheet: each run's headline figures and its change from the base."""
    ref = labels[base]
    plan, cost, demand, local, prov = [], [], [], [], []
    alerts = []
    share_key = _last_share_key(books)
    ref_cost = books[base].number(COST_KEY)
    for i, (b, lab) in enumerate(zip(books, labels)):
        tag = " (the reference)" if i == base else ""
        plan.append((f"status.{lab}", b.summary.get("status"), None, f"how the run of {lab} ended{tag}"))
        n_mod = b.number("modules_built_total")
        if n_mod is not None:
            plan.append((f"modules_built_total.{lab}", n_mod, "modules", f"modules built over the horizon, {lab}"))
        v = b.number(COST_KEY)
        cost.append((f"{COST_KEY}.{lab}", v, "USD", f"net present cost of {lab}{tag}; lower is better", FMT_BN1))
        if i != base:
            d, p = _diff(ref_cost, v)
            cost.append((f"cost_change_vs_base_usd.{lab}", d, "USD",
                         f"{lab} minus {ref}: {reading(COST_KEY, d) or 'n/a'} (positive = dearer)", FMT_BN_SIGNED))
            cost.append((f"cost_change_vs_base_pct.{lab}", p, "change", f"the same, relative to {ref}", FMT_CHANGE))
        ps = b.number("penalty_share_of_cost")
        if ps is not None:
            cost.append((f"penalty_share_of_cost.{lab}", ps, "share",
                         "unmet-demand penalty / net present cost (should be 0)"))
        u = b.number("unmet_gwh_total")
        demand.append((f"unmet_gwh_total.{lab}", u, "GWh", f"cell demand not met over the horizon, {lab}"))
        text = unmet_alert(u, ps, b.number("unmet_penalty_usd"))
        if text:
            alerts.append((f"unmet_demand_alert.{lab}", f"{lab}: {text}"))
        if share_key:
            local.append((f"{share_key}.{lab}", b.number(share_key), "share",
                          f"local value share in {share_key[-4:]}, {lab}"))
        prov.append((f"results_workbook.{lab}", str(b.path), None, f"results workbook of {lab}"))
        if b.summary.get("scenario") not in (None, ""):
            prov.append((f"scenario.{lab}", b.summary.get("scenario"), None, describe("scenario")[2]))
        applied = b.summary.get("scenarios_applied")
        if applied not in (None, "", "none", b.summary.get("scenario")):
            prov.append((f"scenarios_applied.{lab}", applied, None, describe("scenarios_applied")[2]))
    for k in ("input_file", "input_sha256"):  # once when every run read the same input
        vals = [b.summary.get(k) for b in books]
        if all(_same(v, vals[0]) for v in vals):
            if vals[0] not in (None, ""):
                prov.append((k, vals[0], None, describe(k)[2] + " (the same for every run)"))
        else:
            prov += [(f"{k}.{lab}", v, None, describe(k)[2]) for v, lab in zip(vals, labels) if v not in (None, "")]
    sections = [("Plan", plan), ("Cost", cost), ("Demand", demand), ("Local content", local),
                ("Run provenance", prov)]
    return sections, alerts


def _unit_of_build_row(row) -> str:
    return "year" if row[2] == "first online year" else "modules"


def build_comparison_workbook(c: Comparison):
    """The comparison workbook in memory (openpyxl): a cover, then KPIs, builds, sourcing, costs, inputs."""
    from openpyxl import Workbook

    st = _Styles()
    wb = Workbook()
    la, lb = f"A: {c.a.label}", f"B: {c.b.label}"

    ws = wb.active
    ws.title = "summary"
    sections, alerts = comparison_cover([c.a, c.b], ["A", "B"], 0)
    sections[-1][1][0:0] = [("A", str(c.a.path), None, "the reference run"), ("B", str(c.b.path), None,
                                                                                "the run compared with A"),
                            ("input_differences", len(c.inputs), "count",
                             "input cells that differ (sheet inputs_diff)")]
    write_cover(ws, sections, st, alerts=alerts)

    ws = wb.create_sheet("kpis")
    _write_table(ws, ["item", "unit", "A", "B", "difference", "pct_difference", "reading"], c.kpis, st,
                 [None, None, _kpi_fmt, _kpi_fmt, _kpi_fmt, FMT_CHANGE, None],
                 {**_DIFF_NOTES, "reading": "better / worse for the planner: lower cost and unmet demand, higher "
                                            "local share are better",
                  "unit": "unit of the row (USD values are shown in billions)"})

    ws = wb.create_sheet("builds")
    rows = [[*r[:4], _unit_of_build_row(r), *r[4:]] for r in c.builds]
    _write_table(ws, ["facility", "product", "what", "year", "unit", "A", "B", "difference"], rows, st,
                 [None, None, None, FMT_INT, None, FMT_INT, FMT_INT, FMT_INT],
                 {**_DIFF_NOTES, "what": "first online year, modules built over the horizon, or modules built in a "
                                         "year (only years that differ)"})

    ws = wb.create_sheet("sourcing")
    units = {**_material_units(c.a), **_material_units(c.b)}
    rows = [[m, y, k, "share" if k == LOCAL_SHARE else units.get(m, ""), va, vb, d]
            for m, y, k, va, vb, d in c.sourcing]
    share_or_qty = lambda row: FMT_PCT if row[2] == LOCAL_SHARE else FMT_QTY_FINE  # noqa: E731
    _write_table(ws, ["material", "year", "source_kind", "unit", "A", "B", "difference"], rows, st,
                 [None, FMT_INT, None, None, share_or_qty, share_or_qty, share_or_qty],
                 {**_DIFF_NOTES, "source_kind": "local / import / export quantities that differ (the material's "
                                                "unit); local_share = (local - export) / consumption, every year"})

    ws = wb.create_sheet("costs")
    last = _write_table(ws, ["category", "A_discounted_usd", "B_discounted_usd", "difference_usd", "pct_difference"],
                        c.costs, st, [None, FMT_USD, FMT_USD, FMT_USD, FMT_CHANGE],
                        {**_DIFF_NOTES, "A_discounted_usd": f"{c.a.label}: discounted USD summed over the years",
                         "B_discounted_usd": f"{c.b.label}: discounted USD summed over the years",
                         "difference_usd": "B - A: positive = B is dearer"})
    ws.cell(row=last, column=1).font = st.bold  # the total row
    if last > 2:
        _bar_chart(ws, "Net present cost by category, bn USD: A vs B", [2, 3], [la, lb], 2, last - 1,
                   f"A{last + 3}")

    ws = wb.create_sheet("inputs_diff")
    rows = [[d.sheet, d.key, d.column or None, d.a, d.b, d.change, d.address or None] for d in c.inputs]
    _write_table(ws, ["sheet", "key", "column", "A", "B", "change", "address"], rows, st, [], _DIFF_NOTES)
    return wb




def _material_units(book: ResultsBook) -> dict[str, str]:
    """material -> unit, from the results' sourcing sheet (unit column) or the echoed materials sheet."""
    out: dict[str, str] = {}
    mats = book.inputs.sheet("materials")
    if mats is not None:
        for _, rec in mats.records():
            if rec.get("material") is not None and rec.get("unit") not in (None, ""):
                out[str(rec["material"])] = str(rec["unit"])
    for rec in book.table("sourcing"):
        m, u = rec.get("material"), rec.get("unit")
        if m is not None and u not in (None, ""):
            out[str(m)] = str(u)
        elif m is not None and str(m).startswith("cells"):
            out[str(m)] = "GWh"
    return out


def write_comparison(c: Comparison, out: str | Path) -> Path:
    return xlsx_util.atomic_save(build_comparison_workbook(c), Path(out))


# --------------------------------------------------------------------------- N scenarios
#: Name of the base case among the items of :func:`compare_scenarios` (the CLI runs it first).
BASE_CASE = "base case"


def compare_scenarios(items: list[tuple[str, Path]], out: Path, *, shown_paths: list[Path] | None = None) -> Path:
    """One workbook comparing N runs of one case with its base case, written atomically.

    ``shown_paths`` (one per item) are the paths the comparison names for each results workbook when
    ``items`` are read from elsewhere (files staged to be published together with the comparison).

    The reference is the item named :data:`BASE_CASE` (else the first). Sheets: ``summary`` (a
    cover: each scenario's net present cost and its change from the base, unmet demand, local
    share, provenance), ``kpis`` (every KPI, one column per run), ``vs_base`` (each scenario's
    change from the base, absolute and %, scenarios with the biggest cost change first and, within
    each, the biggest change first), ``builds`` and ``costs`` (net present cost by category, with
    each scenario's difference from the base, and a native chart).
    """
    from openpyxl import Workbook

    books = [load_results(p) for _, p in items]
    if shown_paths is not None:
        books = [dataclasses.replace(b, path=Path(sp), label=Path(sp).name) for b, sp in zip(books, shown_paths)]
    names = [str(n) for n, _ in items]
    base = names.index(BASE_CASE) if BASE_CASE in names else 0
    ref = names[base]
    st = _Styles()
    wb = Workbook()

    ws = wb.active
    ws.title = "summary"
    sections, alerts = comparison_cover(books, names, base)
    write_cover(ws, sections, st, alerts=alerts)

    ws = wb.create_sheet("kpis")
    keys = kpi_keys(books)
    rows = [["results workbook", None, *[b.label for b in books]],
            ["status", None, *[b.summary.get("status") for b in books]]]
    for k in keys:
        rows.append([k, unit_of_key(books, k), *[b.summary.get(k) for b in books]])
    for k in run_keys(books):
        if k.startswith("override_"):
            continue  # long lines: counted below, listed in each results workbook
        vals = [b.summary.get(k) for b in books]
        if any(v is not None for v in vals):
            rows.append([k, unit_of_key(books, k), *vals])
    rows.append(["overrides_count", "count", *[sum(1 for k in b.summary if k.startswith("override_"))
                                               for b in books]])
    _write_table(ws, ["item", "unit", *names], rows, st, [None, None, *[_kpi_fmt] * len(books)],
                 {ref: "the reference: every scenario is compared with it on sheet vs_base"})
    for r in range(1, len(rows) + 2):
        ws.cell(row=r, column=3 + base).fill = st.base_fill

    ws = wb.create_sheet("vs_base")
    order = []
    for i, b in enumerate(books):
        if i == base:
            continue
        d, p = _diff(books[base].number(COST_KEY), b.number(COST_KEY))
        order.append((_change_size(d, p), i))
    rows = []
    for _, i in sorted(order):
        part = []
        for k in keys:
            va, vb = books[base].summary.get(k), books[i].summary.get(k)
            d, p = kpi_diff(k, va, vb)
            part.append([names[i], k, unit_of_key(books, k), va, vb, d, p, reading(k, d)])
        rows += headline_first(part, d_col=5, p_col=6, key_col=1)
    _write_table(ws, ["scenario", "item", "unit", ref, "value", "difference", "pct_difference", "reading"], rows, st,
                 [None, None, None, _kpi_fmt2, _kpi_fmt2, _kpi_fmt2, FMT_CHANGE, None],
                 {"difference": f"scenario - {ref}", "pct_difference": f"(scenario - {ref}) / |{ref}|",
                  "reading": "better / worse for the planner: lower cost and unmet demand, higher local share "
                             "are better", ref: "the base case's value"})

    ws = wb.create_sheet("builds")
    bs = [_builds(b) for b in books]
    rows = []
    for f in _facilities(bs):
        if all(b.total(f) <= 0 for b in bs):
            continue
        prod = next((b.product[f] for b in bs if f in b.product), "")
        rows.append([f, prod, "first online year", None, "year", *[_first_text(bk, b.first_online(f))
                                                                    for bk, b in zip(books, bs)]])
        rows.append([f, prod, "modules built, total", None, "modules",
                     *[_as_int(b.total(f)) if bk.has_plan else NO_PLAN for bk, b in zip(books, bs)]])
        years = sorted({y for b in bs for (ff, y), n in b.built.items() if ff == f and n > 0})
        for y in years:
            rows.append([f, prod, "modules built", y, "modules",
                         *[_as_int(b.built.get((f, y), 0.0)) if bk.has_plan else None for bk, b in zip(books, bs)]])
    _write_table(ws, ["facility", "product", "what", "year", "unit", *names], rows, st,
                 [None, None, None, FMT_INT, None, *[FMT_INT] * len(books)],
                 {"what": "first online year, modules built over the horizon, or modules built in a year"})

    ws = wb.create_sheet("costs")
    costs = [cost_by_category(b) for b in books]
    others = [i for i in range(len(books)) if i != base]
    rows = []
    for cat in [*_categories(costs), "total"]:
        vals = [(sum(c.values()) if cat == "total" else c.get(cat, 0.0)) if bk.has_plan else None
                for bk, c in zip(books, costs)]
        rows.append([cat, *vals, *[_diff(vals[base], vals[i])[0] for i in others]])
    diff_names = [f"{names[i]} - {ref}" for i in others]
    last = _write_table(ws, ["category", *names, *diff_names], rows, st,
                        [None, *[FMT_USD] * len(books), *[FMT_SIGNED_USD] * len(others)],
                        {**{n: f"{b.label}: discounted USD summed over the years" for n, b in zip(names, books)},
                         **{n: "difference from the base case, USD (positive = dearer)" for n in diff_names}})
    ws.cell(row=last, column=1).font = st.bold
    if last > 2 and books:
        _bar_chart(ws, "Net present cost by category per scenario, bn USD", list(range(2, 2 + len(books))), names,
                   2, last - 1, f"A{last + 3}")
    return xlsx_util.atomic_save(wb, Path(out))


def _kpi_fmt2(row) -> str | None:
    return _kpi_format(str(row[1]))
