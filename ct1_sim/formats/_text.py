"""Shared parsing and atomic writing for the text/JSON pose formats."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ct1_sim.formats.errors import TrajectoryFormatError
from ct1_sim.geometry import CameraTrajectory, check_poses, invert_rigid

COLUMNS = 19  # index-or-timestamp, fx, fy, cx, cy, 0, 0, then a row-major 3x4 world-to-camera


def read_text(path: Path) -> str:
    if not path.is_file():
        raise TrajectoryFormatError(path, "no such file; check the path")
    try:
        return path.read_text()
    except UnicodeDecodeError:
        raise TrajectoryFormatError(path, "not a text file (undecodable bytes); give a pose text file") from None


def parse_row(path: Path, line_no: int, line: str) -> np.ndarray:
    """19 finite numbers from one line, or a TrajectoryFormatError naming the line."""
    tokens = line.split()
    if len(tokens) != COLUMNS:
        raise TrajectoryFormatError(
            path, f"expected {COLUMNS} numbers (index/timestamp, fx fy cx cy 0 0, 3x4 world-to-camera), got {len(tokens)}", line_no
        )
    values = []
    for tok in tokens:
        try:
            values.append(float(tok))
        except ValueError:
            raise TrajectoryFormatError(path, f"{tok!r} is not a number", line_no) from None
    row = np.array(values)
    if not np.isfinite(row).all():
        raise TrajectoryFormatError(path, "NaN or inf in the pose", line_no)
    return row


def is_data_line(line: str) -> bool:
    tokens = line.split()
    if len(tokens) != COLUMNS:
        return False
    try:
        [float(t) for t in tokens]
    except ValueError:
        return False
    return True


def w2c_rows_to_c2w(path: Path, rows: np.ndarray, line_numbers: Sequence[int]) -> np.ndarray:
    """``(T,12)`` row-major world-to-camera -> ``(T,4,4)`` camera-to-world, checking rigidity per line."""
    w2c = np.tile(np.eye(4), (len(rows), 1, 1))
    w2c[:, :3, :] = rows.reshape(-1, 3, 4)
    for i, line in enumerate(line_numbers):
        try:
            check_poses(w2c[i : i + 1], "pose")
        except ValueError as err:
            raise TrajectoryFormatError(path, f"{err}", line) from None
    return invert_rigid(w2c)


def c2w_to_w2c_rows(traj: CameraTrajectory) -> np.ndarray:
    """``(T,12)`` row-major 3x4 world-to-camera."""
    return traj.w2c[:, :3, :].reshape(len(traj), 12)


def build(path: Path, make: Callable[[], CameraTrajectory], line_numbers: Sequence[int] | None = None) -> CameraTrajectory:
    """Construct a trajectory; map validation errors (timestamps, intrinsics) to the file."""
    try:
        return make()
    except ValueError as err:
        msg = str(err)
        line = None
        if "timestamps_us" in msg and line_numbers is not None and "followed by" in msg:
            idx = int(msg.split("[")[1].split("]")[0])
            line = line_numbers[idx + 1]
        raise TrajectoryFormatError(path, msg, line) from None


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fmt(values: np.ndarray) -> str:
    return " ".join(repr(float(v)) for v in values)
