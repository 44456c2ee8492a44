"""Relative camera paths <-> pose tokens (translation in metres + 6D rotation)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ct1_sim.clip_spec import HFOV_DEG, pose_timestamps_us
from ct1_sim.geometry import (
    CameraTrajectory,
    intrinsics_from_fov,
    invert_rigid,
    matrix_to_rot6d,
    rot6d_to_matrix,
)


def trajectory_to_tokens(trajectory: CameraTrajectory) -> np.ndarray:
    """``(T,9)`` float32 tokens of the path relative to its first camera: ``[t_x, t_y, t_z, r6d]``."""
    rel = trajectory.relative_to_first().c2w
    return np.concatenate([rel[:, :3, 3], matrix_to_rot6d(rel[:, :3, :3])], axis=-1).astype(np.float32)


def tokens_to_c2w(tokens: torch.Tensor | np.ndarray) -> np.ndarray:
    """``(...,T,9)`` tokens -> ``(...,T,4,4)`` float64 camera-to-world, re-anchored so pose 0 is exactly identity.

    In numpy (the model's output is read here once per query: a few dozen small torch ops cost ~0.3 ms, numpy's
    a third of that)."""
    t = tokens.detach().cpu().double().numpy() if isinstance(tokens, torch.Tensor) else np.asarray(tokens, np.float64)
    c2w = np.zeros((*t.shape[:-1], 4, 4))
    c2w[..., :3, :3] = rot6d_to_matrix(t[..., 3:])
    c2w[..., :3, 3] = t[..., :3]
    c2w[..., 3, 3] = 1.0
    return invert_rigid(c2w[..., :1, :, :]) @ c2w


def mirror_tokens(tokens: np.ndarray) -> np.ndarray:
    """Tokens of the left-right mirrored path (image flipped horizontally): ``M c2w M`` with M = diag(-1,1,1)."""
    out = tokens.copy()
    out[..., 0] *= -1  # translation x
    # R' = M R M: entries (0,1),(0,2),(1,0),(2,0) flip sign; r6d = [R[:,0], R[:,1]]
    out[..., 4] *= -1  # R[1,0]
    out[..., 5] *= -1  # R[2,0]
    out[..., 6] *= -1  # R[0,1]
    return out


def tokens_to_trajectories(
    tokens: torch.Tensor, image_sizes: Sequence[tuple[int, int]], rate_hz: float, hfov_deg: float = HFOV_DEG
) -> list[list[CameraTrajectory]]:
    """Model output tokens ``(B,K,T,9)`` -> for each of the B queries its K ``CameraTrajectory`` (relative to the
    current camera, OpenCV axes, metres) at :func:`~ct1_sim.clip_spec.pose_timestamps_us`, with pixel intrinsics of a ``hfov_deg``
    camera at that query's ``image_sizes[b] = (W, H)``."""
    if tokens.ndim != 4 or len(image_sizes) != tokens.shape[0]:
        raise ValueError(f"need tokens (B,K,T,9) and one image size per query; got {tuple(tokens.shape)} and {len(image_sizes)} sizes")
    c2w = tokens_to_c2w(tokens)  # (B,K,T,4,4)
    timestamps = pose_timestamps_us(tokens.shape[2], rate_hz)
    return [CameraTrajectory.many(c2w[b], intrinsics_from_fov(w, h, hfov_deg), (w, h), timestamps)
            for b, (w, h) in enumerate(image_sizes)]
