"""The clip spec: how many poses at what rate, and the front camera that records them.

:data:`CLIP_SPEC` is the one place the defaults live (16 poses at 5 Hz = 0-3 s, the conditioning frame
first; 448x256 frames, 64 deg horizontal FOV, camera 1.5 m up); a spec's ``clip:`` block overrides them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ct1_sim.geometry import intrinsics_from_fov


@dataclass(frozen=True)
class ClipSpec:
    """Default: 16 poses at 5 Hz (0-3 s), 448x256 frames, 64 deg horizontal FOV, camera 1.5 m above the road."""

    num_poses: int = 16
    rate_hz: float = 5.0
    width: int = 448
    height: int = 256
    hfov_deg: float = 64.0
    camera_height_m: float = 1.5
    camera_pitch_deg: float = 2.0  # looking slightly down

    def __post_init__(self) -> None:
        if self.num_poses < 2 or self.rate_hz <= 0 or self.width < 16 or self.height < 16 or not 10 < self.hfov_deg < 150:
            raise ValueError(f"invalid clip spec {self}")

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
