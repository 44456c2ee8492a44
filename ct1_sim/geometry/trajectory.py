"""``CameraTrajectory``: a timed sequence of camera poses with intrinsics — the currency of ct1-sim."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ct1_sim.clip_spec import pose_timestamps_us
from ct1_sim.geometry.intrinsics import scale_intrinsics
from ct1_sim.geometry.plucker import plucker_embedding
from ct1_sim.geometry.rotations import slerp_rotations
from ct1_sim.geometry.validation import check_image_size, check_intrinsics, check_poses, check_timestamps


def invert_rigid(T: np.ndarray) -> np.ndarray:
    """Inverse of rigid transforms ``(...,4,4)`` using ``R^T`` (exact for rotations)."""
    T = np.asarray(T, dtype=np.float64)
    R_t = np.swapaxes(T[..., :3, :3], -1, -2)
    out = np.zeros_like(T)
    out[..., :3, :3] = R_t
    out[..., :3, 3] = -np.einsum("...ij,...j->...i", R_t, T[..., :3, 3])
    out[..., 3, 3] = 1.0
    return out


@dataclass(frozen=True, eq=False)
class CameraTrajectory:
    """Camera poses over time.

    Attributes:
        c2w: ``(T,4,4)`` camera-to-world rigid transforms, OpenCV camera axes (x right, y down,
            z forward), metres.
        K: ``(3,3)`` pixel intrinsics for an image of ``image_size``.
        image_size: ``(W, H)`` in pixels.
        timestamps_us: ``(T,)`` int64 microseconds, strictly increasing.

    All inputs are validated on construction (``ValueError`` naming the problem) and stored as
    read-only arrays.
    """

    c2w: np.ndarray
    K: np.ndarray
    image_size: tuple[int, int]
    timestamps_us: np.ndarray

    def __post_init__(self) -> None:
        c2w = check_poses(self.c2w)
        self._set_checked(c2w, check_intrinsics(self.K), check_image_size(self.image_size), check_timestamps(self.timestamps_us, len(c2w)))

    def _set_checked(self, c2w: np.ndarray, K: np.ndarray, size: tuple[int, int], ts: np.ndarray) -> None:
        """Store already validated fields, read-only."""
        for arr in (c2w, K, ts):
            arr.flags.writeable = False
        for name, value in (("c2w", c2w), ("K", K), ("image_size", size), ("timestamps_us", ts)):
            object.__setattr__(self, name, value)

    @classmethod
    def many(cls, c2w: np.ndarray, K: np.ndarray, image_size: tuple[int, int], timestamps_us: np.ndarray) -> list[CameraTrajectory]:
        """``N`` trajectories from poses ``(N,T,4,4)`` sharing ``K``, ``image_size`` and ``timestamps_us``, validated
        in one vectorised pass (constructing them one by one validates N times: ~1 ms per query of 8 samples)."""
        c2w = np.asarray(c2w, dtype=np.float64)
        if c2w.ndim != 4 or c2w.shape[2:] != (4, 4):
            raise ValueError(f"c2w must have shape (N,T,4,4), got {c2w.shape}")
        n, t = c2w.shape[:2]
        poses = check_poses(c2w.reshape(n * t, 4, 4)).reshape(n, t, 4, 4)
        K, size, ts = check_intrinsics(K), check_image_size(image_size), check_timestamps(timestamps_us, t)
        out = []
        for i in range(n):
            traj = object.__new__(cls)  # validated above, for all N at once
            traj._set_checked(poses[i], K, size, ts)
            out.append(traj)
        return out

    # ----------------------------------------------------------------- basic views
    def __len__(self) -> int:
        return int(self.c2w.shape[0])

    def __repr__(self) -> str:
        dur = (self.timestamps_us[-1] - self.timestamps_us[0]) / 1e6
        return f"CameraTrajectory(T={len(self)}, image_size={self.image_size}, duration={dur:.3f}s)"

    @property
    def positions(self) -> np.ndarray:
        """Camera centres ``(T,3)`` in world coordinates (m)."""
        return self.c2w[:, :3, 3]

    @property
    def rotations(self) -> np.ndarray:
        """Camera-to-world rotations ``(T,3,3)``."""
        return self.c2w[:, :3, :3]

    @property
    def w2c(self) -> np.ndarray:
        """World-to-camera transforms ``(T,4,4)``."""
        return invert_rigid(self.c2w)

    @property
    def times_s(self) -> np.ndarray:
        """Seconds since the first pose ``(T,)``."""
        return (self.timestamps_us - self.timestamps_us[0]) / 1e6

    def replace(self, **changes: object) -> CameraTrajectory:
        """A copy with some fields changed (validated again)."""
        fields = dict(c2w=self.c2w, K=self.K, image_size=self.image_size, timestamps_us=self.timestamps_us)
        fields.update(changes)
        return CameraTrajectory(**fields)  # type: ignore[arg-type]

    def allclose(self, other: CameraTrajectory, atol: float = 1e-6) -> bool:
        """True when poses and intrinsics agree within ``atol`` and sizes and timestamps are equal."""
        return (
            self.image_size == other.image_size
            and np.array_equal(self.timestamps_us, other.timestamps_us)
            and np.allclose(self.c2w, other.c2w, atol=atol)
            and np.allclose(self.K, other.K, atol=atol)
        )

    # ----------------------------------------------------------------- transforms
    def relative_to_first(self) -> CameraTrajectory:
        """Poses relative to the first camera: ``c2w'_i = inv(c2w_0) @ c2w_i`` (the first becomes identity)."""
        return self.replace(c2w=invert_rigid(self.c2w[0]) @ self.c2w)

    def transformed(self, world_from_old: np.ndarray) -> CameraTrajectory:
        """Poses re-expressed in a new world frame: ``c2w'_i = world_from_old @ c2w_i``."""
        return self.replace(c2w=np.asarray(world_from_old, dtype=np.float64) @ self.c2w)

    def with_image_size(self, width: int, height: int) -> CameraTrajectory:
        """The same cameras for a resized image: ``K`` scaled from ``image_size`` to ``(width, height)``."""
        return self.replace(K=scale_intrinsics(self.K, self.image_size, (width, height)), image_size=(width, height))

    def resample(self, timestamps_us: np.ndarray) -> CameraTrajectory:
        """Poses at new timestamps (µs) inside the current time span: linear translation, SLERP rotation."""
        query = check_timestamps(np.asarray(timestamps_us), len(np.asarray(timestamps_us)), "timestamps_us")
        t0, t1 = self.timestamps_us[0], self.timestamps_us[-1]
        if query[0] < t0 or query[-1] > t1:
            raise ValueError(
                f"cannot extrapolate: requested {query[0]}..{query[-1]} us but the trajectory spans {t0}..{t1} us"
            )
        if len(self) == 1:
            c2w = np.repeat(self.c2w, len(query), axis=0)
        else:
            c2w = np.tile(np.eye(4), (len(query), 1, 1))
            src_t = self.timestamps_us.astype(np.float64)
            q = query.astype(np.float64)
            c2w[:, :3, :3] = slerp_rotations(src_t, self.rotations, q)
            for axis in range(3):
                c2w[:, axis, 3] = np.interp(q, src_t, self.positions[:, axis])
        return self.replace(c2w=c2w, timestamps_us=query)

    def resample_uniform(self, num_poses: int, rate_hz: float) -> CameraTrajectory:
        """``num_poses`` poses at ``rate_hz`` starting at the first timestamp (e.g. 16 poses at 5 Hz)."""
        return self.resample(pose_timestamps_us(num_poses, rate_hz, self.timestamps_us[0]))

    def densify(self, factor: int) -> CameraTrajectory:
        """Insert ``factor - 1`` interpolated poses between consecutive ones: ``T -> (T-1)*factor + 1``."""
        if int(factor) != factor or factor < 1:
            raise ValueError(f"densify factor must be a positive integer, got {factor}")
        if factor == 1 or len(self) == 1:
            return self
        ts = self.timestamps_us.astype(np.float64)
        fine = np.concatenate(
            [np.linspace(a, b, int(factor), endpoint=False) for a, b in itertools.pairwise(ts)]
            + [ts[-1:]]
        )
        fine_us = np.round(fine).astype(np.int64)
        if np.any(np.diff(fine_us) <= 0):
            raise ValueError(f"timestamps are too close to densify by {factor} at microsecond resolution")
        return self.resample(fine_us)

    # ----------------------------------------------------------------- conditioning
    def plucker(self, height: int, width: int) -> np.ndarray:
        """Plücker embedding ``(T,6,height,width)`` float32 (see :func:`plucker_embedding`)."""
        return plucker_embedding(self.c2w, self.K, self.image_size, height, width)
