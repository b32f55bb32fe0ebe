"""Problems a planner can act on: every input problem names sheet, Excel row and column."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in the input, located as Excel shows it."""

    sheet: str
    row: int | None  # Excel row number (1-based), None when the whole sheet/column is concerned
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"sheet '{self.sheet}'"
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class InputError(Exception):
    """Bad input (workbook, override or argument). Carries every problem found; exit status 2."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, (Problem, str)):
            problems = [problems]
        self.problems = [p if isinstance(p, Problem) else Problem("-", None, None, p) for p in problems]
        super().__init__("\n".join(str(p) for p in self.problems))

    def report(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input:"
        return head + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class ModelError(Exception):
    """The solver or the independent verification failed; never report such a plan as valid."""
