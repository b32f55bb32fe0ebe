"""What-if overrides: ``--set ADDR=VALUE`` and the rows of the optional ``scenarios`` sheet.

Overrides act on the *raw* workbook (:class:`model.workbook.RawWorkbook`), before validation, so
that :func:`model.data.build_case` then checks the types and ranges of the result exactly as if the
planner had typed the values into Excel, and the output workbook can echo the sheets as solved.

Address forms (``interface.md``, "Overrides")::

    sheet[key].column              one row of a table sheet
    sheet[key1,key2].column        composite key, parts in the order of the sheet's key columns
    sheet[*].column                every row
    imports[*,China].tariff_rate   ``*`` may stand for one part of a composite key
    settings.discount_rate         settings short form (also ``settings[discount_rate].value``)

Operators: ``=`` sets, ``*=`` scales, ``+=`` adds. Values read like a typed cell: ``0.25``,
``2030``, ``5%`` (= 0.05), ``true``/``false``, text, or quoted text (``"LFP"``); ``""`` blanks a
cell (``=`` only).

Matching rules
--------------
* Sheet and column names are matched like the workbook reader does: case-insensitively, with
  surrounding spaces ignored (:func:`model.workbook.normalise`).
* Key cells are compared as text, numbers numerically: ``demand[2030]`` matches a cell holding
  ``2030``, ``2030.0`` or the text ``"2030"``.
* Exact spelling is preferred: only when no row matches exactly are rows matched ignoring case,
  and then all such rows must share one spelling (``PlantA`` and ``planta`` are two different
  keys to the validator, so ``[PLANTA]`` would be ambiguous and is refused). Setting names
  (``settings.X``) are always case-insensitive, as the validator reads them.
* A key that matches no row is an error: an override never adds rows to a table sheet. The one
  exception is a setting of the schema that is absent from the settings sheet: ``=`` adds it.
* For a core sheet the column must be a column of the schema; if the workbook lacks it, the
  column is added to the header. For any other sheet the column must already be in the header
  and the key is the leading column(s).
* ``*=`` and ``+=`` need a numeric operand and a numeric current value. A blank cell counts as
  its documented schema default when that default is a number (blank ``capex_usd_per_module`` is
  0, blank ``lifetime_years`` is 25), exactly as the validator would read it. A blank without a
  numeric default (``max_per_year`` = no limit, year columns defaulting to ``start_year``, extra
  sheets) is an error when the row is named explicitly ("cell is blank; use = to set it"); a
  ``*`` wildcard leaves such a cell blank, since no limit scaled or shifted is still no limit.

Every bad override is reported (sheet, Excel row where there is one, column, and the override
text with where it came from), all at once, in one :class:`~model.errors.InputError`. Overrides
apply in order, each to the result of the previous ones: scenario rows first, then ``--set``
(the command line wins).
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, replace
from typing import Any, Iterable, Sequence

from . import schema as S
from .errors import InputError, Problem
from .workbook import RawSheet, RawWorkbook, is_date, normalise

OPS = ("=", "*=", "+=")
WILDCARD = "*"
_OP_WORDS = {"=": "=", "set": "=", "*=": "*=", "scale": "*=", "+=": "+=", "add": "+="}

#: The optional ``scenarios`` input sheet (defined with the rest of the schema).
SCENARIOS = S.SCENARIOS

_NUM = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d+")


# --------------------------------------------------------------------------- the override
@dataclass(frozen=True)
class Override:
    """One parsed override. Build it with :func:`parse_override` (or from a scenarios row)."""

    address: str
    op: str  # '=', '*=', '+='
    value: Any  # as a typed cell would hold it: int, float, bool, str or None (blank)
    origin: str = "--set"  # e.g. "--set" or "sheet 'scenarios', row 5"
    sheet: str = ""  # normalised sheet name
    keys: tuple[str, ...] = ()  # key parts; "*" is a wildcard; ("*",) = every row
    column: str = ""  # normalised column name ("value" for settings)
    text: str = ""  # the override as written, for messages

    def __post_init__(self):
        if self.op not in OPS:
            raise ValueError(f"op must be one of {OPS}, not {self.op!r}")
        if not self.sheet:
            try:
                sheet, keys, column = _parse_address(self.address)
            except _Bad as exc:
                raise ValueError(str(exc)) from None
            object.__setattr__(self, "sheet", sheet)
            object.__setattr__(self, "keys", keys)
            object.__setattr__(self, "column", column)
        if not self.text:
            object.__setattr__(self, "text", f"{self.address}{self.op}{_value_text(self.value)}")

    @property
    def wildcard(self) -> bool:
        return WILDCARD in self.keys

    @property
    def label(self) -> str:
        """How messages name the override: ``--set 'facilities[*].capex_usd_per_module*=1.2'``."""
        return f"{self.origin} '{self.text}'"


class _Bad(Exception):
    """A problem with one override; ``row``/``column`` locate it when known."""

    def __init__(self, message: str, row: int | None = None, column: str | None = None):
        super().__init__(message)
        self.row = row
        self.column = column


# --------------------------------------------------------------------------- parsing
def parse_override(text: str, origin: str = "--set") -> Override:
    """Parse ``ADDR=VALUE``, ``ADDR*=VALUE`` or ``ADDR+=VALUE``; raise InputError if malformed."""
    try:
        return _parse_text(text, origin)
    except _Bad as exc:
        raise InputError(Problem("-", None, None, f"{origin} {str(text)!r}: {exc}")) from None


def parse_overrides(texts: Iterable[str], origin: str = "--set") -> list[Override]:
    """Parse several overrides, reporting every malformed one together."""
    out, problems = [], []
    for t in texts:
        try:
            out.append(parse_override(t, origin))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return out


def _parse_text(text: str, origin: str) -> Override:
    if not isinstance(text, str):
        raise _Bad("an override must be text like sheet[key].column=value")
    text = text.strip()
    pos = _find_op(text)
    if pos is None and text.count("[") > text.count("]"):
        raise _Bad(f"unclosed '[' in {text!r}")
    if pos is None:
        raise _Bad("no '=', '*=' or '+=' found; write sheet[key].column=value, e.g. settings.discount_rate=0.05")
    i, op = pos
    address = text[:i].strip()
    vtext = text[i + len(op):]
    if address.endswith(("-", "/")):
        raise _Bad(f"unknown operator '{address[-1]}='; use *= to scale (e.g. *=0.5) or += to add (e.g. +=-1)")
    if not address:
        raise _Bad(f"no address before '{op}'")
    errors = []
    try:
        sheet, keys, column = _parse_address(address)
    except _Bad as exc:
        errors.append(str(exc))
    try:
        value = _parse_value(vtext, op)
    except _Bad as exc:
        errors.append(str(exc))
    if errors:
        raise _Bad("; ".join(errors))
    return Override(address=address, op=op, value=value, origin=origin, sheet=sheet, keys=keys,
                    column=column, text=text)


def _find_op(text: str) -> tuple[int, str] | None:
    """Position and spelling of the first operator outside brackets and quotes."""
    depth, quote = 0, None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "=" and depth == 0:
            if i > 0 and text[i - 1] in "*+":
                return i - 1, text[i - 1] + "="
            return i, "="
    return None


def _parse_address(address: str) -> tuple[str, tuple[str, ...], str]:
    """``(normalised sheet, key parts, normalised column)``; raises _Bad with a usage hint."""
    address = address.strip()
    if not address:
        raise _Bad("empty address")
    if "[" in address:
        b = address.index("[")
        sheet = normalise(address[:b])
        inner, rest = _bracket(address, b)
        keys = _split_keys(inner)
        rest = rest.strip()
        if not rest.startswith("."):
            raise _Bad(f"expected '.column' after ']' in {address!r}, e.g. {address[:b].strip() or 'sheet'}[key].column")
        column = normalise(rest[1:])
        if not column:
            raise _Bad(f"no column after ']' in {address!r}")
        if not sheet:
            raise _Bad(f"no sheet name before '[' in {address!r}")
        if any(c in column for c in "[]."):
            raise _Bad(f"cannot read the column name {rest[1:].strip()!r} in {address!r}")
        if sheet == "settings" and keys == (WILDCARD,):
            raise _Bad("settings[*] is not allowed; name one setting, e.g. settings.discount_rate")
        return sheet, keys, column
    if "." not in address:
        raise _Bad(f"{address!r} is not an address; write sheet[key].column, or settings.name for a setting")
    sheet, _, name = address.partition(".")
    sheet, name = normalise(sheet), name.strip()
    if not sheet or not name:
        raise _Bad(f"{address!r} is not an address; write sheet[key].column, or settings.name for a setting")
    if sheet == "settings":
        if any(c in name for c in "[]."):
            raise _Bad(f"cannot read the setting name {name!r}")
        return sheet, (normalise(name),), "value"
    raise _Bad(f"{address!r} names no row; write {sheet}[KEY].{name} for one row or {sheet}[*].{name} for every row")


def _bracket(address: str, start: int) -> tuple[str, str]:
    """Text inside the brackets opened at ``start`` and the text after them."""
    quote = None
    for i in range(start + 1, len(address)):
        ch = address[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            raise _Bad(f"'[' inside a key in {address!r}; put such a key in quotes")
        elif ch == "]":
            return address[start + 1:i], address[i + 1:]
    raise _Bad(f"unclosed '[' in {address!r}")


def _split_keys(inner: str) -> tuple[str, ...]:
    parts: list[str] = []
    cur, quote, quoted = "", None, False
    for ch in inner + ",":
        if quote:
            if ch == quote:
                quote = None
            else:
                cur += ch
        elif ch in "\"'" and not cur.strip():
            quote, quoted, cur = ch, True, ""
        elif ch == ",":
            part = cur if quoted else cur.strip()
            if not part and not quoted:
                raise _Bad(f"empty key in [{inner}]; write [key] or [key1,key2], or [*] for every row")
            parts.append(part)
            cur, quoted = "", False
        elif quoted:
            if not ch.isspace():
                raise _Bad(f"text after a quoted key in [{inner}]")
        else:
            cur += ch
    if quote:
        raise _Bad(f"unclosed quote in [{inner}]")
    if len(parts) > 1 and all(p == WILDCARD for p in parts):
        parts = [WILDCARD]
    return tuple(parts)


def _parse_value(vtext: str, op: str) -> Any:
    """A value as a typed cell would hold it; ``*=``/``+=`` need a finite number."""
    t = vtext.strip()
    if not t:
        raise _Bad(f"no value after '{op}'" + ('; to blank a cell write ""' if op == "=" else ""))
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'":
        value: Any = t[1:-1].strip() or None  # the reader strips text and reads "" as blank
    else:
        if t.startswith("="):
            raise _Bad(f"value {t!r} starts with '='; formulas are not values")
        value = _typed(t)
    if op != "=":
        if not _is_number(value):
            raise _Bad(f"'{op}' needs a number, not {_value_text(value)}")
        value = _number(value)
    return value


def _typed(t: str) -> Any:
    t = t.replace("\u2212", "-")
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if _INT.fullmatch(t):
        return int(t)
    if _NUM.fullmatch(t):
        v = float(t)
        return v if math.isfinite(v) else t
    if t.endswith("%") and _NUM.fullmatch(t[:-1].strip()):
        return float(t[:-1].strip()) / 100.0
    return t


def _is_number(v: Any) -> bool:
    if isinstance(v, bool) or v is None:
        return False
    if isinstance(v, (int, float)):
        return math.isfinite(v)
    if isinstance(v, str):
        return isinstance(_typed(v.strip()), (int, float)) and not isinstance(_typed(v.strip()), bool)
    return False


def _number(v: Any) -> int | float:
    return _typed(v.strip()) if isinstance(v, str) else v


def _value_text(v: Any) -> str:
    if v is None:
        return '""'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return format(v, ".12g")
    return str(v)


# --------------------------------------------------------------------------- applying
def apply_overrides(raw: RawWorkbook, overrides: Sequence[Override]) -> RawWorkbook:
    """A new workbook with the overrides applied in order; ``raw`` is never changed."""
    return apply_overrides_logged(raw, overrides)[0]


def apply_overrides_logged(raw: RawWorkbook, overrides: Sequence[Override]) -> tuple[RawWorkbook, list[dict]]:
    """Apply overrides in order and log every cell written.

    Returns the new workbook and one record per cell: ``address`` (the cell, keys spelled as in
    the workbook), ``sheet``, ``excel_row``, ``column``, ``old``, ``new``, ``origin`` and
    ``override`` (the text). A cell set to the value it had is logged too. Raises InputError with
    one or more problems per bad override, all overrides checked; nothing is applied then.
    """
    wb = raw
    log: list[dict] = []
    problems: list[Problem] = []
    for ov in overrides:
        try:
            wb, records = _apply_one(wb, ov)
        except _Many as many:
            for bad in many.bad:
                problems.append(Problem(many.sheet, bad.row, bad.column or many.column, f"{ov.label}: {bad}"))
            continue
        log.extend(records)
    if problems:
        raise InputError(problems)
    return wb, log


class _Many(Exception):
    def __init__(self, sheet: str, column: str | None, bad: list[_Bad]):
        self.sheet, self.column, self.bad = sheet, column, bad


def _apply_one(wb: RawWorkbook, ov: Override) -> tuple[RawWorkbook, list[dict]]:
    sheet_name = ov.sheet
    try:
        if ov.sheet == SCENARIOS.name:
            raise _Bad("the scenarios sheet cannot be overridden; choose a scenario with --scenario")
        raw = wb.sheet(ov.sheet)
        if raw is None:
            names = [s.name for s in wb.sheets.values()]
            hint = _close(ov.sheet, [normalise(n) for n in names])
            core = S.SHEETS_BY_NAME.get(ov.sheet)
            raise _Bad((f"sheet '{ov.sheet}' is not in the workbook" if core else f"unknown sheet '{ov.sheet}'")
                       + (f" (did you mean '{hint}'?)" if hint else "")
                       + (f"; sheets: {', '.join(names)}" if names else ""))
        sheet_name = raw.name
        if ov.sheet == "settings":
            return _apply_setting(wb, raw, ov)
        return _apply_table(wb, raw, ov)
    except _Bad as bad:
        raise _Many(sheet_name, ov.column, [bad])


def _apply_table(wb: RawWorkbook, raw: RawSheet, ov: Override) -> tuple[RawWorkbook, list[dict]]:
    core = S.SHEETS_BY_NAME.get(ov.sheet)
    header = list(raw.header)
    rows = [list(r) for r in raw.rows]
    idx = _unique_col(raw, ov.column)
    if core is not None:
        if ov.column not in core.column_names:
            hint = _close(ov.column, list(core.column_names))
            raise _Bad(f"unknown column '{ov.column}' of sheet '{core.name}'" + (f" (did you mean '{hint}'?)" if hint else "")
                       + f"; columns: {', '.join(core.column_names)}")
        key_cols = list(core.key)
    else:
        if idx is None:
            present = [h for h in raw.header if h]
            hint = _close(ov.column, [normalise(h) for h in present])
            raise _Bad(f"unknown column '{ov.column}'" + (f" (did you mean '{hint}'?)" if hint else "")
                       + f"; the sheet's columns: {', '.join(present)}")
        key_cols = [normalise(h) for h in raw.header[: max(1, len(ov.keys))]]
    key_idx = []
    for k in key_cols:
        i = _unique_col(raw, k)
        if i is None:
            raise _Bad(f"key column '{k}' is missing from the header row")
        key_idx.append(i)
    keys = ov.keys
    if keys == (WILDCARD,):
        keys = (WILDCARD,) * len(key_idx)
    elif len(keys) != len(key_idx):
        raise _Bad(f"sheet '{raw.name}' is keyed by {', '.join(key_cols)}: give {len(key_idx)} key part"
                   f"{'s' if len(key_idx) != 1 else ''} like [{','.join(key_cols)}], not {len(keys)}")
    if not rows:
        raise _Bad(f"sheet '{raw.name}' has no rows to change")
    matched = _match_rows(raw, rows, key_idx, keys, ov)
    if idx is None:  # a schema column the workbook lacks: add it to the header
        header.append(ov.column)
        rows = [r + [None] * (len(header) - len(r)) for r in rows]
        idx = len(header) - 1
    col = core.column(ov.column) if core is not None else None
    records, bad = [], []
    for i in matched:
        r = raw.excel_rows[i]
        while len(rows[i]) <= idx:
            rows[i].append(None)
        old = rows[i][idx]
        try:
            new = _new_value(old, ov, col)
        except _Bad as exc:
            exc.row = r
            bad.append(exc)
            continue
        if new is _SKIP:
            continue
        rows[i][idx] = new
        cell_keys = [cell_text(rows[i][j]) for j in key_idx]
        records.append(dict(address=f"{raw.name}[{','.join(quote_key(k) for k in cell_keys)}].{ov.column}",
                            sheet=raw.name, excel_row=r, column=ov.column, old=old, new=new,
                            origin=ov.origin, override=ov.text))
    if bad:
        raise _Many(raw.name, ov.column, bad)
    return wb.with_sheet(raw.with_rows(rows, header=header)), records


def _apply_setting(wb: RawWorkbook, raw: RawSheet, ov: Override) -> tuple[RawWorkbook, list[dict]]:
    (name,) = (normalise(ov.keys[0]),) if len(ov.keys) == 1 else (None,)
    if name is None:
        raise _Bad(f"settings are keyed by one name, e.g. settings.discount_rate, not [{','.join(ov.keys)}]")
    if name == WILDCARD:
        raise _Bad("settings[*] is not allowed; name one setting, e.g. settings.discount_rate")
    ki = _unique_col(raw, "key")
    if ki is None:
        raise _Bad("the settings sheet has no 'key' column in its header row")
    if ov.column == "key":
        raise _Bad("a setting's name cannot be overridden; set its value, e.g. settings.discount_rate=0.05")
    vi = _unique_col(raw, ov.column)
    if vi is None:
        if ov.column != "value":
            raise _Bad(f"unknown column '{ov.column}' of sheet 'settings'; settings have columns key and value")
        raise _Bad("the settings sheet has no 'value' column in its header row")
    known = {c.name: c for c in S.SETTINGS.columns}
    rows = [list(r) for r in raw.rows]
    excel_rows = list(raw.excel_rows)
    matched = [i for i, row in enumerate(rows) if row[ki] is not None and normalise(cell_text(row[ki])) == name]
    col = known.get(name) if ov.column == "value" else None
    if not matched:
        if name not in known:
            hint = _close(name, list(known))
            raise _Bad(f"unknown setting '{name}'" + (f" (did you mean '{hint}'?)" if hint else "")
                       + f"; settings: {', '.join(known)}")
        new = _new_value(None, ov, col)  # raises for *=/+= without a numeric default
        row = [None] * len(raw.header)
        row[ki], row[vi] = name, new
        rows.append(row)
        r = max([raw.header_row, *excel_rows]) + 1
        excel_rows.append(r)
        rec = dict(address=f"settings.{name}", sheet=raw.name, excel_row=r, column=ov.column, old=None, new=new,
                   origin=ov.origin, override=ov.text, added=True)
        return wb.with_sheet(raw.with_rows(rows, excel_rows=excel_rows)), [rec]
    records, bad = [], []
    for i in matched:
        old = rows[i][vi]
        try:
            new = _new_value(old, ov, col)
        except _Bad as exc:
            exc.row = excel_rows[i]
            bad.append(exc)
            continue
        rows[i][vi] = new
        records.append(dict(address=f"settings.{name}" if ov.column == "value" else f"settings[{name}].{ov.column}",
                            sheet=raw.name, excel_row=excel_rows[i], column=ov.column, old=old, new=new,
                            origin=ov.origin, override=ov.text))
    if bad:
        raise _Many(raw.name, ov.column, bad)
    return wb.with_sheet(raw.with_rows(rows)), records


_SKIP = object()


def _new_value(old: Any, ov: Override, col: S.Column | None) -> Any:
    if ov.op == "=":
        return ov.value
    if old is None:
        default = col.default if col is not None and not col.default_from else None
        if _is_number(default):
            old = default
        elif ov.wildcard and col is not None and col.default is None and not col.default_from and not col.required:
            return _SKIP  # blank = no limit: scaled or shifted, still no limit
        else:
            raise _Bad("cell is blank; use = to set it")
    if not _is_number(old):
        raise _Bad(f"current value {_value_text(old)!r} is not a number, so '{ov.op}' cannot apply; use = to set it")
    a, b = _number(old), _number(ov.value)
    new = a * b if ov.op == "*=" else a + b
    if isinstance(new, float) and not math.isfinite(new):
        raise _Bad(f"{_value_text(a)} {ov.op[0]} {_value_text(b)} is not a finite number")
    return new


def _match_rows(raw: RawSheet, rows: list[list], key_idx: list[int], keys: tuple[str, ...], ov: Override) -> list[int]:
    exact, loose = [], []
    for i, row in enumerate(rows):
        kinds = []
        for j, part in zip(key_idx, keys):
            if part == WILDCARD:
                continue
            kinds.append(_key_match(part, row[j] if j < len(row) else None))
        if None in kinds:
            continue
        (exact if all(k == "exact" for k in kinds) else loose).append(i)
    if exact:
        return exact
    if loose:
        spellings = {}
        for i in loose:
            sp = tuple(cell_text(rows[i][j]) for j, p in zip(key_idx, keys) if p != WILDCARD)
            spellings.setdefault(sp, raw.excel_rows[i])
        if len(spellings) > 1:
            raise _Bad("key is ambiguous ignoring case: it matches "
                       + " and ".join(f"'{','.join(sp)}' (row {r})" for sp, r in spellings.items())
                       + "; spell it exactly")
        return loose
    key_cols = ", ".join(normalise(raw.header[j]) for j in key_idx)
    wanted = ",".join(keys)
    sample = _close(wanted, [",".join(cell_text(r[j]) if j < len(r) else "" for j in key_idx) for r in rows])
    raise _Bad(f"no row has {key_cols} = {wanted}" + (f" (did you mean '{sample}'?)" if sample else "")
               + "; an override changes existing rows only, it cannot add one")


def _key_match(part: str, cell: Any) -> str | None:
    if cell is None:
        return None
    p = _typed(part.strip())
    if isinstance(p, (int, float)) and not isinstance(p, bool) and _is_number(cell):
        return "exact" if float(_number(cell)) == float(p) else None
    text = cell_text(cell)
    if text == part:
        return "exact"
    if text.casefold() == part.casefold():
        return "nocase"
    return None


def cell_text(v: Any) -> str:
    """A key cell as text; numbers numerically (2030 == 2030.0 == "2030")."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v).strip()


def quote_key(k: str) -> str:
    """A key part as written in an override address (quoted when it holds , [ ] or quotes)."""
    return f'"{k}"' if (any(c in k for c in ",[]\"'") or k == WILDCARD) and '"' not in k else k


def _unique_col(raw: RawSheet, column: str) -> int | None:
    found = [i for i, h in enumerate(raw.header) if normalise(h) == normalise(column)]
    if len(found) > 1:
        raise _Bad(f"column '{column}' appears twice in the header row of sheet '{raw.name}'")
    return found[0] if found else None


def _close(word: str, choices: list[str]) -> str | None:
    m = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return m[0] if m else None


# --------------------------------------------------------------------------- provenance
def describe(items: Sequence[dict | Override]) -> list[str]:
    """One line per log record (``address = new (was old)  [origin]``) or per override (its text)."""
    out = []
    for it in items:
        if isinstance(it, Override):
            out.append(f"{it.text}  [{it.origin}]")
            continue
        was = "added" if it.get("added") else f"was {_value_text(it['old']) if it['old'] is not None else 'blank'}"
        new = _value_text(it["new"]) if it["new"] is not None else "blank"
        out.append(f"{it['address']} = {new} ({was})  [{it['origin']}]")
    return out


def explain(error: InputError, log: Sequence[dict]) -> InputError:
    """Point validation problems at the override that wrote the cell, e.g. a text where a number belongs."""
    by_cell = {(normalise(r["sheet"]), r["excel_row"], normalise(r["column"])): r for r in log}
    problems = []
    for p in error.problems:
        rec = by_cell.get((normalise(p.sheet), p.row, normalise(p.column or "")))
        if rec is not None:
            p = replace(p, message=f"{p.message} (value set by {rec['origin']} '{rec['override']}')")
        problems.append(p)
    return InputError(problems)


# --------------------------------------------------------------------------- scenarios sheet
def scenario_names(raw: RawWorkbook) -> list[str]:
    """Scenario names in order of first appearance (empty without a scenarios sheet)."""
    sh = raw.sheet(SCENARIOS.name)
    if sh is None or sh.col_index("scenario") is None:
        return []
    names: list[str] = []
    for _, rec in sh.records():
        n = _name(rec.get("scenario"))
        if n and n not in names:
            names.append(n)
    return names


def scenario_overrides(raw: RawWorkbook, name: str) -> list[Override]:
    """The overrides of scenario ``name``, in row order; InputError for an unknown name or bad rows.

    The name matches exactly, or ignoring case when that is unambiguous. Only the rows of the
    chosen scenario (and rows that belong to no scenario) are checked here; :func:`check_scenarios`
    checks them all.
    """
    sh = raw.sheet(SCENARIOS.name)
    names = scenario_names(raw)
    if sh is None:
        raise InputError(Problem(SCENARIOS.name, None, None,
                                 f"scenario '{name}' requested but the workbook has no 'scenarios' sheet"))
    problems = _structure_problems(sh)
    if problems:
        raise InputError(problems)
    chosen = name.strip()
    if chosen not in names:
        folded = [n for n in names if n.casefold() == chosen.casefold()]
        if len(folded) == 1:
            chosen = folded[0]
        else:
            hint = _close(chosen, names)
            raise InputError(Problem(sh.name, None, "scenario", f"unknown scenario '{name}'"
                                     + (f" (did you mean '{hint}'?)" if hint else "")
                                     + (f"; scenarios: {', '.join(names)}" if names else "; the sheet lists none")))
    out, problems = _scenario_rows(sh, only=chosen)
    if problems:
        raise InputError(problems)
    return out


def check_scenarios(raw: RawWorkbook) -> list[Problem]:
    """Every problem of the scenarios sheet's rows (syntax only; addresses are resolved when applied)."""
    sh = raw.sheet(SCENARIOS.name)
    if sh is None:
        return []
    problems = _structure_problems(sh)
    if problems:
        return problems
    return _scenario_rows(sh, only=None)[1]


def _structure_problems(sh: RawSheet) -> list[Problem]:
    problems = []
    for c in SCENARIOS.columns:
        try:
            idx = _unique_col(sh, c.name)
        except _Bad as exc:
            problems.append(Problem(sh.name, sh.header_row, c.name, str(exc)))
            continue
        if idx is None:
            problems.append(Problem(sh.name, sh.header_row, c.name, "required column is missing from the header row"))
    return problems


def _scenario_rows(sh: RawSheet, only: str | None) -> tuple[list[Override], list[Problem]]:
    out: list[Override] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, tuple], int] = {}
    for r, rec in sh.records():
        scen = _name(rec.get("scenario"))
        if not scen:
            problems.append(Problem(sh.name, r, "scenario", "row has no scenario name"))
            continue
        if only is not None and scen != only:
            continue
        origin = f"sheet '{sh.name}', row {r}"
        address = _name(rec.get("address"))
        op_cell = rec.get("operation")
        value = rec.get("value")
        bad = False
        if not address:
            problems.append(Problem(sh.name, r, "address", "address is blank"))
            bad = True
        elif _find_op(address) is not None:
            problems.append(Problem(sh.name, r, "address", f"address {address!r} contains an operator; put it in "
                                                           "column 'operation' and the value in column 'value'"))
            bad = True
        op = _OP_WORDS.get(normalise(op_cell)) if op_cell is not None else None
        if op is None:
            problems.append(Problem(sh.name, r, "operation",
                                    "operation is blank" if op_cell is None else
                                    f"unknown operation {str(op_cell)!r}; use = (set), *= (scale) or += (add)"))
            bad = True
        if value is None:
            problems.append(Problem(sh.name, r, "value", 'value is blank; to blank a cell write "" (two quote marks)'))
            bad = True
        if bad:
            continue
        try:
            sheet, keys, column = _parse_address(address)
        except _Bad as exc:
            problems.append(Problem(sh.name, r, "address", str(exc)))
            continue
        try:
            if is_date(value):
                raise _Bad(f"a date ({value}) is not a value; format the cell as a number")
            if isinstance(value, str):
                value = _parse_value(value, op)
            elif op != "=":
                if not _is_number(value):
                    raise _Bad(f"'{op}' needs a number, not {_value_text(value)}")
            if isinstance(value, float) and not math.isfinite(value):
                raise _Bad(f"{value} is not a finite number")
        except _Bad as exc:
            problems.append(Problem(sh.name, r, "value", str(exc)))
            continue
        ident = (scen, (sheet, keys, column))
        if ident in seen:
            problems.append(Problem(sh.name, r, "address",
                                    f"scenario '{scen}' already changes {address} on row {seen[ident]}"))
            continue
        seen[ident] = r
        out.append(Override(address=address, op=op, value=value, origin=origin, sheet=sheet, keys=keys,
                            column=column, text=f"{address}{op}{_value_text(value)}"))
    return out, problems


def _name(v: Any) -> str:
    if v is None or isinstance(v, bool) or is_date(v):
        return "" if v is None else str(v)
    return cell_text(v)


# --------------------------------------------------------------------------- one run
def run_overrides(raw: RawWorkbook, scenario: str | None = None, sets: Sequence[str] = ()) -> list[Override]:
    """The overrides of one run, in the order they apply: scenario rows, then ``--set`` (which wins).

    Problems of the scenario and of every ``--set`` are reported together.
    """
    out, problems = _run_overrides(raw, scenario, sets)
    if problems:
        raise InputError(problems)
    return out


def apply_run(raw: RawWorkbook, scenario: str | None = None, sets: Sequence[str] = ()) -> tuple[RawWorkbook, list[dict]]:
    """Parse and apply a run's scenario and ``--set`` overrides: ``(new workbook, change log)``.

    Every problem is reported at once: malformed ``--set`` texts and bad scenario rows, and also
    what goes wrong applying the overrides that did parse.
    """
    ovs, problems = _run_overrides(raw, scenario, sets)
    try:
        result = apply_overrides_logged(raw, ovs)
    except InputError as exc:
        problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return result


def _run_overrides(raw: RawWorkbook, scenario: str | None, sets: Sequence[str]) -> tuple[list[Override], list[Problem]]:
    problems: list[Problem] = []
    out: list[Override] = []
    if scenario is not None:
        try:
            out.extend(scenario_overrides(raw, scenario))
        except InputError as exc:
            problems.extend(exc.problems)
    for text in sets:
        try:
            out.append(parse_override(text))
        except InputError as exc:
            problems.extend(exc.problems)
    return out, problems
