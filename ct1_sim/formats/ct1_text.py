"""The CT-1 authors' pose text: ``index fx fy cx cy 0 0`` (pixel intrinsics) + row-major 3x4 world-to-camera.

19 columns per line (OpenCV axes, metres); lines may end in spaces. A file may start with one text line:
the first non-blank line is a header when it is not 19 numbers, unless it is all numbers with at least 7
of them (a broken pose line, reported as such). The file holds no image size (inferred as
``(round(2 cx), round(2 cy))`` unless given) and no timestamps (``round(index * 1e6 / rate_hz)`` µs).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ct1_sim.atomic_files import write_text_atomic
from ct1_sim.clip_spec import RATE_HZ
from ct1_sim.formats._text import (
    POSE_LINE,
    check_increasing,
    check_rate,
    check_same_intrinsics,
    fmt,
    index_timestamps,
    intrinsics_values,
    is_pose_line,
    looks_numeric,
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

EXPECTED = f"a CT-1 pose file: an optional text line, then one pose per line, {POSE_LINE} (pixel intrinsics)"


def _first_pose_line(lines: list[str]) -> int:
    """0-based index of the first line to parse as a pose (skipping blank lines and one header line)."""
    first = next(i for i, line in enumerate(lines) if line.strip())
    line = lines[first]
    if is_pose_line(line) or (looks_numeric(line) and len(line.split()) >= 7):
        return first
    return first + 1


def read_ct1(
    path: str | Path, image_size: tuple[int, int] | None = None, rate_hz: float | None = None
) -> CameraTrajectory:
    """Read a CT-1 text file; timestamps are ``index / rate_hz`` (default :data:`ct1_sim.clip_spec.RATE_HZ`)."""
    path = Path(path)
    rate = check_rate(RATE_HZ if rate_hz is None else rate_hz)
    lines = read_text(path, EXPECTED).split("\n")
    start = _first_pose_line(lines)
    if start > 0 and lines[start - 1].strip():
        log.debug("%s:%d: header line %r", path, start, lines[start - 1].strip()[:80])
    indices, rows, numbers = [], [], []
    for no, line in enumerate(lines[start:], start=start + 1):
        if line.strip():
            index, row = parse_pose_line(path, no, line, "frame index")
            indices.append(index)
            rows.append(row)
            numbers.append(no)
    if not rows:
        raise TrajectoryFormatError(path, "no pose lines", f"expected {EXPECTED}")
    data = np.stack(rows)
    check_same_intrinsics(path, data[:, :4], numbers)
    check_increasing(path, indices, numbers, "frame index")
    fx, fy, cx, cy = data[0, :4]
    if image_size is None:
        image_size = (round(2 * cx), round(2 * cy))
        if min(image_size) <= 0:
            raise TrajectoryFormatError(
                path,
                f"cannot infer the image size from the principal point ({cx}, {cy})",
                "pass the size (--width/--height or image_size=)",
                line=numbers[0],
            )
        log.info(
            "%s: CT-1 files hold no image size; inferred %dx%d from the principal point", path, *image_size
        )
    size = check_image_size(image_size)
    K = pixel_K(path, fx, fy, cx, cy, numbers[0])
    c2w = w2c_rows_to_c2w(path, data[:, 6:], numbers.__getitem__)
    ts = index_timestamps(indices, rate)
    same = np.flatnonzero(np.diff(ts) <= 0)
    if len(same):
        raise TrajectoryFormatError(
            path,
            f"at {rate:g} Hz frames {indices[same[0]]} and {indices[same[0] + 1]} fall on the same microsecond",
            "give a lower pose rate (rate_hz / --fps)",
            line=numbers[same[0] + 1],
        )
    return CameraTrajectory(c2w=c2w, K=K, image_size=size, timestamps_us=ts)


def write_ct1(traj: CameraTrajectory, path: str | Path, header: str | None = None) -> None:
    """Write a CT-1 text file atomically: frame index 0..T-1, pixel intrinsics, world-to-camera rows at full
    precision; no header line unless ``header`` is given (timestamps and image size are not stored)."""
    intr = fmt(intrinsics_values(traj.K))
    lines = [one_line(header, "header")] if header else []
    lines += [f"{i} {intr} 0.0 0.0 {fmt(row)}" for i, row in enumerate(w2c_rows(traj.c2w))]
    write_text_atomic(path, "\n".join(lines) + "\n")
