"""Checks for poses, intrinsics and timestamps that raise ``ValueError`` telling the user what to fix."""

from __future__ import annotations

import numpy as np

#: Tolerance on ``R^T R - I`` and ``det R - 1`` for a matrix to count as rigid (text files keep ~9 digits).
RIGID_ATOL = 1e-3


def check_poses(c2w: np.ndarray, name: str = "c2w") -> np.ndarray:
    """Validate rigid 4x4 poses ``(T,4,4)``; return them as float64.

    Rejects wrong shapes, NaN/inf, a bottom row other than ``[0,0,0,1]``, and rotation blocks that are
    not orthonormal with determinant +1 (scaled, sheared or mirrored matrices).
    """
    c2w = np.asarray(c2w, dtype=np.float64)
    if c2w.ndim != 3 or c2w.shape[1:] != (4, 4) or c2w.shape[0] < 1:
        raise ValueError(f"{name} must have shape (T,4,4) with T >= 1, got {c2w.shape}")
    bad = ~np.isfinite(c2w).all(axis=(1, 2))
    if bad.any():
        raise ValueError(f"{name} has NaN or inf in pose(s) {np.flatnonzero(bad)[:10].tolist()}")
    bottom = np.abs(c2w[:, 3, :] - np.array([0.0, 0.0, 0.0, 1.0])).max(axis=1) > 1e-9
    if bottom.any():
        i = int(np.flatnonzero(bottom)[0])
        raise ValueError(f"{name}[{i}] bottom row must be [0,0,0,1], got {c2w[i, 3].tolist()}")
    R = c2w[:, :3, :3]
    ortho_err = np.abs(np.einsum("tji,tjk->tik", R, R) - np.eye(3)).max(axis=(1, 2))
    # closed-form 3x3 determinants: np.linalg.det goes through LAPACK, whose threaded OpenBLAS can wake a worker
    # thread that then spins, taking a core from inference or rendering threads running beside it
    det = np.einsum("ti,ti->t", R[:, :, 0], np.cross(R[:, :, 1], R[:, :, 2]))
    bad = (ortho_err > RIGID_ATOL) | (np.abs(det - 1.0) > RIGID_ATOL)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}[{i}] is not a rigid transform: rotation block has |R^T R - I| = {ortho_err[i]:.3g} and "
            f"det = {det[i]:.4f} (need an orthonormal rotation with det +1; remove scale/shear/mirroring)"
        )
    return c2w


def check_intrinsics(K: np.ndarray, name: str = "K") -> np.ndarray:
    """Validate a 3x3 pixel intrinsics matrix ``[[fx,s,cx],[0,fy,cy],[0,0,1]]``; return it as float64."""
    K = np.asarray(K, dtype=np.float64)
    if K.shape != (3, 3):
        raise ValueError(f"{name} must be a 3x3 pixel intrinsics matrix, got shape {K.shape}")
    if not np.isfinite(K).all():
        raise ValueError(f"{name} has NaN or inf: {K.tolist()}")
    if K[0, 0] <= 0 or K[1, 1] <= 0:
        raise ValueError(f"{name} focal lengths must be positive pixels, got fx={K[0, 0]}, fy={K[1, 1]}")
    if abs(K[1, 0]) > 1e-9 or np.abs(K[2] - np.array([0.0, 0.0, 1.0])).max() > 1e-9:
        raise ValueError(f"{name} must look like [[fx,0,cx],[0,fy,cy],[0,0,1]], got {K.tolist()}")
    return K


def check_image_size(image_size: tuple[int, int] | np.ndarray, name: str = "image_size") -> tuple[int, int]:
    """Validate ``(W, H)`` in pixels; return it as a tuple of ints."""
    try:
        w, h = (int(v) for v in image_size)
        ok = all(float(v) == int(v) for v in image_size)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be (W, H) in pixels, got {image_size!r}") from None
    if not ok or w <= 0 or h <= 0:
        raise ValueError(f"{name} must be two positive integers (W, H) in pixels, got {image_size!r}")
    return w, h


def check_timestamps(timestamps_us: np.ndarray, num_poses: int, name: str = "timestamps_us") -> np.ndarray:
    """Validate strictly increasing integer timestamps (microseconds) of length ``num_poses``."""
    ts = np.asarray(timestamps_us)
    if ts.shape != (num_poses,):
        raise ValueError(f"{name} must have shape ({num_poses},) to match the poses, got {ts.shape}")
    if ts.dtype.kind == "f":
        if not np.isfinite(ts).all():
            raise ValueError(f"{name} has NaN or inf")
        if np.any(ts != np.round(ts)):
            raise ValueError(f"{name} must be whole microseconds, got fractional values")
    elif ts.dtype.kind not in "iu":
        raise ValueError(f"{name} must be integers (microseconds), got dtype {ts.dtype}")
    ts = ts.astype(np.int64)
    steps = np.diff(ts)
    if (steps <= 0).any():
        i = int(np.flatnonzero(steps <= 0)[0])
        raise ValueError(
            f"{name} must be strictly increasing, but [{i}]={ts[i]} is followed by [{i + 1}]={ts[i + 1]}"
        )
    return ts
