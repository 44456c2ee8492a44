"""Camera-control metrics of generated video after CamI2V: RotErr (rad), TransErr and CamMC (unitless).

Definitions (sums over all frames ``j``, frame 0 included; it contributes 0):

- both paths are camera-to-world ``[R|t]`` (OpenCV axes) made relative to their own first pose,
  ``inv(c2w_0) @ c2w_j``;
- ``RotErr = sum_j arccos((tr(R_gt_j^T R_gen_j) - 1) / 2)``;
- ``TransErr = sum_j |t_gt_j - t_gen_j|`` after dividing each path's translations by that path's own
  largest ``|t_j|`` (a camera path estimated from video is known only up to scale);
- ``CamMC = sum_j |[R|t]_gen_j - [R|t]_gt_j|_F`` over the 12 entries, with the same scale-normalised
  translations.

Checked against CamI2V's evaluation code (github.com/ZGCTroy/CamI2V, commit c5d7b2f,
``evaluation/glomap_evaluation.py`` with helpers in ``evaluation/utils/common.py``):

- camera-to-world: ground-truth RealEstate10K world-to-camera rows and the GLOMAP/COLMAP estimates are both
  inverted to ``c2w`` and made relative with ``inv(c2w_0) @ c2w_j`` (their ``relative_pose(..., "left")``);
- RotErr takes the ground truth as the first argument, ``R_gt^T R_gen``, clamps the cosine to [-1, 1], and
  sums over all frames;
- the published TransErr and CamMC are their ``*_rel`` variants: each path's translations divided by its
  own ``max_j |t_j|`` (plus 1e-9), and CamMC is computed on those normalised ``[R|t]``. (Their ``*_abs``
  variants normalise both paths by the ground truth's scale after metric-depth alignment; not offered here.)

We guard a path with no translation by leaving it unscaled instead of adding an epsilon; the results agree
otherwise. Published 16-frame 256x256 RealEstate10K references (RotErr / TransErr / CamMC): CameraCtrl
0.71 / 1.89 / 2.26, MotionCtrl 0.86 / 2.51 / 2.95, CamI2V 0.48 / 1.50 / 1.72.
"""

from __future__ import annotations

import numpy as np

from ct1_sim.geometry import geodesic_angle
from ct1_sim.metrics._inputs import TrajectoryLike, pair

#: A path whose largest translation is below this (in its own units) is left unscaled.
ZERO_TRANSLATION = 1e-12


def _unit_scale(c2w: np.ndarray) -> np.ndarray:
    """Translations divided by the path's largest ``|t|`` (unchanged for a path that does not move)."""
    out = c2w.copy()
    scale = np.linalg.norm(out[:, :3, 3], axis=-1).max()
    if scale > ZERO_TRANSLATION:
        out[:, :3, 3] /= scale
    return out


def rot_err(gen: TrajectoryLike, gt: TrajectoryLike) -> float:
    """RotErr (rad): ``sum_j arccos((tr(R_gt^T R_gen) - 1) / 2)`` over relative camera-to-world rotations."""
    a, b = pair(gen, gt)
    return float(geodesic_angle(b[:, :3, :3], a[:, :3, :3]).sum())


def trans_err(gen: TrajectoryLike, gt: TrajectoryLike) -> float:
    """TransErr (unitless): ``sum_j |t_gt - t_gen|`` of relative camera centres, each path divided by its own
    largest ``|t|`` (so scaling either path changes nothing)."""
    a, b = pair(gen, gt)
    a, b = _unit_scale(a), _unit_scale(b)
    return float(np.linalg.norm(a[:, :3, 3] - b[:, :3, 3], axis=-1).sum())


def cam_mc(gen: TrajectoryLike, gt: TrajectoryLike) -> float:
    """CamMC (unitless): ``sum_j |[R|t]_gen - [R|t]_gt|_F`` over the 12 entries of the relative
    camera-to-world poses, translations scale-normalised per path as in :func:`trans_err`."""
    a, b = pair(gen, gt)
    a, b = _unit_scale(a), _unit_scale(b)
    diff = (a[:, :3, :] - b[:, :3, :]).reshape(len(a), 12)  # (T,12)
    return float(np.linalg.norm(diff, axis=-1).sum())
