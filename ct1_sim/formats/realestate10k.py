"""RealEstate10K / CameraCtrl pose text.

Line 1 is a video URL or any text (skipped). Each further line: ``timestamp_us fx/W fy/H cx/W cy/H 0 0``
followed by the row-major 3x4 world-to-camera matrix (19 columns). Intrinsics are normalised by the image
size, so reading needs ``image_size (W,H)`` (default 448x256, logged).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ct1_sim.formats._text import build, c2w_to_w2c_rows, fmt, parse_row, read_text, w2c_rows_to_c2w, write_atomic
from ct1_sim.formats.defaults import DEFAULT_IMAGE_SIZE
from ct1_sim.formats.errors import TrajectoryFormatError
from ct1_sim.geometry import CameraTrajectory, intrinsics_from_normalized, normalized_intrinsics

log = logging.getLogger(__name__)


def read_realestate10k(path: str | Path, image_size: tuple[int, int] | None = None) -> CameraTrajectory:
    """Read a CameraCtrl pose file."""
    path = Path(path)
    lines = read_text(path).splitlines()
    rows, numbers = [], []
    for no, line in enumerate(lines[1:], start=2):
        if line.strip():
            rows.append(parse_row(path, no, line))
            numbers.append(no)
    if not rows:
        raise TrajectoryFormatError(path, "no poses: expected a first text line, then one pose per line")
    data = np.stack(rows)
    intr = data[:, 1:5]
    bad = np.flatnonzero(np.abs(intr - intr[0]).max(axis=1) > 1e-9)
    if len(bad):
        raise TrajectoryFormatError(path, "intrinsics change between poses; ct1-sim holds one K per trajectory", numbers[bad[0]])
    if image_size is None:
        image_size = DEFAULT_IMAGE_SIZE
        log.warning("%s: normalised intrinsics read for an assumed %dx%d image (set --width/--height)", path, *image_size)
    c2w = w2c_rows_to_c2w(path, data[:, 7:], numbers)
    ts = data[:, 0]
    if np.any(ts != np.round(ts)):
        raise TrajectoryFormatError(path, "timestamps must be whole microseconds", numbers[int(np.flatnonzero(ts != np.round(ts))[0])])
    K = intrinsics_from_normalized(*intr[0], image_size)
    return build(path, lambda: CameraTrajectory(c2w=c2w, K=K, image_size=image_size, timestamps_us=ts.astype(np.int64)), numbers)


def write_realestate10k(traj: CameraTrajectory, path: str | Path, header: str = "# ct1-sim camera trajectory") -> None:
    """Write a CameraCtrl pose file (normalised intrinsics, µs timestamps)."""
    intr = np.array(normalized_intrinsics(traj.K, traj.image_size))
    w2c = c2w_to_w2c_rows(traj)
    lines = [header.replace("\n", " ")]
    for ts, row in zip(traj.timestamps_us, w2c, strict=True):
        lines.append(f"{int(ts)} {fmt(intr)} 0 0 {fmt(row)}")
    write_atomic(Path(path), "\n".join(lines) + "\n")
