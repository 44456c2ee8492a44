"""The error every pose-file reader raises for a bad file: path, line and what to fix."""

from __future__ import annotations

from pathlib import Path


class TrajectoryFormatError(ValueError):
    """A pose file that cannot be read; the message reads ``path:line: what was wrong``."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path = Path(path)
        self.line = line
