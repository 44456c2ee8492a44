"""The rollout's 3D memory (after GEN3C): a coloured point cloud of everything shown or generated so far.

Points live in the first camera's frame (OpenCV axes, metres). It starts as frame 0 lifted with its depth; after each
generated chunk, only the pixels the cache could not render in the chunk's last frame (its holes, now generated) are
lifted with that frame's estimated depth and added, so content seen once is rendered the same when it is seen again
and the cloud grows only by new content. Points far behind the newest camera are dropped to bound the cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ct1_sim.video.warp import WarpResult, pixel_footprint_m, pixel_rays, splat_points

#: Points farther than this behind the newest camera (m along its optical axis) are dropped.
BEHIND_LIMIT_M = 5.0
#: A pixel whose :data:`EDGE_WINDOW_PX` neighbourhood spans more than this depth ratio sits on a depth edge, where a
#: depth network blends the two surfaces: such "flying pixels" would smear between them when seen from elsewhere, so
#: each is snapped to the nearer (in log depth) of its neighbourhood's nearest and farthest depths. The road keeps its
#: depth out to ~f h (ratio - 1) / (window - 1) metres (f: focal length in pixels, h: camera height).
DEPTH_EDGE_RATIO = 2.0
EDGE_WINDOW_PX = 7


def snap_depth_edges(depth: torch.Tensor, ratio: float = DEPTH_EDGE_RATIO, window: int = EDGE_WINDOW_PX) -> torch.Tensor:
    """``depth (H,W)`` (m) with every depth-edge pixel moved to the nearer side of its edge (see above)."""
    d = depth.clamp_min(1e-3)[None, None]
    hi = torch.nn.functional.max_pool2d(d, window, stride=1, padding=window // 2)[0, 0]
    lo = -torch.nn.functional.max_pool2d(-d, window, stride=1, padding=window // 2)[0, 0]
    d = d[0, 0]
    edge = hi > ratio * lo
    to_lo = (d.log() - lo.log()).abs() <= (hi.log() - d.log()).abs()
    return torch.where(edge, torch.where(to_lo, lo, hi), depth)


@dataclass
class PointCache:
    """``points (3,P)`` in the first camera's frame, ``colours (3,P)`` in [0,1], ``sizes (P,)`` the side (m) of the
    surface patch each point stands for; ``K`` the pixel intrinsics of ``size (W,H)``."""

    K: torch.Tensor
    size: tuple[int, int]
    points: torch.Tensor = field(default_factory=lambda: torch.zeros(3, 0))
    colours: torch.Tensor = field(default_factory=lambda: torch.zeros(3, 0))
    sizes: torch.Tensor = field(default_factory=lambda: torch.zeros(0))

    def add_frame(self, image: torch.Tensor, depth: torch.Tensor, c2w_rel: torch.Tensor, where: torch.Tensor | None = None) -> int:
        """Lift ``image (3,H,W)`` with ``depth (H,W)`` (m, this camera's z) seen from camera ``c2w_rel (4,4)``
        (relative to the first camera) and add the pixels where ``where (H,W)`` is true (all when None), except
        after snapping depth edges (:func:`snap_depth_edges`). Returns the number of points added."""
        w, h = self.size
        depth = snap_depth_edges(depth.to(torch.float32))
        pts = pixel_rays(self.K.to(torch.float32), h, w).reshape(3, -1) * depth.reshape(1, -1).to(torch.float32)
        cols = image.reshape(3, -1).to(torch.float32)
        sizes = pixel_footprint_m(depth.reshape(-1).to(torch.float32), self.K.to(torch.float32))
        if where is not None:
            keep = where.reshape(-1)
            pts, cols, sizes = pts[:, keep], cols[:, keep], sizes[keep]
        c2w = c2w_rel.to(torch.float32)
        world = c2w[:3, :3] @ pts + c2w[:3, 3:]
        self.points = torch.cat([self.points.to(world), world], dim=1)
        self.colours = torch.cat([self.colours.to(cols), cols], dim=1)
        self.sizes = torch.cat([self.sizes.to(sizes), sizes])
        return int(pts.shape[1])

    def render(self, c2w_rel: torch.Tensor) -> WarpResult:
        """The cache seen from cameras ``c2w_rel (N,4,4)`` (relative to the first camera): frames ``(N,3,H,W)`` in
        [0,1], mask, depth."""
        w, h = self.size
        return splat_points(self.points, self.colours, self.K, torch.linalg.inv(c2w_rel.to(torch.float32)), h, w,
                            sizes_m=self.sizes)

    def prune(self, newest_c2w_rel: torch.Tensor) -> int:
        """Drop points more than :data:`BEHIND_LIMIT_M` behind the newest camera; returns how many were dropped."""
        tgt = torch.linalg.inv(newest_c2w_rel.to(torch.float32))
        z = (tgt[2:3, :3] @ self.points + tgt[2:3, 3:])[0]
        keep = z > -BEHIND_LIMIT_M
        dropped = int((~keep).sum())
        if dropped:
            self.points, self.colours, self.sizes = self.points[:, keep], self.colours[:, keep], self.sizes[keep]
        return dropped

    def __len__(self) -> int:
        return int(self.points.shape[1])
