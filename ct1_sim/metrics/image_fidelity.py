"""Per-frame fidelity of a generated image against the true one: PSNR (dB) and SSIM (Wang et al. 2004).

numpy/scipy only. Both take images of one shape (uint8 RGB ``(H,W,3)`` by default: ``max_value`` 255; torch CPU
tensors are read through ``np.asarray``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import gaussian_filter

#: SSIM's window: an 11x11 Gaussian with sigma 1.5 px (radius 5 px).
_SSIM_SIGMA = 1.5
_SSIM_RADIUS = 5


def _same_shape(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"images must have one shape, got {a.shape} and {b.shape}")


def psnr(a: np.ndarray, b: np.ndarray, max_value: float = 255.0) -> float:
    """PSNR (dB) between two images of the same shape: ``10 log10(max_value^2 / MSE)`` (MSE floored at 1e-12)."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    _same_shape(x, y)
    mse = float(np.mean((x - y) ** 2))
    return float(10 * math.log10(max_value**2 / max(mse, 1e-12)))


def _blur(x: np.ndarray) -> np.ndarray:
    """The SSIM window over ``(H,W,C)`` float32 per channel, valid region only (``_SSIM_RADIUS`` px cropped per side)."""
    out = gaussian_filter(x, sigma=(_SSIM_SIGMA, _SSIM_SIGMA, 0), radius=(_SSIM_RADIUS, _SSIM_RADIUS, 0), mode="reflect")
    r = _SSIM_RADIUS
    return out[r:-r, r:-r]


def ssim(a: np.ndarray, b: np.ndarray, max_value: float = 255.0) -> float:
    """Mean SSIM of two RGB images ``(H,W,3)`` (11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, per channel,
    valid region only), as in Wang et al. 2004 and skimage's ``gaussian_weights=True`` setting."""
    x = np.asarray(a, dtype=np.float32)
    y = np.asarray(b, dtype=np.float32)
    _same_shape(x, y)
    if x.ndim != 3 or min(x.shape[:2]) <= 2 * _SSIM_RADIUS:
        raise ValueError(f"SSIM needs (H,W,C) images larger than {2 * _SSIM_RADIUS}x{2 * _SSIM_RADIUS} px, got {x.shape}")
    c1, c2 = (0.01 * max_value) ** 2, (0.03 * max_value) ** 2
    mx, my = _blur(x), _blur(y)
    sxx = _blur(x * x) - mx**2
    syy = _blur(y * y) - my**2
    sxy = _blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    return float(s.mean())
