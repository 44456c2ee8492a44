"""Relative camera paths <-> pose tokens (translation in metres + 6D rotation), in torch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ct1_sim.clip_spec import HFOV_DEG, pose_timestamps_us
from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov, matrix_to_rot6d


def trajectory_to_tokens(trajectory: CameraTrajectory) -> np.ndarray:
    """``(T,9)`` float32 tokens of the path relative to its first camera: ``[t_x, t_y, t_z, r6d]``."""
    rel = trajectory.relative_to_first().c2w
    return np.concatenate([rel[:, :3, 3], matrix_to_rot6d(rel[:, :3, :3])], axis=-1).astype(np.float32)


def rot6d_to_matrix_torch(r6: torch.Tensor) -> torch.Tensor:
    """``(...,6)`` -> rotation matrices ``(...,3,3)`` by Gram-Schmidt (columns), as the numpy version."""
    a1, a2 = r6[..., :3], r6[..., 3:]
    b1 = F.normalize(a1, dim=-1)
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1)
    return torch.stack([b1, b2, torch.cross(b1, b2, dim=-1)], dim=-1)


def tokens_to_c2w(tokens: torch.Tensor) -> torch.Tensor:
    """``(...,T,9)`` tokens -> ``(...,T,4,4)`` camera-to-world, re-anchored so pose 0 is exactly identity."""
    c2w = torch.zeros(*tokens.shape[:-1], 4, 4, dtype=tokens.dtype, device=tokens.device)
    c2w[..., :3, :3] = rot6d_to_matrix_torch(tokens[..., 3:])
    c2w[..., :3, 3] = tokens[..., :3]
    c2w[..., 3, 3] = 1.0
    first = c2w[..., :1, :, :]
    R0_t = first[..., :3, :3].transpose(-1, -2)
    inv0 = torch.zeros_like(first)
    inv0[..., :3, :3] = R0_t
    inv0[..., :3, 3:] = -R0_t @ first[..., :3, 3:]
    inv0[..., 3, 3] = 1.0
    return inv0 @ c2w


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
    c2w = tokens_to_c2w(tokens.detach().double()).cpu().numpy()  # (B,K,T,4,4)
    timestamps = pose_timestamps_us(tokens.shape[2], rate_hz)
    return [CameraTrajectory.many(c2w[b], intrinsics_from_fov(w, h, hfov_deg), (w, h), timestamps)
            for b, (w, h) in enumerate(image_sizes)]
