"""The scenario renderer's clip settings: how many poses at what rate, and the front camera that records them.

The defaults are the clip spec of :mod:`ct1_sim.clip_spec` (16 poses at 5 Hz = 0-3 s, the conditioning frame
first; 448x256 frames, 64 deg horizontal FOV) plus the camera's mounting (1.5 m up, pitched 2 deg down); a
scenario spec's ``clip:`` block overrides them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ct1_sim.clip_spec import HFOV_DEG, IMAGE_SIZE, NUM_POSES, RATE_HZ
from ct1_sim.geometry import intrinsics_from_fov


@dataclass(frozen=True)
class ClipSpec:
    """Defaults: the clip spec (:mod:`ct1_sim.clip_spec`), the camera 1.5 m above the road, pitched 2 deg down."""

    num_poses: int = NUM_POSES
    rate_hz: float = RATE_HZ
    width: int = IMAGE_SIZE[0]
    height: int = IMAGE_SIZE[1]
    hfov_deg: float = HFOV_DEG
    camera_height_m: float = 1.5
    camera_pitch_deg: float = 2.0  # looking slightly down

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
    def K(self) -> np.ndarray:
        """Exact pixel intrinsics ``(3,3)``."""
        return intrinsics_from_fov(self.width, self.height, self.hfov_deg)

    @property
    def duration_s(self) -> float:
        return (self.num_poses - 1) / self.rate_hz

    def timestamps_us(self, start_us: int = 0) -> np.ndarray:
        return start_us + np.round(np.arange(self.num_poses) * 1e6 / self.rate_hz).astype(np.int64)


#: The default clip spec: 16 poses at 5 Hz (0-3 s), 448x256, 64 deg HFOV, camera 1.5 m up, pitched 2 deg down.
CLIP_SPEC = ClipSpec()
