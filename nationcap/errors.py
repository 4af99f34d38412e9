"""Error types shared by every stage.

Bad input is reported as one :class:`InputError` carrying *every* :class:`Problem` found, each
naming the file, the row (or id / key), the column and what is expected, so a user can fix all
of them in one pass. The CLI prints the report without a traceback unless ``--debug``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: at most this many rows are listed for one (file, column, kind of problem); the rest are counted
MAX_ROWS_PER_PROBLEM = 10


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    ``file`` is a path or file name; ``where`` the row (``row 12``), an id (``entity_id R00012``)
    or a scenario key; ``column`` the column or key; ``message`` says what is expected.
    """

    file: str
    where: str
    column: str
    message: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.where:
            parts.append(self.where)
        if self.column:
            parts.append(f"column '{self.column}'")
        return f"{', '.join(parts)}: {self.message}"


class NationcapError(Exception):
    """Base class of every error nationcap raises on purpose (printed without a traceback)."""


class InputError(NationcapError):
    """The scenario or the dataset is invalid; ``problems`` lists everything found."""

    def __init__(self, problems: list[Problem], context: str = "input"):
        self.problems = list(problems)
        self.context = context
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.problems)
        lines = [f"{n} problem{'s' if n != 1 else ''} in the {self.context}:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class ModelError(NationcapError):
    """The optimisation problem is infeasible, unbounded, or the solver did not reach optimality."""


class OutputError(NationcapError):
    """The output location cannot take the outputs: results exist there already (without
    ``--force``), it is not a folder, or it cannot be written (read-only, a file in the way, disk
    full). The command line exits with code 4."""


class OutputExistsError(OutputError):
    """Results exist where a run would write, and ``--force`` was not given."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (a batch system's time limit, ``timeout``, a container stop), raised where the
    signal arrives so that it unwinds like Ctrl-C (see :mod:`nationcap.atomic`); the command line
    exits with code 143."""


@dataclass
class Problems:
    """Collects problems; call :meth:`raise_if_any` at the end of a validation pass."""

    context: str = "input"
    items: list[Problem] = field(default_factory=list)

    def add(self, file: str, where: str, column: str, message: str) -> None:
        self.items.append(Problem(str(file), where, column, message))

    def add_rows(self, file: str, rows: list[str], column: str, message: str) -> None:
        """Add one problem per offending row, listing at most MAX_ROWS_PER_PROBLEM of them."""
        for where in rows[:MAX_ROWS_PER_PROBLEM]:
            self.add(file, where, column, message)
        extra = len(rows) - MAX_ROWS_PER_PROBLEM
        if extra > 0:
            self.add(file, f"and {extra} more rows", column, message)

    def extend(self, other: Problems) -> None:
        self.items.extend(other.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items, self.context)
