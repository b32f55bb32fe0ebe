"""What to vary and the cases: the definition (the ``sensitivity`` sheet or a file), parsed and
checked against :data:`SENSITIVITY`, and the designs (oat, grid, lhs, sobol, morris) as lists of overrides.
"""
from __future__ import annotations

import itertools
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import schema as S
from ..errors import InputError, Problem
from ..workbook import RawSheet, RawWorkbook, normalise


# --------------------------------------------------------------------------- definition schema
DESIGNS = ("oat", "grid", "lhs", "sobol", "morris")
SAMPLED = ("lhs", "sobol", "morris")
DEFAULT_SAMPLES = {"lhs": 64, "sobol": 32, "morris": 10}
MORRIS_LEVELS = 4
DEFAULT_STEPS = S.SENSITIVITY.column("steps").default
DEFAULT_SEED = 20260
MAX_CASES = 100_000
RECORD_VERSION = 1

SENSITIVITY = S.SENSITIVITY

_OPS = {"=": "=", "set": "=", "*=": "*=", "scale": "*=", "+=": "+=", "add": "+="}
MAX_DEFINITION_BYTES = 2 * 2**20
MAX_DEFINITION_ROWS = 1000


@dataclass(frozen=True)
class Factor:
    """One varied input."""

    address: str
    op: str
    low: float
    high: float
    steps: int
    integer: bool  # values are rounded to whole numbers (whole-number column with = or +=)
    row: int  # where it was defined (Excel/CSV row)

    @property
    def label(self) -> str:
        """Column name of the varied value in the results (``address op``)."""
        return f"{self.address} {self.op}"

    def value(self, x: float) -> float | int:
        if self.integer:
            return int(round(x))
        return float(format(float(x), ".10g"))  # stable text, hence stable hashes

    def override(self, v: float | int) -> str:
        return f"{self.address}{self.op}{_num_text(v)}"

    def grid_values(self) -> list:
        n = self.steps
        vals = [self.value(self.low + (self.high - self.low) * i / (n - 1)) for i in range(n)]
        return list(dict.fromkeys(vals))  # whole-number factors may collapse to fewer values (linear, not quadratic)


@dataclass(frozen=True)
class Design:
    kind: str
    factors: tuple[Factor, ...]
    source: str  # sheet or file the definition came from
    samples: int | None = None  # base samples of a sampled design
    seed: int = DEFAULT_SEED

    def problem(self) -> dict:
        """The SALib problem dictionary."""
        return {"num_vars": len(self.factors), "names": [f.label for f in self.factors],
                "bounds": [[f.low, f.high] for f in self.factors]}


@dataclass(frozen=True)
class Case:
    index: int
    overrides: tuple[str, ...]
    values: tuple[tuple[str, float], ...] = ()  # (factor label, value)


def _num_text(v) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return format(float(v), ".10g")


# --------------------------------------------------------------------------- reading the definition
def definition_sheet(raw: RawWorkbook) -> RawSheet | None:
    return raw.sheet(SENSITIVITY.name)


def read_definition_file(path: str | os.PathLike) -> RawSheet:
    """The definition rows of a CSV file (header row first) or of an xlsx file's ``sensitivity``
    sheet (its first sheet when there is none)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(Problem(path.name, None, None, f"definition file not found: {path}"))
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from ..workbook import read_workbook

        wb = read_workbook(path)
        sh = wb.sheet(SENSITIVITY.name) or next(iter(wb.sheets.values()), None)
        if sh is None:
            raise InputError(Problem(path.name, None, None, "the workbook has no sheet"))
        if wb.problems:
            raise InputError(list(wb.problems))
        return sh
    if suffix not in (".csv", ".txt"):
        raise InputError(Problem(path.name, None, None, "a sweep definition must be a .csv or .xlsx file"))
    import csv

    size = path.stat().st_size
    if size > MAX_DEFINITION_BYTES:
        raise InputError(Problem(path.name, None, None, f"file is {size} bytes; the limit is {MAX_DEFINITION_BYTES}"))
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(Problem(path.name, None, None, "the file is not UTF-8 text; save it as 'CSV UTF-8'"))
    if "\x00" in text:
        raise InputError(Problem(path.name, None, None, "the file is not a text (CSV) file"))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    header: tuple[str, ...] | None = None
    rows, excel_rows = [], []
    for r, values in enumerate(csv.reader(text.splitlines(), dialect), start=1):
        values = [v.strip() if v.strip() else None for v in values]
        if all(v is None for v in values):
            continue
        if header is None:
            header = tuple("" if v is None else v for v in values)
            header_row = r
            continue
        if len(rows) >= MAX_DEFINITION_ROWS:
            raise InputError(Problem(path.name, r, None, f"more than {MAX_DEFINITION_ROWS} rows"))
        values = (values + [None] * len(header))[: len(header)]
        rows.append(tuple(values))
        excel_rows.append(r)
    if header is None:
        raise InputError(Problem(path.name, None, None, "the file is empty"))
    return RawSheet(path.name, header, tuple(rows), tuple(excel_rows), header_row)


def _target_column(ov) -> S.Column | None:
    """The schema column an override writes (None for sheets outside the core schema)."""
    if ov.sheet == "settings":
        try:
            return S.SETTINGS.column(normalise(ov.keys[0]))
        except (KeyError, IndexError):
            return None
    sheet = S.SHEETS_BY_NAME.get(ov.sheet)
    if sheet is None:
        return None
    try:
        return sheet.column(ov.column)
    except KeyError:
        return None


def parse_definition(sheet: RawSheet, raw: RawWorkbook, *, samples: int | None = None,
                     seed: int = DEFAULT_SEED) -> Design:
    """Validate the definition rows against :data:`SENSITIVITY` and against the workbook (every
    address must apply); all problems at once, each naming sheet, row and column."""
    from ..data import check_bounds, coerce
    from ..overrides import Override, apply_overrides_logged

    name = sheet.name
    problems: list[Problem] = []
    present = [normalise(h) for h in sheet.header]
    for c in SENSITIVITY.columns:
        if present.count(c.name) > 1:
            problems.append(Problem(name, sheet.header_row, c.name, "column appears twice in the header row"))
        elif c.required and c.name not in present:
            problems.append(Problem(name, sheet.header_row, c.name, "required column is missing from the header row"))
    if problems:
        raise InputError(problems)
    recs = list(sheet.records())
    if not recs:
        raise InputError(Problem(name, None, None, "no rows: list at least one input to vary"))

    design: str | None = None
    design_row = None
    factors: list[Factor] = []
    seen: dict[str, int] = {}
    for r, rec in recs:
        typed: dict[str, Any] = {}
        ok = True
        for col in SENSITIVITY.columns:
            v = rec.get(col.name)
            try:
                v = coerce(v, col.kind)
            except Exception as exc:  # model.data._Bad: a planner-readable reason
                problems.append(Problem(name, r, col.name, str(exc)))
                ok = False
                continue
            if v is None:
                if col.required:
                    problems.append(Problem(name, r, col.name, "required value is blank"))
                    ok = False
                continue
            msg = check_bounds(col, v)
            if msg:
                problems.append(Problem(name, r, col.name, msg))
                ok = False
                continue
            typed[col.name] = v
        d = typed.get("design")
        if d is not None:
            d = normalise(d)
            if d not in DESIGNS:
                problems.append(Problem(name, r, "design", f"unknown design '{typed['design']}'; use one of "
                                                           + ", ".join(DESIGNS)))
                ok = False
            elif design is None:
                design, design_row = d, r
            elif d != design:
                problems.append(Problem(name, r, "design", f"design '{d}' differs from '{design}' on row {design_row}; "
                                                           "all rows must use one design (blank = the first row's)"))
                ok = False
        elif design is None and ok:
            design, design_row = "oat", r
        op = None
        if "operation" in typed:
            op = _OPS.get(normalise(typed["operation"]))
            if op is None:
                problems.append(Problem(name, r, "operation", f"unknown operation '{typed['operation']}'; "
                                                              "use = (set), *= (scale) or += (add)"))
                ok = False
        if not ok or op is None:
            continue
        address = typed["address"]
        low, high = typed["low"], typed["high"]
        if not high > low:
            problems.append(Problem(name, r, "high", f"high ({high:g}) must be greater than low ({low:g})"))
            continue
        try:
            ov = Override(address=address, op=op, value=low, origin=f"sheet '{name}', row {r}")
        except ValueError as exc:
            problems.append(Problem(name, r, "address", str(exc)))
            continue
        ident = f"{ov.sheet}|{','.join(ov.keys)}|{ov.column}"
        if ident in seen:
            problems.append(Problem(name, r, "address", f"{address} is already varied on row {seen[ident]}"))
            continue
        seen[ident] = r
        col = _target_column(ov)
        integer = False
        if col is not None:
            if col.kind in ("bool", "text"):
                problems.append(Problem(name, r, "address", f"{address} is a {'true/false' if col.kind == 'bool' else 'text'} "
                                                            "column; only numbers can be swept"))
                continue
            if col.kind == "int":
                if op == "*=":
                    problems.append(Problem(name, r, "operation", f"{address} takes whole numbers; use = or += "
                                                                  "(values are rounded), not *="))
                    continue
                integer = True
        # every address must resolve on the workbook (at both ends): problems point at this row
        bad = None
        for v in (low, high):
            try:
                apply_overrides_logged(raw, [Override(address=address, op=op, value=int(round(v)) if integer else v,
                                                      origin=f"sheet '{name}', row {r}")])
            except InputError as exc:
                bad = "; ".join(p.message for p in exc.problems)
                break
        if bad:
            problems.append(Problem(name, r, "address", bad))
            continue
        if integer and int(round(low)) == int(round(high)):
            problems.append(Problem(name, r, "high", f"{address} takes whole numbers and low/high round to the same "
                                                     f"value ({int(round(low))})"))
            continue
        factors.append(Factor(address=address, op=op, low=float(low), high=float(high),
                              steps=int(typed.get("steps", DEFAULT_STEPS)), integer=integer, row=r))
    design = design or "oat"
    if samples is not None:
        if design not in SAMPLED:
            problems.append(Problem(name, design_row, "design", f"--samples applies to the {', '.join(SAMPLED)} designs, "
                                                                f"not to '{design}'"))
        elif samples < 2:
            problems.append(Problem(name, design_row, "design", f"--samples must be at least 2, not {samples}"))
        elif design == "sobol" and samples & (samples - 1):
            p = 1 << max(1, samples.bit_length() - 1)
            problems.append(Problem(name, design_row, "design", f"sobol sampling needs --samples to be a power of 2 "
                                                                f"(e.g. {p} or {2 * p}), not {samples}"))
    if problems:
        raise InputError(problems)
    d = Design(kind=design, factors=tuple(factors), source=name,
               samples=(samples or DEFAULT_SAMPLES[design]) if design in SAMPLED else None, seed=seed)
    n = n_design_cases(d)
    if n > MAX_CASES:
        raise InputError(Problem(name, design_row, "steps" if design == "grid" else "design",
                                 f"the {design} design makes {n:,} cases; the limit is {MAX_CASES:,}"))
    return d


def n_design_cases(d: Design) -> int:
    k = len(d.factors)
    if d.kind == "oat":
        return sum(len(f.grid_values()) for f in d.factors)
    if d.kind == "grid":
        return math.prod(len(f.grid_values()) for f in d.factors)
    if d.kind == "lhs":
        return d.samples
    if d.kind == "sobol":
        return d.samples * (k + 2)
    return d.samples * (k + 1)  # morris


# --------------------------------------------------------------------------- cases
def design_matrix(d: Design):
    """The raw sample matrix (rows = cases 1..N, unrounded) of a sampled design; None otherwise."""
    import numpy as np

    if d.kind not in SAMPLED:
        return None
    problem = d.problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if d.kind == "lhs":
            from SALib.sample import latin

            return np.asarray(latin.sample(problem, d.samples, seed=d.seed))
        if d.kind == "sobol":
            from SALib.sample import sobol

            return np.asarray(sobol.sample(problem, d.samples, calc_second_order=False, seed=d.seed))
        from SALib.sample import morris

        return np.asarray(morris.sample(problem, d.samples, num_levels=MORRIS_LEVELS, seed=d.seed))


def make_cases(d: Design) -> list[Case]:
    """Case 0 is the base case (no override); then the design's cases in a fixed order."""
    cases = [Case(0, ())]

    def add(pairs):
        cases.append(Case(len(cases), tuple(f.override(v) for f, v in pairs),
                          tuple((f.label, v) for f, v in pairs)))

    if d.kind == "oat":
        for f in d.factors:
            for v in f.grid_values():
                add([(f, v)])
    elif d.kind == "grid":
        for combo in itertools.product(*(f.grid_values() for f in d.factors)):
            add(list(zip(d.factors, combo)))
    else:
        for row in design_matrix(d):
            add([(f, f.value(x)) for f, x in zip(d.factors, row)])
    return cases
