"""Reading a results workbook back: a results workbook is a valid case.

A run's output echoes its input sheets (those whose names a result table takes as ``input_<name>``,
listed in the summary row ``input_sheets_renamed``), so :func:`inputs_from_report` turns it back into
the input workbook it solved; :func:`run_history` reads the provenance its summary records, so a
re-run carries it on. This sits in the workbook layer: it knows the output schema's sheet names,
never the code that writes reports.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from .output_schema import CHARTS_SHEET, EXTRA_RESULT_SHEETS, RENAMED_KEY, SUMMARY_SHEET, TABLE_COLUMNS
from .workbook import RawSheet, RawWorkbook, normalise


def summary_values(raw: RawWorkbook) -> dict[str, Any]:
    """``{key: value}`` of a results workbook's summary sheet (the first value of each key; rows without a
    key, such as the cover's section headings, skipped); empty without a summary sheet."""
    s = raw.sheet(SUMMARY_SHEET)
    out: dict[str, Any] = {}
    if s is None:
        return out
    for _, rec in s.records():
        k = rec.get("key")
        if k is not None and str(k).strip():
            out.setdefault(str(k).strip(), rec.get("value"))
    return out


def _summary_value(raw: RawWorkbook, key: str) -> Any:
    return next((v for k, v in summary_values(raw).items() if normalise(k) == key), None)


@dataclasses.dataclass
class RunHistory:
    """What produced a results workbook: the scenarios its inputs carry and the runs before it."""

    scenarios: list[str]  # every scenario applied to these inputs, oldest first
    runs: list[str]  # one line per earlier run (oldest first), the workbook's own run last


def run_history(raw: RawWorkbook) -> RunHistory:
    """The provenance recorded in a results workbook's summary (empty for an input workbook).

    Reads ``scenarios_applied`` (or, for workbooks written before it existed, ``scenario``),
    ``history_<i>`` and the run's own ``input_file``, ``input_sha256``, ``scenario`` and
    ``override_<i>`` lines, so that a re-run can carry them on.
    """
    if not is_report(raw):
        return RunHistory([], [])
    kv = summary_values(raw)
    applied_text = kv.get("scenarios_applied")
    if isinstance(applied_text, str):
        scenarios = [x.strip() for x in applied_text.split(";") if x.strip() and x.strip() != "none"]
    else:
        scenarios = [str(kv["scenario"]).strip()] if kv.get("scenario") not in (None, "") else []
    hist = [(int(k.split("_")[1]), str(v)) for k, v in kv.items()
            if k.startswith("history_") and k.split("_")[1].isdigit() and v is not None]
    runs = [v for _, v in sorted(hist)]
    ovs = [(int(k.split("_")[1]), str(v)) for k, v in kv.items()
           if k.startswith("override_") and k.split("_")[1].isdigit() and v is not None]
    sha = str(kv.get("input_sha256") or "")[:12]
    scen = kv.get("scenario") or "none"
    line = (f"{kv.get('run_at_utc') or 'earlier run'}: {Path(str(kv.get('input_file') or '?')).name}"
            f"{' (sha256 ' + sha + '...)' if sha else ''}, scenario {scen}, overrides: "
            + ("; ".join(v for _, v in sorted(ovs)) if ovs else "none"))
    runs.append(line)
    return RunHistory(scenarios, runs)


def is_report(raw: RawWorkbook) -> bool:
    """True when ``raw`` looks written by :func:`model.report.write_report` (a key/value summary and a core result sheet)."""
    s = raw.sheet(SUMMARY_SHEET)
    if s is None or tuple(normalise(h) for h in s.header[:2]) != ("key", "value"):
        return False
    return any(_is_result_sheet(raw.sheet(name), name) for name in TABLE_COLUMNS)


def _is_result_sheet(sh: RawSheet | None, name: str) -> bool:
    """A result table starts with its interface.md columns (extension columns may follow)."""
    cols = TABLE_COLUMNS[name]
    return sh is not None and tuple(normalise(h) for h in sh.header)[: len(cols)] == cols


def inputs_from_report(raw: RawWorkbook) -> RawWorkbook:
    """The input workbook inside a report: result sheets dropped, renamed input sheets given their names back.

    The renamed sheets are listed in the summary row ``input_sheets_renamed``. A workbook that is
    not a report is returned unchanged, so ``build_case(inputs_from_report(read_workbook(path)))``
    reads a case and the output of a run alike.
    """
    if not is_report(raw):
        return raw
    pairs: dict[str, str] = {}  # normalised sheet title -> input name
    text = _summary_value(raw, RENAMED_KEY)
    if isinstance(text, str):
        for part in text.split(";"):
            if "->" in part:
                name, title = (x.strip() for x in part.split("->", 1))
                if name and title:
                    pairs[normalise(title)] = name
    drop = {normalise(SUMMARY_SHEET), normalise(CHARTS_SHEET)} | {normalise(n) for n in EXTRA_RESULT_SHEETS}
    drop |= {normalise(name) for name in pairs.values()}  # the sheets that took the inputs' names
    drop |= {k for k in TABLE_COLUMNS if _is_result_sheet(raw.sheets.get(k), k)}
    out: dict[str, RawSheet] = {}
    for k, sh in raw.sheets.items():
        if k in pairs:
            name = pairs[k]
            out[normalise(name)] = dataclasses.replace(sh, name=name)
        elif k not in drop:
            out[k] = sh
    return dataclasses.replace(raw, sheets=out)
