"""The clip spec and the input limits: the one place these numbers are written.

A clip is :data:`NUM_POSES` camera poses at :data:`RATE_HZ` (16 at 5 Hz: the current pose, then 3 s of future),
seen by a front camera with :data:`IMAGE_SIZE` frames and :data:`HFOV_DEG` horizontal field of view. The
scenario renderer's ``ClipSpec`` (``ct1_sim.data.scenarios``) starts from these values, pose-file readers assume
them for files that do not say, and the trajectory model is trained on them.

The limits are what every entry point (Python API, CLI, HTTP service, ROS bridge, replay) accepts.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

#: Poses per clip: the current one first, then the future ones.
NUM_POSES = 16
#: Pose rate (Hz): 16 poses span (16 - 1) / 5 = 3 s.
RATE_HZ = 5.0
#: Frame size ``(W, H)`` in pixels.
IMAGE_SIZE = (448, 256)
#: Horizontal field of view of the front camera (degrees), nuScenes-like.
HFOV_DEG = 64.0

#: Ego speeds accepted as input, ``(low, high)`` in m/s: standing still to 70 m/s (252 km/h).
SPEED_RANGE_MPS = (0.0, 70.0)
#: Most trajectories K one query may ask for. 256 keeps one query to one DiT batch of 256 x 16 poses (well under a
#: second on a CPU with ct1-tiny) and covers minADE@K curves, which flatten long before it.
MAX_NUM_SAMPLES = 256
#: Farthest a camera path may go from its first pose (m) for a rendered rollout: beyond it a path is taken to be in
#: the wrong units (mm, feet) rather than a drive.
MAX_PATH_REACH_M = 5000.0


def check_speed_mps(speed: float | None, name: str = "speed") -> float | None:
    """``speed`` (m/s) as a float when it is finite and in :data:`SPEED_RANGE_MPS`, None when None; else ``ValueError``."""
    if speed is None:
        return None
    low, high = SPEED_RANGE_MPS
    if isinstance(speed, bool) or not isinstance(speed, Real) or not math.isfinite(speed) or not low <= speed <= high:
        raise ValueError(f"{name} must be a finite ego speed in [{low:g}, {high:g}] m/s, got {speed!r}")
    return float(speed)


def check_num_samples(num_samples: int, name: str = "num_samples") -> int:
    """``num_samples`` when it is a whole number in ``[1, MAX_NUM_SAMPLES]``; else ``ValueError``."""
    if isinstance(num_samples, bool) or not isinstance(num_samples, Integral) or not 1 <= num_samples <= MAX_NUM_SAMPLES:
        raise ValueError(f"{name} must be a whole number in [1, {MAX_NUM_SAMPLES}], got {num_samples!r}")
    return int(num_samples)
