"""RealEstate10K / CameraCtrl pose text.

Line 1 is a video URL or any text and is always skipped. Each further non-blank line is one pose, 19
columns: ``timestamp_us fx/W fy/H cx/W cy/H 0 0`` then the row-major 3x4 world-to-camera matrix (OpenCV
axes, metres). The two ``0`` columns are ignored. Intrinsics are normalised by the image size, so reading
needs ``image_size (W, H)`` px (default :data:`ct1_sim.clip_spec.IMAGE_SIZE`, with a logged warning).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ct1_sim.atomic_files import write_text_atomic
from ct1_sim.clip_spec import IMAGE_SIZE
from ct1_sim.formats._text import (
    POSE_LINE,
    check_increasing,
    check_same_intrinsics,
    fmt,
    intrinsics_values,
    is_pose_line,
    one_line,
    parse_pose_line,
    pixel_K,
    read_text,
    w2c_rows,
    w2c_rows_to_c2w,
)
from ct1_sim.formats.errors import TrajectoryFormatError
from ct1_sim.geometry import CameraTrajectory, check_image_size

log = logging.getLogger(__name__)

EXPECTED = f"a RealEstate10K file: a URL/title line, then one pose per line, {POSE_LINE} (timestamp in µs)"
DEFAULT_HEADER = "# ct1-sim"


def read_realestate10k(path: str | Path, image_size: tuple[int, int] | None = None) -> CameraTrajectory:
    """Read a RealEstate10K / CameraCtrl file; ``K`` is the normalised intrinsics times ``image_size (W,H)``."""
    path = Path(path)
    lines = read_text(path, EXPECTED).split("\n")
    if is_pose_line(lines[0]):
        log.warning(
            "%s:1: looks like a pose but RealEstate10K's first line is a URL/title and is skipped", path
        )
    stamps, rows, numbers = [], [], []
    for no, line in enumerate(lines[1:], start=2):
        if line.strip():
            ts, row = parse_pose_line(path, no, line, "timestamp in µs")
            stamps.append(ts)
            rows.append(row)
            numbers.append(no)
    if not rows:
        raise TrajectoryFormatError(path, "no pose lines after line 1", f"expected {EXPECTED}")
    data = np.stack(rows)
    check_same_intrinsics(path, data[:, :4], numbers)
    check_increasing(path, stamps, numbers, "timestamp")
    if image_size is None:
        image_size = IMAGE_SIZE
        log.warning(
            "%s: RealEstate10K intrinsics are normalised; assuming a %dx%d image (set it with --width/--height)",
            path,
            *image_size,
        )
    w, h = check_image_size(image_size)
    fx, fy, cx, cy = data[0, :4]
    K = pixel_K(path, fx * w, fy * h, cx * w, cy * h, numbers[0])
    c2w = w2c_rows_to_c2w(path, data[:, 6:], numbers.__getitem__)
    return CameraTrajectory(c2w=c2w, K=K, image_size=(w, h), timestamps_us=np.array(stamps, dtype=np.int64))


def write_realestate10k(traj: CameraTrajectory, path: str | Path, url: str | None = None) -> None:
    """Write a RealEstate10K file atomically: line 1 ``url`` (default ``# ct1-sim``), µs timestamps,
    intrinsics normalised by ``traj.image_size``, world-to-camera rows at full (``repr``) precision."""
    w, h = traj.image_size
    fx, fy, cx, cy = intrinsics_values(traj.K)
    intr = fmt([fx / w, fy / h, cx / w, cy / h])
    lines = [one_line(url, "url") if url else DEFAULT_HEADER]
    for ts, row in zip(traj.timestamps_us, w2c_rows(traj.c2w), strict=True):
        lines.append(f"{int(ts)} {intr} 0 0 {fmt(row)}")
    write_text_atomic(path, "\n".join(lines) + "\n")
