"""Output planning: every file a command will write is decided and checked before any work.

:func:`plan_outputs` refuses (InputError, exit status 2, nothing created) outputs that are an input
of the command, two outputs that are one file, unwritable places, workbooks not ending in .xlsx, and
a default output that holds the results of another input. Used by the CLI and the sweep.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import InputError


FIGURE_NAMES = ("capacity", "sourcing", "costs")  # model.figures writes <stem>_<name>.png
MODEL_SUFFIXES = (".mps", ".lp")


def _same_file_key(p: Path) -> str:
    """One key per file: absolute, symlinks resolved, case folded (two names differing only in case
    are one file on Windows and macOS)."""
    return os.path.normcase(os.path.realpath(os.path.abspath(p))).casefold()


def plan_outputs(outputs: list[Path], inputs: list[Path], *, workbooks: list[Path] | None = None,
                 default_outputs: list[Path] = (), case: Path | None = None,
                 case_sha256: str = "") -> dict[Path, Path]:
    """Check every output path of a command before any work: unique, not an input, writable now.

    ``workbooks`` must end in .xlsx (default: every output ending in .xlsx or without a suffix).
    ``default_outputs`` were chosen by the tool, not the user: an existing one that holds the
    results of a different input (its summary records another path and another SHA-256) is never
    silently replaced: the returned mapping names, for each such output, the file its current
    content is kept as (``<stem>.previous-<first 8 hex of that input's SHA-256>.xlsx``) when the new
    results are published (:meth:`model.xlsx_util.Publication.keep_aside`). An existing default
    output that is not a results workbook of this tool is refused. Raises InputError with every
    problem; creates nothing.
    """
    from .errors import Problem
    from .xlsx_util import output_problem

    problems: list = []
    ins = {}
    for i in inputs:
        if i is not None:
            ins[_same_file_key(Path(i))] = Path(i)
    seen: dict[str, Path] = {}
    for out in outputs:
        out = Path(out)
        key = _same_file_key(out)
        if key in ins or any(_samefile(out, i) for i in ins.values()):
            problems.append(f"the output {out} is an input of this command ({ins.get(key, out)}); choose another "
                            "output path (-o)")
            continue
        if key in seen:
            problems.append(f"two outputs of this command would be the same file {out} (also {seen[key]}); "
                            "choose other names")
            continue
        seen[key] = out
        why = output_problem(out)
        if why:
            problems.append(Problem(str(out), None, None, why, scope="file"))
    for out in (workbooks if workbooks is not None else []):
        if Path(out).suffix.lower() != ".xlsx":
            problems.append(f"the output {out} must end in .xlsx")
    keep: dict[Path, Path] = {}
    for out in default_outputs:
        clash = _other_input(Path(out), case, case_sha256)
        if isinstance(clash, Path):
            keep[Path(out)] = clash
        elif clash:
            problems.append(Problem(str(out), None, None, clash, scope="file"))
    if problems:
        raise InputError(problems)
    return keep


def _samefile(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def recorded_input(path: Path) -> tuple[str, str] | None:
    """``(input_file, input_sha256)`` from the summary sheet of a results workbook, or None."""
    try:
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:
        return None
    try:
        if "summary" not in wb.sheetnames:
            return None
        rec = {}
        for row in wb["summary"].iter_rows(min_row=1, max_row=400, max_col=2, values_only=True):
            if row and row[0] in ("input_file", "input_sha256"):
                rec[row[0]] = "" if row[1] is None else str(row[1])
        return (rec.get("input_file", ""), rec.get("input_sha256", "")) if rec else None
    except Exception:
        return None
    finally:
        wb.close()


def _other_input(out: Path, case: Path | None, sha: str) -> str | Path | None:
    """None when the existing default output ``out`` may be replaced by results of ``case`` (absent, or
    a re-run); a Path to keep it as when it holds another input's results; else why it is refused."""
    if case is None or not out.is_file():
        return None
    rec = recorded_input(out)
    if rec is None:
        return (f"{out} exists and is not a results workbook of this tool; move it away, or choose where to "
                "write with -o")
    path, digest = rec
    if sha and digest == sha:
        return None  # the same input content: a re-run
    if path and _same_file_key(Path(path)) == _same_file_key(Path(case)):
        return None  # the same input file (edited since): a re-run
    tag = (digest or "unknown")[:8]
    backup = out.with_name(f"{out.stem}.previous-{tag}{out.suffix}")
    n = 2
    while backup.exists():
        backup = out.with_name(f"{out.stem}.previous-{tag}-{n}{out.suffix}")
        n += 1
    return backup


def figure_paths(out: Path) -> list[Path]:
    return [out.parent / "figures" / f"{out.stem}_{n}.png" for n in FIGURE_NAMES]
