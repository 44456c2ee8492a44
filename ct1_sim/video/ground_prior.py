"""The ground-plane depth prior a known camera mount (height, pitch) gives over flat ground."""

from __future__ import annotations

import math

import torch

from ct1_sim.video.warp import pixel_rays


def ground_plane_depth(
    K: torch.Tensor, height: int, width: int, camera_height_m: float, max_depth_m: float, pitch_deg: float = 0.0
) -> torch.Tensor:
    """Depth ``(H,W)`` (m along the optical axis) of flat ground ``camera_height_m`` below a camera pitched down by
    ``pitch_deg`` (no roll).

    The ray ``(x, y, 1)`` through a pixel descends ``y cos(p) + sin(p)`` metres per metre of depth, so it meets the
    ground at ``z = h / (y cos(p) + sin(p))``; rays at or above the horizon get ``max_depth_m``.
    """
    ray_y = pixel_rays(K, height, width)[1]  # y/z of each ray (down is +)
    p = math.radians(pitch_deg)
    descent = ray_y * math.cos(p) + math.sin(p)
    depth = torch.where(descent > 1e-6, camera_height_m / descent.clamp_min(1e-6), torch.full_like(ray_y, max_depth_m))
    return depth.clamp(max=max_depth_m)
