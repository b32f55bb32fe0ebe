"""Small, safe helpers for writing workbooks: atomic saves and text that never turns into a formula."""
from __future__ import annotations

import contextvars
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Mapping, Sequence

from .errors import NO_SHEET, InputError, Problem

# Control characters Excel cannot store (openpyxl raises IllegalCharacterError on them).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f]")
MAX_TEXT = 32_767


def safe_text(value: str) -> str:
    """Strip characters Excel cannot hold and cut to Excel's cell limit."""
    return _ILLEGAL.sub("", value)[:MAX_TEXT]


def set_cell(cell, value: Any) -> None:
    """Write one value; strings are always stored as text, never as a live formula."""
    if isinstance(value, str):
        cell.value = safe_text(value)
        cell.data_type = "s"  # openpyxl would otherwise turn "=..." into a formula
        if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            cell.quotePrefix = True
    elif isinstance(value, float) and value != value:  # NaN -> blank
        cell.value = None
    else:
        cell.value = value


def append_row(ws, values: Sequence[Any], row: int) -> None:
    for c, v in enumerate(values, start=1):
        set_cell(ws.cell(row=row, column=c), v)


def atomic_save(wb, path: str | os.PathLike) -> Path:
    """Save an openpyxl workbook to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, wb.save)


# --------------------------------------------------------------------------- temporary files
#: Temporary files and staging folders of this tool carry this tag and the writer's process id, so
#: that a later run can tell its own litter (left by a killed run) from anything else.
TMP_TAG = "bp"
_TMP_FILE = re.compile(r"^\..+\.bp(\d+)-[A-Za-z0-9_]+\.tmp$")
_STAGE_DIR = re.compile(r"^\.battery-plan-(\d+)-[A-Za-z0-9_]+\.stage$")
#: Temporary files of earlier versions (``.<name>.<8 random>.tmp``), removed once an hour old.
_OLD_TMP = re.compile(r"^\..+\.(xlsx|png|csv|parquet|json)\.[A-Za-z0-9_]{8}\.tmp$")
OLD_TMP_AGE_S = 3600


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Remove this tool's temporary files and staging folders in ``folder`` whose writer is gone.

    Only names of the tool's own patterns are touched: ``.<name>.bp<pid>-<random>.tmp`` files and
    ``.battery-plan-<pid>-<random>.stage`` folders whose process no longer runs, and the
    ``.<name>.<ext>.<8 random>.tmp`` files of earlier versions once an hour old.
    """
    import shutil
    import time

    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for e in entries:
        m = _TMP_FILE.match(e.name) or _STAGE_DIR.match(e.name)
        try:
            if m is not None:
                if _pid_alive(int(m.group(1))):
                    continue
            elif _OLD_TMP.match(e.name):
                if now - e.stat(follow_symlinks=False).st_mtime < OLD_TMP_AGE_S:
                    continue
            else:
                continue
            if e.is_dir(follow_symlinks=False):
                shutil.rmtree(e.path, ignore_errors=True)
            else:
                os.unlink(e.path)
            removed.append(Path(e.path))
        except OSError:
            pass
    return removed


_CLEANED: set[str] = set()


def _clean_once(folder: Path) -> None:
    """:func:`remove_stale_temps` once per folder and process (a sweep's store gets thousands of writes)."""
    key = os.path.abspath(folder)
    if key not in _CLEANED:
        _CLEANED.add(key)
        remove_stale_temps(folder)


# --------------------------------------------------------------------------- checks before writing
def lock_files(path: str | os.PathLike) -> list[Path]:
    """Lock files that Excel (``~$name``) or LibreOffice (``.~lock.name#``) keep beside an open file."""
    path = Path(path)
    names = [f"~${path.name}", f".~lock.{path.name}#"]
    if len(path.name) > 2:
        names.append(f"~${path.name[2:]}")  # Excel replaces the first two characters of longer names
    return [path.parent / n for n in names if (path.parent / n).exists()]


def output_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be written (or replaced) now, or None. Creates nothing."""
    path = Path(path)
    locks = lock_files(path)
    if locks:
        return (f"the file is open in Excel or LibreOffice (lock file {locks[0].name} beside it); close it and run "
                "again (if no application has it open, delete the lock file)")
    if path.is_symlink() or path.exists():
        if path.is_dir():
            return "a folder of this name exists; choose another output path"
        # mode bits too: root may write anything, but a file made read-only is the user's decision
        if not os.access(path, os.W_OK) or not (os.stat(path).st_mode & 0o222):
            return "the file is read-only; make it writable (or choose another output path) and run again"
    folder = path.parent if str(path.parent) else Path(".")
    probe = folder
    while not probe.exists():  # the nearest existing ancestor must let us create the folders
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return f"cannot create the output folder: {probe} is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"cannot write in {probe} (no permission); choose another output folder"
    return None


# --------------------------------------------------------------------------- publishing together
_PUBLICATION: contextvars.ContextVar["Publication | None"] = contextvars.ContextVar("battery_plan_publication",
                                                                                    default=None)


class Publication:
    """Files written while a publication is open are staged, then all renamed into place at once.

    Each file is written completely (flushed, fsynced) into a hidden staging folder beside its
    target, under its final name; :meth:`commit` moves every staged file over its target with
    ``os.replace`` (atomic per file) once all are written. If anything fails before, every staged
    file is removed and no target is touched: a run's files are published together or not at all.
    """

    def __init__(self):
        self.staged: dict[Path, Path] = {}  # target (absolute) -> staged file
        self.dirs: dict[Path, Path] = {}  # target folder -> staging folder
        self.aside: dict[Path, Path] = {}  # target (absolute) -> where its current content is kept
        self.kept: list[tuple[Path, Path]] = []  # (target, backup) actually kept by the commit

    def keep_aside(self, target: str | os.PathLike, backup: str | os.PathLike) -> None:
        """At :meth:`commit`, keep the current content of ``target`` as ``backup`` before replacing it
        (a hard link, so that ``target`` never goes missing; a copy where links are not possible)."""
        self.aside[Path(os.path.abspath(target))] = Path(os.path.abspath(backup))

    def staged_path(self, target: str | os.PathLike) -> Path | None:
        """Where the staged content of ``target`` is now (to read it back before the commit)."""
        return self.staged.get(Path(os.path.abspath(target)))

    def _stage_dir(self, folder: Path) -> Path:
        key = Path(os.path.abspath(folder))
        if key not in self.dirs:
            self.dirs[key] = Path(tempfile.mkdtemp(dir=folder, prefix=f".battery-plan-{os.getpid()}-",
                                                   suffix=".stage"))
        return self.dirs[key]

    def commit(self) -> None:
        import shutil

        for target, backup in self.aside.items():
            if target in self.staged and target.exists():
                try:
                    os.link(target, backup)
                except OSError:
                    shutil.copy2(target, backup)
                self.kept.append((target, backup))
        folders = set()
        for target, tmp in self.staged.items():
            os.replace(tmp, target)
            folders.add(target.parent)
        for f in folders:
            _fsync_dir(f)
        self._remove_dirs()
        self.staged.clear()

    def abort(self) -> None:
        self.staged.clear()
        self._remove_dirs()

    def _remove_dirs(self) -> None:
        import shutil

        for d in self.dirs.values():
            shutil.rmtree(d, ignore_errors=True)
        self.dirs.clear()


@contextmanager
def publish_together():
    """``with publish_together(): ...`` — every :func:`atomic_write` inside is published at the end, together."""
    outer = _PUBLICATION.get()
    if outer is not None:  # nested: the outer publication decides
        yield outer
        return
    pub = Publication()
    token = _PUBLICATION.set(pub)
    try:
        yield pub
    except BaseException:
        pub.abort()
        raise
    finally:
        _PUBLICATION.reset(token)
    try:
        pub.commit()
    except OSError as exc:
        pub.abort()
        raise InputError(Problem(NO_SHEET, None, None, f"cannot publish the results: {exc.strerror or exc}"))


def _fsync_dir(folder: Path) -> None:
    try:
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> Path:
    """Write a file atomically: ``write(fh)`` into a temp file in the same folder, fsync, replace.

    An existing file at ``path`` is only replaced once the new one is completely written, so a
    failed or killed run never leaves a half-written or lost file behind. A read-only target, or
    one open in Excel/LibreOffice (a lock file beside it), is refused and left alone. OS errors
    become a planner-readable :class:`InputError` (full disk, read-only folder, file locked by
    Excel). Inside :func:`publish_together` the file is only staged; the publication moves it
    into place with the others. Stale temporary files of killed runs in the folder are removed.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    why = output_problem(path)
    if why:
        raise InputError(Problem(str(path), None, None, why, scope="file"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(Problem(str(path), None, None, f"cannot create output folder: {exc.strerror or exc}"))
    _clean_once(folder)
    pub = _PUBLICATION.get()
    try:
        if pub is not None:
            tmp = str(pub._stage_dir(folder) / path.name)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        else:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.{TMP_TAG}{os.getpid()}-", suffix=".tmp")
    except OSError as exc:
        raise InputError(Problem(str(path), None, None, f"cannot write in {folder}: {exc.strerror or exc}"))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; results are ordinary files
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if pub is not None:
            pub.staged[Path(os.path.abspath(path))] = Path(tmp)
            return path
        os.replace(tmp, path)
        _fsync_dir(folder)
    except PermissionError as exc:
        _unlink(tmp)
        raise InputError(Problem(str(path), None, None, f"cannot write the file ({exc.strerror}); "
                                                        "is it open in Excel? Close it and run again"))
    except OSError as exc:
        _unlink(tmp)
        raise InputError(Problem(str(path), None, None, f"cannot write the file: {exc.strerror or exc}"))
    except BaseException:
        _unlink(tmp)
        raise
    return path


def _unlink(p: str) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


def write_input_workbook(path: str | os.PathLike, tables: Mapping[str, Any]) -> Path:
    """Write a case workbook from plain Python data.

    ``tables["settings"]`` is a ``{key: value}`` mapping; every other entry is a list of
    ``{column: value}`` records (a pandas DataFrame also works). Sheets are written in the
    order given. Used by the default-case builder, the template and the tests.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for name, data in tables.items():
        ws = wb.create_sheet(name)
        if name == "settings" and isinstance(data, Mapping):
            header = ["key", "value"]
            rows = [[k, v] for k, v in data.items()]
        else:
            if hasattr(data, "to_dict"):
                data = data.to_dict("records")
            data = list(data)
            header = []
            for rec in data:
                for k in rec:
                    if k not in header:
                        header.append(k)
            if not header:  # an empty table still gets its header row, from the schema
                from .schema import SHEETS_BY_NAME

                sheet = SHEETS_BY_NAME.get(name)
                header = list(sheet.column_names) if sheet else []
            rows = [[rec.get(h) for h in header] for rec in data]
        append_row(ws, header, 1)
        for c in ws[1]:
            c.font = Font(bold=True)
        for i, row in enumerate(rows, start=2):
            append_row(ws, row, i)
        ws.freeze_panes = "A2"
    return atomic_save(wb, path)
