"""Regenerate the README's pictures with the tool itself.

    python docs/make_pictures.py

Solves the default case with the command line (exactly as ``battery-plan`` does), then

* draws the results workbook's ``summary`` sheet (key, value as the spreadsheet shows it with the
  cell's number format, unit; the run-provenance section left out) as ``docs/img/summary.png``;
* copies the run's own capacity figure to ``docs/img/capacity.png``.

Nothing here computes a figure: every number is read back from the results workbook.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"
SKIP_SECTIONS = ("Run provenance",)


def shown(value, fmt: str | None) -> str:
    """A value as the spreadsheet shows it under its number format (the formats the report uses)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    f = fmt or "General"
    if f.endswith('" bn"'):
        decimals = len(f.split(".")[1].split(",")[0]) if "." in f else 0
        return f"{value / 1e9:,.{decimals}f} bn"
    if "%" in f:
        decimals = len(f.split(".")[1].split("%")[0]) if "." in f.split(";")[0] else 0
        return f"{value * 100:.{decimals}f}%"
    if f == "0":
        return f"{value:.0f}"
    if f.startswith("#,##0.0"):
        return f"{value:,.{len(f.split('.')[1])}f}"
    if f.startswith("#,##0"):
        return f"{value:,.0f}"
    return f"{value:g}"


def summary_rows(xlsx: Path) -> list[tuple[str, str, str, bool]]:
    """(key, shown value, unit, is_heading) of the summary sheet, sections in SKIP_SECTIONS left out."""
    import openpyxl

    ws = openpyxl.load_workbook(xlsx)["summary"]
    out, skip = [], False
    for row in ws.iter_rows(min_row=2):
        key, val, unit = row[0].value, row[1].value, row[2].value
        if key is None and val is None:
            continue
        if key is None:  # a section heading
            skip = val in SKIP_SECTIONS
            if not skip:
                out.append((str(val), "", "", True))
            continue
        if skip or (key.startswith(("modules_built_", "first_build_year_")) and key != "modules_built_total"):
            continue
        out.append((key, shown(val, row[1].number_format), unit or "", False))
    return out


def draw_summary(rows, png: Path) -> None:
    from matplotlib.figure import Figure

    h = 0.24 * (len(rows) + 2)
    fig = Figure(figsize=(8.5, h))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(len(rows) + 1.5, 0)
    ax.text(0.02, 0.6, "key", weight="bold")
    ax.text(0.62, 0.6, "value", weight="bold", ha="right")
    ax.text(0.65, 0.6, "unit", weight="bold")
    ax.axhline(1.0, color="#1f3864", lw=1)
    for i, (key, val, unit, head) in enumerate(rows, start=2):
        if head:
            ax.axhspan(i - 0.75, i + 0.25, color="#f2f2f2")
            ax.text(0.30, i, key, weight="bold", color="#1f3864", size=11)
            continue
        alert = key == "unmet_demand_alert"
        ax.text(0.02, i, key, size=9, color="#c00000" if alert else "black")
        ax.text(0.62, i, val if len(val) < 60 else val[:57] + "...", size=9, ha="right",
                color="#c00000" if alert else "black")
        ax.text(0.65, i, unit, size=9, color="#444444")
    IMG.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=100)


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from model.cli import main as cli

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "base_case_results.xlsx"
        code = cli(["run", str(ROOT / "inputs" / "base_case.xlsx"), "-o", str(out), "--figures", "-q"])
        if code != 0:
            return code
        draw_summary(summary_rows(out), IMG / "summary.png")
        shutil.copyfile(out.parent / "figures" / f"{out.stem}_capacity.png", IMG / "capacity.png")
    print(f"pictures written to {IMG}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
