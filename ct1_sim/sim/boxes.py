"""Oriented vehicle footprints on the ground plane: boxes ``(..., 5)`` = centre x, y (m), yaw (rad), length,
width (m); corners and overlap tests (separating axes)."""

from __future__ import annotations

import numpy as np


def corners(boxes: np.ndarray) -> np.ndarray:
    """Corners ``(N,4,2)`` of boxes ``(N,5)``, counter-clockwise from front-left."""
    b = np.asarray(boxes, dtype=float).reshape(-1, 5)
    c, s = np.cos(b[:, 2]), np.sin(b[:, 2])
    hl, hw = b[:, 3] / 2, b[:, 4] / 2
    sx = np.array([1.0, -1.0, -1.0, 1.0])
    sy = np.array([1.0, 1.0, -1.0, -1.0])
    lx, ly = sx[None] * hl[:, None], sy[None] * hw[:, None]
    x = b[:, 0:1] + lx * c[:, None] - ly * s[:, None]
    y = b[:, 1:2] + lx * s[:, None] + ly * c[:, None]
    return np.stack([x, y], axis=-1)


def overlaps(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Which of ``others (N,5)`` overlap ``box (5,)`` (touching counts)."""
    others = np.asarray(others, dtype=float).reshape(-1, 5)
    if not len(others):
        return np.zeros(0, bool)
    a = corners(np.asarray(box, dtype=float)[None])[0]  # (4,2)
    b = corners(others)  # (N,4,2)
    yaw_a = float(box[2])
    axes = [np.array([np.cos(yaw_a), np.sin(yaw_a)]), np.array([-np.sin(yaw_a), np.cos(yaw_a)])]
    separated = np.zeros(len(others), bool)
    for ax in axes:  # the first box's axes
        pa = a @ ax
        pb = b @ ax
        separated |= (pb.max(1) < pa.min()) | (pb.min(1) > pa.max())
    for u in (np.stack([np.cos(others[:, 2]), np.sin(others[:, 2])], 1), np.stack([-np.sin(others[:, 2]), np.cos(others[:, 2])], 1)):
        pa = np.einsum("kd,nd->nk", a, u)  # (N,4)
        pb = np.einsum("nkd,nd->nk", b, u)
        separated |= (pb.max(1) < pa.min(1)) | (pb.min(1) > pa.max(1))
    return ~separated
