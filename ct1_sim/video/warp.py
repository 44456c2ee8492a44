"""Forward warping of one frame into other cameras: depth unprojection + z-buffered splatting (vectorised torch).

Frames: OpenCV camera axes (x right, y down, z forward), metres. Pixel centres are at ``(u+0.5, v+0.5)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class WarpResult:
    """Warped frames ``(N,3,H,W)`` (same value range as the input), validity mask ``(N,1,H,W)`` in {0,1} and the
    splatted depth ``(N,1,H,W)`` (metres along each target camera's z; 0 where nothing landed)."""

    frames: torch.Tensor
    mask: torch.Tensor
    depth: torch.Tensor


def pixel_rays(K: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Camera-frame rays ``(3,H,W)`` with z = 1 through every pixel centre, for pixel intrinsics ``K (3,3)``."""
    dtype, device = K.dtype, K.device
    u = torch.arange(width, dtype=dtype, device=device) + 0.5
    v = torch.arange(height, dtype=dtype, device=device) + 0.5
    x = (u[None, :] - K[0, 2]) / K[0, 0]
    y = (v[:, None] - K[1, 2]) / K[1, 1]
    return torch.stack([x.expand(height, width), y.expand(height, width), torch.ones(height, width, dtype=dtype, device=device)])


def forward_warp(
    image: torch.Tensor,
    depth: torch.Tensor,
    K: torch.Tensor,
    tgt_from_src: torch.Tensor,
    z_tolerance: float = 0.03,
) -> WarpResult:
    """Splat ``image (3,H,W)`` with ``depth (H,W)`` (m, z in the source camera) into ``N`` target cameras.

    ``tgt_from_src (N,4,4)`` maps source-camera points to target-camera points (``inv(c2w_tgt) @ c2w_src``).
    Each source pixel lands on the 2x2 target pixels around its projection with bilinear weights; a z-buffer keeps
    the nearest surface (contributions within ``z_tolerance`` relative depth of the nearest are blended).
    Pixels nothing lands on get mask 0 and value 0.
    """
    if image.ndim != 3 or depth.shape != image.shape[1:]:
        raise ValueError(f"image must be (3,H,W) and depth (H,W); got {tuple(image.shape)} and {tuple(depth.shape)}")
    c, h, w = image.shape
    K = K.to(torch.float32)
    points = pixel_rays(K, h, w).reshape(3, -1) * depth.reshape(1, -1).to(torch.float32)  # (3,P) source camera, m
    out = splat_points(points, image.reshape(c, -1), K, tgt_from_src, h, w, z_tolerance)
    return WarpResult(out.frames.to(image.dtype) if image.dtype.is_floating_point else out.frames, out.mask, out.depth)


def splat_points(
    points: torch.Tensor,
    colours: torch.Tensor,
    K: torch.Tensor,
    tgt_from_src: torch.Tensor,
    height: int,
    width: int,
    z_tolerance: float = 0.03,
) -> WarpResult:
    """Splat a coloured point cloud ``points (3,P)`` (m, in the source frame), ``colours (C,P)``, into ``N`` target
    cameras ``tgt_from_src (N,4,4)`` of pixel intrinsics ``K`` at ``width x height`` (z-buffered, as
    :func:`forward_warp`)."""
    c = colours.shape[0]
    h, w = height, width
    n = tgt_from_src.shape[0]
    dtype = torch.float32
    K = K.to(dtype)
    pts = points.to(dtype)
    R, t = tgt_from_src[:, :3, :3].to(dtype), tgt_from_src[:, :3, 3:].to(dtype)
    tgt = R @ pts[None] + t  # (N,3,P)
    z = tgt[:, 2]  # (N,P)
    front = z > 1e-3
    zs = z.clamp_min(1e-3)
    px = (K[0, 0] * tgt[:, 0] / zs + K[0, 2]) - 0.5  # continuous pixel index (centre at integer)
    py = (K[1, 1] * tgt[:, 1] / zs + K[1, 2]) - 0.5
    x0, y0 = px.floor(), py.floor()
    fx, fy = px - x0, py - y0
    colours = colours.to(dtype)  # (C,P)
    dummy = n * h * w  # invalid contributions go to one extra bin (no boolean indexing: it is slow on CPU)
    base = (torch.arange(n, device=z.device) * (h * w))[:, None]

    idx, wgt = [], []
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        xi, yi = x0 + dx, y0 + dy
        wk = (fx if dx else 1 - fx) * (fy if dy else 1 - fy)
        ok = front & (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h) & (wk > 1e-4)
        flat = base + yi.clamp(0, h - 1).long() * w + xi.clamp(0, w - 1).long()
        idx.append(torch.where(ok, flat, dummy))
        wgt.append(wk * ok)
    idx_all = torch.stack(idx).reshape(-1)  # (4*N*P,)
    w_all = torch.stack(wgt).reshape(-1)
    z_all = torch.where(w_all > 0, z.repeat(4, 1).reshape(-1), torch.full_like(w_all, float("inf")))

    zbuf = torch.full((dummy + 1,), float("inf"), dtype=dtype, device=z.device)
    zbuf.scatter_reduce_(0, idx_all, z_all, reduce="amin")
    w_all = w_all * (z_all <= zbuf[idx_all] * (1 + z_tolerance))

    acc = torch.zeros(c, dummy + 1, dtype=dtype, device=z.device)
    acc.index_add_(1, idx_all, colours.repeat(1, 4 * n) * w_all)
    wsum = torch.zeros(dummy + 1, dtype=dtype, device=z.device).index_add_(0, idx_all, w_all)
    dsum = torch.zeros(dummy + 1, dtype=dtype, device=z.device).index_add_(0, idx_all, torch.nan_to_num(z_all, posinf=0.0) * w_all)
    acc, wsum, dsum = acc[:, :dummy], wsum[:dummy], dsum[:dummy]
    valid = wsum > 1e-3
    safe = wsum.clamp_min(1e-8)
    frames = torch.where(valid, acc / safe, torch.zeros_like(acc)).reshape(c, n, h, w).permute(1, 0, 2, 3)
    out_depth = torch.where(valid, dsum / safe, torch.zeros_like(dsum)).reshape(n, 1, h, w)
    mask = valid.to(dtype).reshape(n, 1, h, w)
    return WarpResult(frames, mask, out_depth)
