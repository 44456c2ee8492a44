"""Per-frame fidelity metrics of generated video against rendered truth: PSNR (dB) and SSIM (Wang et al. 2004)."""

from __future__ import annotations

import math

import numpy as np
import torch


def psnr(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor, max_value: float = 255.0) -> float:
    """PSNR (dB) between two images of the same shape (uint8 arrays: ``max_value`` 255)."""
    a64 = torch.as_tensor(np.asarray(a), dtype=torch.float64)
    b64 = torch.as_tensor(np.asarray(b), dtype=torch.float64)
    mse = float(((a64 - b64) ** 2).mean())
    return float(10 * math.log10(max_value**2 / max(mse, 1e-12)))


def _blur(x: np.ndarray) -> np.ndarray:
    """11x11 Gaussian (sigma 1.5) of ``(H,W,C)`` float32, valid region only (5 px cropped per side)."""
    import cv2

    return cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)[5:-5, 5:-5]


def ssim(a: np.ndarray, b: np.ndarray, max_value: float = 255.0) -> float:
    """Mean SSIM of two RGB images ``(H,W,3)`` (11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, per channel,
    valid region only), as in Wang et al. 2004 and skimage's ``gaussian_weights=True`` setting."""
    x = np.asarray(a, dtype=np.float32)
    y = np.asarray(b, dtype=np.float32)
    c1, c2 = (0.01 * max_value) ** 2, (0.03 * max_value) ** 2
    mx, my = _blur(x), _blur(y)
    sxx = _blur(x * x) - mx**2
    syy = _blur(y * y) - my**2
    sxy = _blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    return float(s.mean())
