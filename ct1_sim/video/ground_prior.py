"""The ground-plane depth prior a known camera height gives (a level camera over flat ground)."""

from __future__ import annotations

import torch

from ct1_sim.video.warp import pixel_rays


def ground_plane_depth(K: torch.Tensor, height: int, width: int, camera_height_m: float, max_depth_m: float) -> torch.Tensor:
    """Depth ``(H,W)`` (m along the optical axis) of the ground plane ``camera_height_m`` below a level camera.

    A ray through pixel row ``v`` below the principal point hits the ground at ``z = h * fy / (v + 0.5 - cy)``;
    rows at or above the horizon get ``max_depth_m``.
    """
    ray_y = pixel_rays(K, height, width)[1]  # y/z of each ray (down is +)
    depth = torch.where(ray_y > 1e-6, camera_height_m / ray_y.clamp_min(1e-6), torch.full_like(ray_y, max_depth_m))
    return depth.clamp(max=max_depth_m)
