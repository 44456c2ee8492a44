"""Plücker ray embedding of camera poses, as CameraCtrl computes it (numpy only)."""

from __future__ import annotations

import numpy as np

from ct1_sim.geometry.intrinsics import scale_intrinsics


def plucker_embedding(
    c2w: np.ndarray, K: np.ndarray, image_size: tuple[int, int], height: int, width: int
) -> np.ndarray:
    """Per-pixel Plücker coordinates ``(T,6,height,width)`` float32.

    For each pixel centre ``(u+0.5, v+0.5)`` of the target resolution (``K``, given for ``image_size
    (W,H)``, is scaled to it): ``d_cam = normalize(((u-cx)/fx, (v-cy)/fy, 1))``, world direction
    ``d = R_c2w d_cam``, origin ``o = t_c2w``; channels are ``[o x d, d]``.
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"plucker height and width must be positive, got {height}x{width}")
    c2w = np.asarray(c2w, dtype=np.float64)
    Ks = scale_intrinsics(K, image_size, (width, height))
    fx, fy, cx, cy = Ks[0, 0], Ks[1, 1], Ks[0, 2], Ks[1, 2]
    u = (np.arange(width, dtype=np.float64) + 0.5 - cx) / fx
    v = (np.arange(height, dtype=np.float64) + 0.5 - cy) / fy
    d_cam = np.stack(np.broadcast_arrays(u[None, :], v[:, None], np.ones((1, 1))), axis=-1)  # (H,W,3)
    d_cam /= np.linalg.norm(d_cam, axis=-1, keepdims=True)
    R = c2w[:, :3, :3]  # (T,3,3)
    o = c2w[:, :3, 3]  # (T,3)
    d = np.einsum("tij,hwj->tihw", R, d_cam)  # (T,3,H,W); unit length since R is a rotation
    moment = np.cross(o[:, :, None, None], d, axis=1)  # (T,3,H,W)
    return np.concatenate([moment, d], axis=1).astype(np.float32)
