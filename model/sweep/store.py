"""Finished cases on disk: one JSON record per case, named by a hash of everything that decides its
result (:class:`RunSpec`, :func:`case_hash`), written atomically; what is there is never recomputed.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .. import MODEL_VERSION, __version__
from ..output_schema import KPI_YEARS  # plus the last horizon year
from ..xlsx_util import atomic_write
from ..workbook import RawWorkbook, normalise
from .design import RECORD_VERSION, SENSITIVITY


# --------------------------------------------------------------------------- hashing
def workbook_content_sha256(raw: RawWorkbook, exclude: Iterable[str] = (SENSITIVITY.name,)) -> str:
    """sha256 of every sheet's cells (with their Excel rows), sheets named in ``exclude`` left out:
    editing the sweep definition does not invalidate cases already solved."""
    skip = {normalise(x) for x in exclude}
    h = hashlib.sha256()
    for key in sorted(raw.sheets):
        if key in skip:
            continue
        sh = raw.sheets[key]
        blob = [sh.name, list(sh.header), [list(r) for r in sh.rows], list(sh.excel_rows), sh.header_row,
                list(sh.merged), [list(x) for x in sh.formula_cells], sh.complete]
        h.update(json.dumps(blob, default=repr, ensure_ascii=True).encode())
        h.update(b"\x00")
    for p in raw.problems:
        h.update(str(p).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs besides the workbook; the fields that shape a result are hashed."""

    inputs_sha256: str
    mip_rel_gap: float | None = None  # None: the case's settings sheet
    time_limit_s: float | None = None
    kpi_years: tuple[int, ...] = KPI_YEARS

    def result_fields(self) -> dict:
        from ..solve import solver_version

        return {"record_version": RECORD_VERSION, "inputs": self.inputs_sha256, "model_version": MODEL_VERSION,
                "battery_plan": __version__, "solver": "highs", "solver_version": solver_version(),
                "threads": 1, "mip_rel_gap": self.mip_rel_gap, "time_limit_s": self.time_limit_s,
                "kpi_years": list(self.kpi_years)}

    @property
    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.result_fields(), sort_keys=True).encode()).hexdigest()


def case_hash(spec: RunSpec, overrides: Sequence[str]) -> str:
    blob = json.dumps({**spec.result_fields(), "overrides": list(overrides)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


# --------------------------------------------------------------------------- the store
def atomic_write_bytes(path: Path, write: Callable[[Any], None]) -> Path:
    """Write through ``write(fileobj)`` atomically (the project's one atomic writer)."""
    return atomic_write(path, write)


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalars
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class CaseStore:
    """One JSON file per finished case, named by its hash, written atomically."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def path(self, h: str) -> Path:
        return self.folder / f"{h}.json"

    def get(self, h: str) -> dict | None:
        p = self.path(h)
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(rec, dict) or rec.get("hash") != h or rec.get("record_version") != RECORD_VERSION \
                or not isinstance(rec.get("status"), str):
            return None
        return rec

    def put(self, h: str, rec: dict) -> None:
        data = json.dumps(_jsonable({**rec, "hash": h}), indent=1, sort_keys=True, allow_nan=False).encode()
        atomic_write_bytes(self.path(h), lambda fh: fh.write(data))
