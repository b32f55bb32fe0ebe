"""Problems a planner can act on: every input problem names sheet, Excel row and column."""
from __future__ import annotations

from dataclasses import dataclass

#: ``Problem.sheet`` of a problem that belongs to no sheet (a command-line argument, an override).
NO_SHEET = "-"


@dataclass(frozen=True)
class Problem:
    """One problem in the input, located as Excel shows it.

    ``scope`` says what ``sheet`` names: ``"sheet"`` (a sheet of the workbook, the usual case) or
    ``"file"`` (the whole file: it cannot be read, is not an xlsx, breaks a size limit ...; then
    ``sheet`` holds the file name). A problem with ``sheet == "-"`` belongs to no sheet.
    """

    sheet: str
    row: int | None  # Excel row number (1-based), None when the whole sheet/column is concerned
    column: str | None
    message: str
    scope: str = "sheet"

    def __str__(self) -> str:
        if self.scope == "file":
            return f"file '{self.sheet}': {self.message}"
        if self.sheet == NO_SHEET and self.row is None and not self.column:
            return self.message
        where = f"sheet '{self.sheet}'"
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


def file_problem(name: str, message: str) -> Problem:
    """A problem with the file as a whole (``name`` is the file name, not a path)."""
    return Problem(name, None, None, message, scope="file")


class InputError(Exception):
    """Bad input (workbook, override or argument). Carries every problem found; exit status 2."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, (Problem, str)):
            problems = [problems]
        self.problems = [p if isinstance(p, Problem) else Problem(NO_SHEET, None, None, p) for p in problems]
        super().__init__("\n".join(str(p) for p in self.problems))

    def report(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input:"
        return head + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class ModelError(Exception):
    """The solver or the independent verification failed; never report such a plan as valid."""
