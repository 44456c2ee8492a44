"""Image-blind trajectory baselines, each given the instructed maneuver and the current speed.

(a) ``library``: K paths drawn from the training set's paths of the instructed maneuver, scaled to the speed;
(b) ``mean``: the single mean path of that maneuver (scaled to the speed);
(c) ``constant_velocity``: straight ahead at the current speed.
Paths are relative to the current camera (OpenCV, metres); speed scaling multiplies translations by
``speed / speed_of_that_training_clip`` (rotations unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ct1_sim.geometry import matrix_to_rot6d, rot6d_to_matrix


def _c2w_from(translation: np.ndarray, R: np.ndarray) -> np.ndarray:
    c2w = np.tile(np.eye(4), translation.shape[:-1] + (1, 1))
    c2w[..., :3, :3] = R
    c2w[..., :3, 3] = translation
    return c2w


@dataclass
class ManeuverLibrary:
    """Training paths grouped by maneuver, each stored per metre-per-second of its starting speed."""

    unit_paths: dict[str, list[np.ndarray]] = field(default_factory=dict)  # maneuver -> [(T,4,4) per unit speed]

    def add(self, maneuver: str, rel_c2w: np.ndarray, speed_mps: float) -> None:
        if speed_mps < 0.5:  # a path from standstill says nothing about how far to go per m/s
            return
        unit = rel_c2w.copy()
        unit[:, :3, 3] /= speed_mps
        self.unit_paths.setdefault(maneuver, []).append(unit)

    def _paths(self, maneuver: str) -> list[np.ndarray]:
        paths = self.unit_paths.get(maneuver) or [p for ps in self.unit_paths.values() for p in ps]
        if not paths:
            raise ValueError("the maneuver library is empty: build it from a training split with clips")
        return paths

    def sample(self, maneuver: str, speed_mps: float, k: int, rng: np.random.Generator) -> np.ndarray:
        """(a) ``(K,T,4,4)`` random training paths of ``maneuver`` scaled to ``speed_mps``."""
        paths = self._paths(maneuver)
        picks = rng.integers(0, len(paths), size=k)
        out = np.stack([paths[i] for i in picks]).copy()
        out[..., :3, 3] *= speed_mps
        return out

    def mean(self, maneuver: str, speed_mps: float) -> np.ndarray:
        """(b) ``(T,4,4)`` mean path of ``maneuver`` (mean translation, mean 6D rotation re-orthonormalised)."""
        paths = np.stack(self._paths(maneuver))
        translation = paths[:, :, :3, 3].mean(0) * speed_mps
        R = rot6d_to_matrix(matrix_to_rot6d(paths[:, :, :3, :3]).mean(0))
        return _c2w_from(translation, R)


def constant_velocity(speed_mps: float, num_poses: int, rate_hz: float) -> np.ndarray:
    """(c) ``(T,4,4)`` straight ahead (+z) at ``speed_mps``."""
    t = np.arange(num_poses) / rate_hz
    translation = np.zeros((num_poses, 3))
    translation[:, 2] = speed_mps * t
    return _c2w_from(translation, np.broadcast_to(np.eye(3), (num_poses, 3, 3)))
