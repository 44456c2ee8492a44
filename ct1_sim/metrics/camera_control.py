"""Camera-control metrics of generated video, after CamI2V (RotErr, TransErr, CamMC).

Both paths are made relative to their first pose and compared as camera-to-world ``[R|t]`` (OpenCV axes).
Translations are scale-normalised per path (divided by that path's largest ``|t|``), because a camera path
estimated from video is known only up to scale; CamMC uses the same normalised translations (our reading of
the architecture page; a path with no translation is left unscaled). Sums run over all frames ``j``.
Published 16-frame 256x256 RealEstate10K references: CameraCtrl 0.71 / 1.89 / 2.26, MotionCtrl 0.86 / 2.51 /
2.95, CamI2V 0.48 / 1.50 / 1.72 (RotErr / TransErr / CamMC).
"""

from __future__ import annotations

import numpy as np

from ct1_sim.geometry import geodesic_angle
from ct1_sim.metrics._inputs import TrajectoryLike, pair


def _unit_scale(c2w: np.ndarray) -> np.ndarray:
    out = c2w.copy()
    scale = np.linalg.norm(out[:, :3, 3], axis=-1).max()
    if scale > 1e-12:
        out[:, :3, 3] /= scale
    return out


def rot_err(gen: TrajectoryLike, gt: TrajectoryLike) -> float:
    """RotErr (rad) = sum_j arccos((tr(R_gt^T R_gen) - 1) / 2)."""
    a, b = pair(gen, gt)
    return float(geodesic_angle(b[:, :3, :3], a[:, :3, :3]).sum())


def trans_err(gen: TrajectoryLike, gt: TrajectoryLike) -> float:
    """TransErr = sum_j |t_gt - t_gen| after dividing each path by its own max |t| (scale-free)."""
    a, b = pair(gen, gt)
    a, b = _unit_scale(a), _unit_scale(b)
    return float(np.linalg.norm(a[:, :3, 3] - b[:, :3, 3], axis=-1).sum())


def cam_mc(gen: TrajectoryLike, gt: TrajectoryLike) -> float:
    """CamMC = sum_j |[R|t]_gen - [R|t]_gt|_F over the 12 entries (translations scale-normalised)."""
    a, b = pair(gen, gt)
    a, b = _unit_scale(a), _unit_scale(b)
    return float(np.linalg.norm((a[:, :3, :] - b[:, :3, :]).reshape(len(a), -1), axis=-1).sum())
