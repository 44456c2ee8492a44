"""Fidelity inside a region of a frame (numpy/scipy): PSNR over masked pixels and a gradient-energy sharpness ratio.

Used for the pixels a video model had to generate (the holes no point of frame 0 reaches): PSNR says how close they
are to the truth, the sharpness ratio (mean gradient magnitude of the generated pixels / the truth's, Sobel on luma)
says whether they are detailed (about 1) or smeared (well below 1).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import sobel

from ct1_sim.metrics.image_fidelity import psnr


def _luma(image: np.ndarray) -> np.ndarray:
    x = np.asarray(image, dtype=np.float64)
    return x @ np.array([0.299, 0.587, 0.114]) if x.ndim == 3 else x


def masked_psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray, max_value: float = 255.0) -> float:
    """PSNR (dB) of images ``a``, ``b`` (``(H,W,3)``) over the pixels where ``mask (H,W)`` is true; NaN if none."""
    m = np.asarray(mask, bool)
    if a.shape != b.shape or m.shape != a.shape[:2]:
        raise ValueError(f"images {a.shape}, {b.shape} and mask {m.shape} must agree")
    if not m.any():
        return float("nan")
    return psnr(np.asarray(a, np.float64)[m], np.asarray(b, np.float64)[m], max_value)


def gradient_magnitude(image: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude ``(H,W)`` of an image's luma (same units as the image per pixel)."""
    y = _luma(image)
    return np.hypot(sobel(y, axis=0), sobel(y, axis=1))


def sharpness_ratio(generated: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    """Mean gradient magnitude of ``generated`` over ``mask`` divided by the truth's; NaN if the mask is empty or the
    truth is flat there."""
    m = np.asarray(mask, bool)
    if not m.any():
        return float("nan")
    ref = float(gradient_magnitude(truth)[m].mean())
    return float(gradient_magnitude(generated)[m].mean() / ref) if ref > 1e-9 else float("nan")
