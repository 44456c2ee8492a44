"""Pillow's antialiased bilinear resize of RGB uint8 frames, bit for bit, with a fast path for exact 2x reductions.

The trajectory model was trained on frames resized by Pillow (``Image.resize(size, Image.BILINEAR)``), so every
entry point must give it the same pixels. Pillow reduces a 448x256 frame to the model's 224x128 in ~0.7 ms of
scalar C; the service pays that on every request. For an exact halving Pillow's filter is fixed: each output
pixel of a pass is ``(p[2j-1] + 3 p[2j] + 3 p[2j+1] + p[2j+2] + 4) >> 3`` of its input row (Pillow's 22-bit
fixed-point weights 1/8 and 3/8 are exact), except at the two edges, where the truncated filter is renormalised.
OpenCV's vectorised filter, nearest-pixel subsampling and rounding compute that interior exactly (the sums are
small integers; ``round(S/8 + 1/16)`` equals ``(S + 4) >> 3`` with no ties), the edges use Pillow's own weights,
and the two passes round to uint8 in between as Pillow does, columns first (Pillow 13 runs the rows first for frames
over twice as tall as wide: those take Pillow's own path). Tests compare it with Pillow on random frames.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
from PIL import Image

#: Pillow's fixed-point precision for 8-bit resampling (``PRECISION_BITS`` in libImaging/Resample.c).
_PRECISION_BITS = 32 - 8 - 2
_TAPS = np.array([[1, 3, 3, 1]], np.float32)


@functools.lru_cache(maxsize=32)
def _edge_weights(in_size: int, out_size: int) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """Pillow's bilinear ``(input index, fixed-point weight)`` taps of the first and the last output pixel of a pass."""
    scale = in_size / out_size
    support = max(scale, 1.0)  # the bilinear filter's support (1) times the filter scale
    taps = []
    for xx in (0, out_size - 1):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size)
        ss = 1.0 / support
        w = [max(0.0, 1.0 - abs((x - center + 0.5) * ss)) for x in range(xmin, xmax)]
        total = sum(w)
        ints = [int(0.5 + v / total * (1 << _PRECISION_BITS)) for v in w]
        taps.append(tuple((x, k) for x, k in zip(range(xmin, xmax), ints, strict=True) if k))
    return taps[0], taps[1]


def _halve(arr: np.ndarray, axis: int) -> np.ndarray:
    """One pass of Pillow's bilinear 2x reduction along ``axis`` (0: rows, 1: columns) of ``(H,W,3)`` uint8."""
    h, w = arr.shape[:2]
    size = (w // 2, h) if axis == 1 else (w, h // 2)
    kernel, anchor = (_TAPS, (1, 0)) if axis == 1 else (_TAPS.T, (0, 1))
    sums = cv2.filter2D(arr, cv2.CV_16S, kernel, anchor=anchor, borderType=cv2.BORDER_REPLICATE)  # centred on each pixel
    out = cv2.convertScaleAbs(cv2.resize(sums, size, interpolation=cv2.INTER_NEAREST), alpha=0.125, beta=0.0625)
    for index, taps in zip((0, out.shape[axis] - 1), _edge_weights(arr.shape[axis], out.shape[axis]), strict=True):
        acc = sum(np.take(arr, x, axis=axis).astype(np.int64) * k for x, k in taps) + (1 << (_PRECISION_BITS - 1))
        edge = np.clip(acc >> _PRECISION_BITS, 0, 255).astype(np.uint8)
        if axis == 1:
            out[:, index] = edge
        else:
            out[index] = edge
    return out


def resize_bilinear(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """RGB uint8 ``(H,W,3)`` -> ``(h,w,3)`` at ``size (w,h)``, the pixels ``Image.resize(size, Image.BILINEAR)`` gives."""
    h, w = arr.shape[:2]
    if w == 2 * size[0] and h == 2 * size[1] and min(size) >= 2 and h <= 2 * w and arr.ndim == 3 and arr.shape[2] == 3:
        return _halve(_halve(np.ascontiguousarray(arr), 1), 0)  # columns first, as Pillow does unless the frame is tall
    return np.asarray(Image.fromarray(np.ascontiguousarray(arr)).resize(size, Image.BILINEAR))
