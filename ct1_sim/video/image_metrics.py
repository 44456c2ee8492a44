"""Per-frame fidelity metrics of generated video against rendered truth: PSNR (dB) and SSIM (Wang et al. 2004)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def psnr(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor, max_value: float = 255.0) -> float:
    """PSNR (dB) between two images of the same shape (uint8 arrays: ``max_value`` 255)."""
    a64 = torch.as_tensor(np.asarray(a), dtype=torch.float64)
    b64 = torch.as_tensor(np.asarray(b), dtype=torch.float64)
    mse = float(((a64 - b64) ** 2).mean())
    return float(10 * math.log10(max_value**2 / max(mse, 1e-12)))


def _gaussian(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]


def ssim(a: np.ndarray, b: np.ndarray, max_value: float = 255.0) -> float:
    """Mean SSIM of two RGB images ``(H,W,3)`` (11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, per channel,
    valid region only), as in Wang et al. 2004 and skimage's ``gaussian_weights=True`` setting."""
    x = torch.as_tensor(np.asarray(a), dtype=torch.float64).permute(2, 0, 1)[:, None]  # (3,1,H,W)
    y = torch.as_tensor(np.asarray(b), dtype=torch.float64).permute(2, 0, 1)[:, None]
    w = _gaussian()
    c1, c2 = (0.01 * max_value) ** 2, (0.03 * max_value) ** 2
    mx, my = F.conv2d(x, w), F.conv2d(y, w)
    sxx = F.conv2d(x * x, w) - mx**2
    syy = F.conv2d(y * y, w) - my**2
    sxy = F.conv2d(x * y, w) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    return float(s.mean())
