"""Forward warping of one frame into other cameras: depth unprojection + z-buffered splatting (vectorised torch).

Frames: OpenCV camera axes (x right, y down, z forward), metres. Pixel centres are at ``(u+0.5, v+0.5)``.

Every point covers a square patch of the surface (side ``size_m``: one source pixel's footprint at its depth). Seen
from nearer than it was captured, that patch spans more than one target pixel, and a plain 2x2 splat would leave the
gaps between neighbours empty (dotted lane markings, see-through trees when the camera drives towards them), so
magnified points also cover the k x k target pixels of their projected patch (k capped at :data:`MAX_FOOTPRINT_PX`).
A surface seen obliquely (the road) stretches more along one axis than that square allows; the cracks left between
its rows are closed afterwards (:func:`close_cracks`): a hole pixel with the same surface within a few pixels on both
sides (above and below, or left and right, depths within :data:`CRACK_DEPTH_TOLERANCE`) takes their interpolation.
Disocclusions have a depth step across them in the direction of motion (foreground on one side, background on the
other) and stay holes, for the generator, unless they are at most that few pixels across the other way.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

#: Widest square (target pixels) one magnified point covers; nearer views of a surface show its holes.
MAX_FOOTPRINT_PX = 6
#: Widest gap (target pixels) :func:`close_cracks` closes.
MAX_CRACK_PX = 16
#: Largest relative depth difference across a gap for both sides to count as one surface.
CRACK_DEPTH_TOLERANCE = 0.2
#: :func:`splat_points` drops the points no view can see first when they are more than this share of the cloud.
CULL_WHEN_UNSEEN_SHARE = 0.1


@dataclass
class WarpResult:
    """Warped frames ``(N,3,H,W)`` (same value range as the input), validity mask ``(N,1,H,W)`` in {0,1} and the
    splatted depth ``(N,1,H,W)`` (metres along each target camera's z; 0 where nothing landed); ``closed (N,1,H,W)``
    marks the pixels of ``mask`` that crack closing interpolated rather than a point landed on."""

    frames: torch.Tensor
    mask: torch.Tensor
    depth: torch.Tensor
    closed: torch.Tensor | None = None


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
    Pixels nothing lands on get mask 0 and value 0. Points seen magnified cover their projected footprint (see the
    module docstring).
    """
    if image.ndim != 3 or depth.shape != image.shape[1:]:
        raise ValueError(f"image must be (3,H,W) and depth (H,W); got {tuple(image.shape)} and {tuple(depth.shape)}")
    c, h, w = image.shape
    K = K.to(torch.float32)
    points = pixel_rays(K, h, w).reshape(3, -1) * depth.reshape(1, -1).to(torch.float32)  # (3,P) source camera, m
    sizes = pixel_footprint_m(depth.reshape(-1).to(torch.float32), K)
    out = splat_points(points, image.reshape(c, -1), K, tgt_from_src, h, w, z_tolerance, sizes_m=sizes)
    return WarpResult(out.frames.to(image.dtype) if image.dtype.is_floating_point else out.frames, out.mask, out.depth, out.closed)


def pixel_footprint_m(depth: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Side (m) of the surface patch one pixel of a camera with intrinsics ``K`` sees at ``depth`` (m, z)."""
    return depth / K[0, 0].to(depth.dtype)


def splat_points(
    points: torch.Tensor,
    colours: torch.Tensor,
    K: torch.Tensor,
    tgt_from_src: torch.Tensor,
    height: int,
    width: int,
    z_tolerance: float = 0.03,
    sizes_m: torch.Tensor | None = None,
    max_crack_px: int = MAX_CRACK_PX,
) -> WarpResult:
    """Splat a coloured point cloud ``points (3,P)`` (m, in the source frame), ``colours (C,P)``, into ``N`` target
    cameras ``tgt_from_src (N,4,4)`` of pixel intrinsics ``K`` at ``width x height`` (z-buffered, as
    :func:`forward_warp`). ``sizes_m (P,)``: each point's patch side (m); points whose patch spans more than 1.5
    target pixels also cover it (None: 2x2 splats only). Cracks up to ``max_crack_px`` wide are closed
    (:func:`close_cracks`; 0 turns it off)."""
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
    # points that reach no target pixel in any view (behind, or outside the frame by more than the widest splat)
    # are dropped before the costly part: a long rollout's cache is mostly out of view (~75 % after a few chunks)
    margin = MAX_FOOTPRINT_PX + 2
    seen = (front & (px > -margin) & (px < w + margin) & (py > -margin) & (py < h + margin)).any(dim=0)
    if float((~seen).float().mean()) > CULL_WHEN_UNSEEN_SHARE:
        keep = torch.nonzero(seen, as_tuple=True)[0]
        z, front, zs, px, py = z[:, keep], front[:, keep], zs[:, keep], px[:, keep], py[:, keep]
        colours = colours[:, keep]
        sizes_m = sizes_m[keep] if sizes_m is not None else None
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
        idx.append(torch.where(ok, flat, dummy).reshape(-1))
        wgt.append((wk * ok).reshape(-1))
    zs_list = [z.reshape(-1)] * 4
    col_list = [colours.repeat(1, n)] * 4
    if sizes_m is not None:
        extra = _footprint_contributions(px, py, z, front, K[0, 0] * sizes_m.to(dtype)[None] / zs, colours, base, h, w, dummy)
        for i, wk, zk, ck in extra:
            idx.append(i)
            wgt.append(wk)
            zs_list.append(zk)
            col_list.append(ck)
    idx_all = torch.cat(idx)
    w_all = torch.cat(wgt)
    z_all = torch.where(w_all > 0, torch.cat(zs_list), torch.full_like(w_all, float("inf")))

    zbuf = torch.full((dummy + 1,), float("inf"), dtype=dtype, device=z.device)
    zbuf.scatter_reduce_(0, idx_all, z_all, reduce="amin")
    w_all = w_all * (z_all <= zbuf[idx_all] * (1 + z_tolerance))

    acc = torch.zeros(c, dummy + 1, dtype=dtype, device=z.device)
    acc.index_add_(1, idx_all, torch.cat(col_list, dim=1) * w_all)
    wsum = torch.zeros(dummy + 1, dtype=dtype, device=z.device).index_add_(0, idx_all, w_all)
    dsum = torch.zeros(dummy + 1, dtype=dtype, device=z.device).index_add_(0, idx_all, torch.nan_to_num(z_all, posinf=0.0) * w_all)
    acc, wsum, dsum = acc[:, :dummy], wsum[:dummy], dsum[:dummy]
    valid = wsum > 1e-3
    safe = wsum.clamp_min(1e-8)
    frames = torch.where(valid, acc / safe, torch.zeros_like(acc)).reshape(c, n, h, w).permute(1, 0, 2, 3)
    out_depth = torch.where(valid, dsum / safe, torch.zeros_like(dsum)).reshape(n, 1, h, w)
    mask = valid.to(dtype).reshape(n, 1, h, w)
    return close_cracks(WarpResult(frames, mask, out_depth), max_crack_px)


def _footprint_contributions(
    px: torch.Tensor, py: torch.Tensor, z: torch.Tensor, front: torch.Tensor, size_px: torch.Tensor, colours: torch.Tensor,
    base: torch.Tensor, h: int, w: int, dummy: int,
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Flat pixel indices, weights (1), depths and colours of the k x k boxes of magnified points, one entry per k."""
    k_all = size_px.round().clamp(max=MAX_FOOTPRINT_PX).long()
    out = []
    for k in range(2, MAX_FOOTPRINT_PX + 1):
        sel = torch.nonzero(front & (k_all == k) & (size_px > 1.5), as_tuple=True)  # (view, point) pairs
        if sel[0].numel() == 0:
            continue
        cx, cy = px[sel], py[sel]
        x_start, y_start = (cx - (k - 1) / 2).round(), (cy - (k - 1) / 2).round()
        offs = torch.arange(k, device=px.device, dtype=px.dtype)
        xi = (x_start[:, None, None] + offs[None, None, :]).expand(-1, k, k)
        yi = (y_start[:, None, None] + offs[None, :, None]).expand(-1, k, k)
        ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        flat = base[sel[0], 0][:, None, None] + yi.clamp(0, h - 1).long() * w + xi.clamp(0, w - 1).long()
        out.append((torch.where(ok, flat, dummy).reshape(-1), ok.to(px.dtype).reshape(-1),
                    z[sel][:, None, None].expand(-1, k, k).reshape(-1), colours[:, sel[1]][:, :, None].expand(-1, -1, k * k).reshape(colours.shape[0], -1)))
    return out


def _nearest_valid(valid: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For every pixel, the index along ``dim`` of the nearest valid pixel at or before it (-1: none) and at or after
    it (``size``: none): two running maxima, no loop over distances."""
    size = valid.shape[dim]
    shape = [1] * valid.ndim
    shape[dim] = size
    ar = torch.arange(size, device=valid.device).view(shape).expand_as(valid)
    before = torch.where(valid, ar, -1).cummax(dim).values
    rev = torch.where(valid.flip(dim), ar, -1).cummax(dim).values.flip(dim)  # positions counted from the far end
    after = torch.where(rev >= 0, size - 1 - rev, size)
    return before, after


def close_cracks(result: WarpResult, max_gap: int = MAX_CRACK_PX, depth_tolerance: float = CRACK_DEPTH_TOLERANCE) -> WarpResult:
    """Fill hole pixels lying between two valid pixels of one surface (see the module docstring): vertical gaps
    first, then horizontal ones; each takes the linear interpolation (colour and depth) of the two sides."""
    if max_gap < 1:
        return WarpResult(result.frames, result.mask, result.depth, closed=torch.zeros_like(result.mask, dtype=torch.bool))
    frames, mask, depth = result.frames.clone(), result.mask.clone(), result.depth.clone()
    landed = mask > 0.5
    for dim in (2, 3):  # rows (vertical gaps), then columns
        valid = mask > 0.5
        values = torch.cat([frames, depth], dim=1)  # (N,C+1,H,W)
        before, after = _nearest_valid(valid, dim)
        pos = torch.arange(valid.shape[dim], device=valid.device).view([1, 1, -1, 1] if dim == 2 else [1, 1, 1, -1])
        d_a, d_b = pos - before, after - pos
        last = valid.shape[dim] - 1
        v_a = values.gather(dim, before.clamp(0, last).expand_as(values))
        v_b = values.gather(dim, after.clamp(0, last).expand_as(values))
        za, zb = v_a[:, -1:], v_b[:, -1:]
        same = (za - zb).abs() <= depth_tolerance * torch.minimum(za, zb).clamp_min(1e-6)
        fill = (~valid) & (before >= 0) & (after <= last) & (d_a + d_b <= max_gap + 1) & same
        wa = (d_b / (d_a + d_b).clamp_min(1)).to(values.dtype)
        mixed = v_a * wa + v_b * (1 - wa)
        frames = torch.where(fill, mixed[:, :-1], frames)
        depth = torch.where(fill, mixed[:, -1:], depth)
        mask = torch.where(fill, torch.ones_like(mask), mask)
    return WarpResult(frames, mask, depth, closed=(mask > 0.5) & ~landed)
