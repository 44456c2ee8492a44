"""The error every pose-file reader raises for a bad file: where, what was wrong, and how to fix it."""

from __future__ import annotations

from pathlib import Path


class TrajectoryFormatError(ValueError):
    """A pose file that cannot be read or written.

    The message reads ``"{path}:{line}: {what}; {fix}"`` (``:{line}`` only when a 1-based line is known,
    ``; {fix}`` only when a fix is given). The parts are kept as ``path``, ``line``, ``what``, ``fix``.
    """

    def __init__(
        self, path: str | Path, what: str, fix: str | None = None, *, line: int | None = None
    ) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {what}" + (f"; {fix}" if fix else ""))
        self.path = Path(path)
        self.line = line
        self.what = what
        self.fix = fix
