"""Pixel intrinsics helpers (numpy only). ``K`` is ``[[fx,0,cx],[0,fy,cy],[0,0,1]]`` in pixels."""

from __future__ import annotations

import math

import numpy as np


def intrinsics_from_fov(width: int, height: int, hfov_deg: float) -> np.ndarray:
    """Square-pixel intrinsics for an image ``width x height`` (px) with horizontal field of view (deg)."""
    if not 0.0 < hfov_deg < 180.0:
        raise ValueError(f"hfov_deg must be in (0, 180), got {hfov_deg}")
    f = 0.5 * width / math.tan(math.radians(hfov_deg) / 2.0)
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


def scale_intrinsics(K: np.ndarray, src_size: tuple[int, int], dst_size: tuple[int, int]) -> np.ndarray:
    """Rescale ``K`` from an image of ``src_size (W,H)`` to ``dst_size (W,H)`` (resize, no crop)."""
    sx = dst_size[0] / src_size[0]
    sy = dst_size[1] / src_size[1]
    S = np.diag([sx, sy, 1.0])
    return S @ np.asarray(K, dtype=np.float64)


def normalized_intrinsics(K: np.ndarray, image_size: tuple[int, int]) -> tuple[float, float, float, float]:
    """``(fx/W, fy/H, cx/W, cy/H)`` as RealEstate10K pose files store them."""
    w, h = image_size
    return float(K[0, 0] / w), float(K[1, 1] / h), float(K[0, 2] / w), float(K[1, 2] / h)


def intrinsics_from_normalized(
    fx: float, fy: float, cx: float, cy: float, image_size: tuple[int, int]
) -> np.ndarray:
    """Inverse of :func:`normalized_intrinsics`."""
    w, h = image_size
    return np.array([[fx * w, 0.0, cx * w], [0.0, fy * h, cy * h], [0.0, 0.0, 1.0]])
