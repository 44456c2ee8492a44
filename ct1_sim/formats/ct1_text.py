"""The CT-1 release's pose text: ``index fx fy cx cy 0 0`` (pixel intrinsics) + row-major 3x4 world-to-camera.

Files may start with a text line (detected: a first line that is not 19 numbers). The file has no image
size (inferred as ``(2 cx, 2 cy)`` unless given) and no timestamps (``index / rate_hz``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ct1_sim.formats._text import build, c2w_to_w2c_rows, fmt, is_data_line, parse_row, read_text, w2c_rows_to_c2w, write_atomic
from ct1_sim.formats.defaults import DEFAULT_RATE_HZ
from ct1_sim.formats.errors import TrajectoryFormatError
from ct1_sim.geometry import CameraTrajectory

log = logging.getLogger(__name__)


def read_ct1(path: str | Path, image_size: tuple[int, int] | None = None, rate_hz: float | None = None) -> CameraTrajectory:
    """Read a CT-1 trajectory text file."""
    path = Path(path)
    lines = read_text(path).splitlines()
    start = 0
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and not is_data_line(lines[first]):
        start = first + 1  # a header line
    rows, numbers = [], []
    for no, line in enumerate(lines[start:], start=start + 1):
        if line.strip():
            rows.append(parse_row(path, no, line))
            numbers.append(no)
    if not rows:
        raise TrajectoryFormatError(path, "no poses: expected lines of 'index fx fy cx cy 0 0' + 12 world-to-camera numbers")
    data = np.stack(rows)
    intr = data[:, 1:5]
    bad = np.flatnonzero(np.abs(intr - intr[0]).max(axis=1) > 1e-9)
    if len(bad):
        raise TrajectoryFormatError(path, "intrinsics change between poses; ct1-sim holds one K per trajectory", numbers[bad[0]])
    fx, fy, cx, cy = intr[0]
    if image_size is None:
        image_size = (round(2 * cx), round(2 * cy))
        log.info("%s: image size inferred from the principal point as %dx%d", path, *image_size)
    rate = rate_hz or DEFAULT_RATE_HZ
    idx = data[:, 0]
    if np.any(idx != np.round(idx)):
        raise TrajectoryFormatError(path, "the first column must be an integer frame index", numbers[int(np.flatnonzero(idx != np.round(idx))[0])])
    ts = np.round(idx * 1e6 / rate).astype(np.int64)
    c2w = w2c_rows_to_c2w(path, data[:, 7:], numbers)
    K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    return build(path, lambda: CameraTrajectory(c2w=c2w, K=K, image_size=image_size, timestamps_us=ts), numbers)


def write_ct1(traj: CameraTrajectory, path: str | Path, header: str | None = None) -> None:
    """Write a CT-1 text file (frame index 0..T-1, pixel intrinsics; no header unless given)."""
    K = traj.K
    intr = np.array([K[0, 0], K[1, 1], K[0, 2], K[1, 2]])
    lines = [header.replace("\n", " ")] if header else []
    for i, row in enumerate(c2w_to_w2c_rows(traj)):
        lines.append(f"{i} {fmt(intr)} 0.0 0.0 {fmt(row)}")
    write_atomic(Path(path), "\n".join(lines) + "\n")
