"""MotionCtrl camera poses: JSON ``[T][12]``, row-major 3x4 world-to-camera relative to frame 0.

``R_rel = R_i R_0^T``, ``t_rel = t_i - R_rel t_0`` (i.e. ``w2c_i @ c2w_0``). The file holds no intrinsics
and no timestamps: reading takes ``image_size`` + ``hfov_deg`` (or ``K``) and ``rate_hz``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from ct1_sim.formats._text import build, c2w_to_w2c_rows, read_text, w2c_rows_to_c2w, write_atomic
from ct1_sim.formats.defaults import DEFAULT_HFOV_DEG, DEFAULT_IMAGE_SIZE, DEFAULT_RATE_HZ
from ct1_sim.formats.errors import TrajectoryFormatError
from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov

log = logging.getLogger(__name__)


def read_motionctrl(
    path: str | Path,
    image_size: tuple[int, int] | None = None,
    rate_hz: float | None = None,
    hfov_deg: float | None = None,
    K: np.ndarray | None = None,
) -> CameraTrajectory:
    """Read MotionCtrl poses as a trajectory relative to its first camera."""
    path = Path(path)
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise TrajectoryFormatError(path, f"not valid JSON ({err.msg})", err.lineno) from None
    if not isinstance(data, list) or not data:
        raise TrajectoryFormatError(path, "expected a JSON list of poses, each a list of 12 numbers")
    rows = []
    for i, row in enumerate(data):
        if not isinstance(row, list) or len(row) != 12 or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in row):
            raise TrajectoryFormatError(path, f"pose {i} must be a list of 12 numbers (row-major 3x4 world-to-camera), got {str(row)[:60]}")
        rows.append(row)
    arr = np.array(rows, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise TrajectoryFormatError(path, f"pose {int(np.flatnonzero(~np.isfinite(arr).all(1))[0])} has NaN or inf")
    try:
        c2w = w2c_rows_to_c2w(path, arr, list(range(len(arr))))
    except TrajectoryFormatError as err:
        raise TrajectoryFormatError(path, str(err).split(": ", 1)[1].replace("pose[0]", f"pose {err.line}")) from None
    size = image_size or DEFAULT_IMAGE_SIZE
    if K is None:
        K = intrinsics_from_fov(size[0], size[1], hfov_deg or DEFAULT_HFOV_DEG)
    rate = rate_hz or DEFAULT_RATE_HZ
    ts = np.round(np.arange(len(arr)) * 1e6 / rate).astype(np.int64)
    return build(path, lambda: CameraTrajectory(c2w=c2w, K=K, image_size=size, timestamps_us=ts))


def write_motionctrl(traj: CameraTrajectory, path: str | Path) -> None:
    """Write MotionCtrl poses (relative to the first camera; intrinsics and times are not stored)."""
    rows = c2w_to_w2c_rows(traj.relative_to_first())
    write_atomic(Path(path), json.dumps([[float(v) for v in row] for row in rows], indent=1) + "\n")
