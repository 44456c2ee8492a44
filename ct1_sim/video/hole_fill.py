"""Push-pull hole filling: the blurred colour guess for pixels a warp has no source for."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def fill_holes(warped: torch.Tensor, mask: torch.Tensor, levels: int = 6) -> torch.Tensor:
    """Fill pixels where ``mask`` is 0 with a pyramid average of valid neighbours (push-pull), ``(N,3,H,W)``."""
    filled, weight = warped * mask, mask
    pyramid = [(filled, weight)]
    for _ in range(levels):
        filled = F.avg_pool2d(filled, 2, ceil_mode=True)
        weight = F.avg_pool2d(weight, 2, ceil_mode=True)
        pyramid.append((filled, weight))
    out = pyramid[-1][0] / pyramid[-1][1].clamp_min(1e-6)
    for filled, weight in reversed(pyramid[:-1]):
        up = F.interpolate(out, size=filled.shape[-2:], mode="bilinear", align_corners=False)
        out = torch.where(weight > 1e-6, filled / weight.clamp_min(1e-6), up)
        out = out * (weight > 0.999) + (filled + (1 - weight) * up) * (weight <= 0.999)
    return out
