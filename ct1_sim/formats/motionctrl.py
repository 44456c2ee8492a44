"""MotionCtrl camera poses: JSON ``[T][12]``, row-major 3x4 world-to-camera relative to frame 0.

``R_rel = R_i R_0^T``, ``t_rel = t_i - R_rel t_0``, i.e. ``w2c_i @ c2w_0`` (OpenCV axes, metres), so the
first pose is the identity. The file holds no intrinsics and no timestamps: reading takes ``image_size`` with
``hfov_deg`` or a pixel ``K``, and ``rate_hz`` (timestamps ``round(i * 1e6 / rate_hz)`` µs); the defaults are the
clip spec's (:mod:`ct1_sim.clip_spec`: 448x256 px, 64 deg, 5 Hz).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from ct1_sim.atomic_files import write_text_atomic
from ct1_sim.clip_spec import HFOV_DEG, IMAGE_SIZE, RATE_HZ
from ct1_sim.formats._text import (
    JsonFieldError,
    check_rate,
    index_timestamps,
    json_numbers,
    line_of,
    load_json,
    w2c_rows,
    w2c_rows_to_c2w,
)
from ct1_sim.formats.errors import TrajectoryFormatError
from ct1_sim.geometry import (
    CameraTrajectory,
    check_image_size,
    check_intrinsics,
    intrinsics_from_fov,
    invert_rigid,
)

log = logging.getLogger(__name__)

EXPECTED = (
    "a MotionCtrl JSON list of poses, each 12 numbers (row-major 3x4 world-to-camera relative to frame 0)"
)


def read_motionctrl(
    path: str | Path,
    image_size: tuple[int, int] | None = None,
    rate_hz: float | None = None,
    hfov_deg: float | None = None,
    K: np.ndarray | None = None,
) -> CameraTrajectory:
    """Read MotionCtrl poses as a trajectory relative to its first camera (first ``c2w`` is the identity).

    ``K`` (pixels, for ``image_size``) wins over ``hfov_deg`` when given.
    """
    path = Path(path)
    rate = check_rate(RATE_HZ if rate_hz is None else rate_hz)
    data, text = load_json(path, EXPECTED)
    try:
        rows = json_numbers(data, (None, 12), (), EXPECTED)
    except JsonFieldError as err:
        raise TrajectoryFormatError(
            path, str(err), f"expected {EXPECTED}", line=line_of(text, err.key)
        ) from None
    c2w = w2c_rows_to_c2w(path, rows, lambda i: line_of(text, (i,)))
    if not np.allclose(c2w[0], np.eye(4), atol=1e-6):
        log.warning(
            "%s: the first MotionCtrl pose is not the identity; re-expressing poses relative to it", path
        )
    c2w = invert_rigid(c2w[0]) @ c2w  # exactly relative to the first camera
    c2w[0] = np.eye(4)
    size = check_image_size(IMAGE_SIZE if image_size is None else image_size)
    if K is None:
        hfov = HFOV_DEG if hfov_deg is None else hfov_deg
        if image_size is None or hfov_deg is None:
            log.info(
                "%s: MotionCtrl files hold no intrinsics; using %dx%d px, %g deg horizontal FOV",
                path,
                *size,
                hfov,
            )
        K = intrinsics_from_fov(size[0], size[1], hfov)
    return CameraTrajectory(
        c2w=c2w,
        K=check_intrinsics(K),
        image_size=size,
        timestamps_us=index_timestamps(np.arange(len(c2w)), rate),
    )


def write_motionctrl(traj: CameraTrajectory, path: str | Path) -> None:
    """Write MotionCtrl poses atomically, one pose per line, relative to the first camera
    (intrinsics, image size and timestamps are not stored)."""
    rel = invert_rigid(traj.c2w[0]) @ traj.c2w  # inverse of w2c_i @ c2w_0
    rel[0] = np.eye(4)
    rows = [json.dumps([float(v) for v in row]) for row in w2c_rows(rel)]
    write_text_atomic(path, "[\n " + ",\n ".join(rows) + "\n]\n")
