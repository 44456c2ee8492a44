"""The clip spec and the input limits: the one place these numbers are written.

A clip is :data:`NUM_POSES` camera poses at :data:`RATE_HZ` (16 at 5 Hz: the current pose, then 3 s of future),
seen by a front camera with :data:`IMAGE_SIZE` frames and :data:`HFOV_DEG` horizontal field of view, mounted
:data:`CAMERA_HEIGHT_M` above the road and pitched :data:`CAMERA_PITCH_DEG` down. :class:`ClipSpec` holds one such
set of settings (a scenario spec's ``clip:`` block overrides its fields; :data:`CLIP_SPEC` is the default one);
pose-file readers assume these values for files that do not say, and the trajectory model is trained on them.

The limits are what every entry point (Python API, CLI, HTTP service, ROS bridge, replay) accepts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

#: Poses per clip: the current one first, then the future ones.
NUM_POSES = 16
#: Pose rate (Hz): 16 poses span (16 - 1) / 5 = 3 s.
RATE_HZ = 5.0
#: Frame size ``(W, H)`` in pixels.
IMAGE_SIZE = (448, 256)
#: Horizontal field of view of the front camera (degrees), nuScenes-like.
HFOV_DEG = 64.0
#: Height of the front camera above the road (m) in rendered scenarios.
CAMERA_HEIGHT_M = 1.5
#: Downward pitch of the front camera (degrees) in rendered scenarios: looking slightly down.
CAMERA_PITCH_DEG = 2.0

#: Ego speeds accepted as input, ``(low, high)`` in m/s: standing still to 70 m/s (252 km/h).
SPEED_RANGE_MPS = (0.0, 70.0)
#: Most trajectories K one query may ask for. 256 keeps one query to one DiT batch of 256 x 16 poses (well under a
#: second on a CPU with ct1-tiny) and covers minADE@K curves, which flatten long before it.
MAX_NUM_SAMPLES = 256
#: Farthest a camera path may go from its first pose (m) for a rendered rollout: beyond it a path is taken to be in
#: the wrong units (mm, feet) rather than a drive.
MAX_PATH_REACH_M = 5000.0


def pose_timestamps_us(num_poses: int, rate_hz: float, start_us: int = 0) -> np.ndarray:
    """``(T,)`` int64 times (µs) of ``num_poses`` poses at ``rate_hz`` from ``start_us``: ``start + round(i * 1e6 /
    rate_hz)``, each pose rounded on its own (no cumulated rounding error)."""
    return start_us + np.round(np.arange(num_poses) * 1e6 / rate_hz).astype(np.int64)


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


@dataclass(frozen=True)
class ClipSpec:
    """One clip's settings: ``num_poses`` at ``rate_hz``, ``width x height`` px frames with ``hfov_deg`` horizontal
    FOV, the camera ``camera_height_m`` above the road and pitched ``camera_pitch_deg`` down. Defaults: the clip
    spec above. Bad values raise ``ValueError`` naming the field and the allowed range."""

    num_poses: int = NUM_POSES
    rate_hz: float = RATE_HZ
    width: int = IMAGE_SIZE[0]
    height: int = IMAGE_SIZE[1]
    hfov_deg: float = HFOV_DEG
    camera_height_m: float = CAMERA_HEIGHT_M
    camera_pitch_deg: float = CAMERA_PITCH_DEG

    def __post_init__(self) -> None:
        for name in ("num_poses", "width", "height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"clip {name} must be a whole number, got {value!r}")
        for name in ("rate_hz", "hfov_deg", "camera_height_m"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"clip {name} must be a finite number, got {value!r}")
        checks = (("num_poses", 2 <= self.num_poses <= 1000, "2-1000"), ("rate_hz", 0 < self.rate_hz <= 100, "(0, 100] Hz"),
                  ("width", 16 <= self.width <= 4096, "16-4096 px"), ("height", 16 <= self.height <= 4096, "16-4096 px"),
                  ("hfov_deg", 10 < self.hfov_deg < 150, "(10, 150) degrees"))
        for name, ok, allowed in checks:
            if not ok:
                raise ValueError(f"clip {name} is {getattr(self, name)!r}; it must be in {allowed}")

    @property
    def image_size(self) -> tuple[int, int]:
        """``(W, H)`` in pixels."""
        return (self.width, self.height)

    @property
    def K(self) -> np.ndarray:
        """Exact square-pixel intrinsics ``(3,3)`` of the ``hfov_deg`` camera, principal point at the image centre.

        The pinhole of :func:`ct1_sim.geometry.intrinsics_from_fov` (the ground may not import ``geometry``; a test
        holds the two equal)."""
        f = 0.5 * self.width / math.tan(math.radians(self.hfov_deg) / 2.0)
        return np.array([[f, 0.0, self.width / 2.0], [0.0, f, self.height / 2.0], [0.0, 0.0, 1.0]])

    @property
    def duration_s(self) -> float:
        """Time from the first pose to the last (s)."""
        return (self.num_poses - 1) / self.rate_hz

    def timestamps_us(self, start_us: int = 0) -> np.ndarray:
        """``(num_poses,)`` int64 pose times (µs) from ``start_us``: :func:`pose_timestamps_us`."""
        return pose_timestamps_us(self.num_poses, self.rate_hz, start_us)


#: The default clip spec: 16 poses at 5 Hz (0-3 s), 448x256, 64 deg HFOV, camera 1.5 m up, pitched 2 deg down.
CLIP_SPEC = ClipSpec()
