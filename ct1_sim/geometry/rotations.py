"""Rotation conversions used at model and file boundaries (numpy only).

Conventions:
- Quaternions default to scalar-first ``[w, x, y, z]`` (nuScenes); pass ``order="xyzw"`` for ROS messages.
- The 6D rotation representation (Zhou et al., CVPR 2019) is the first two *columns* of the rotation
  matrix, concatenated: ``[R[:,0], R[:,1]]``; decoding re-orthonormalises with Gram-Schmidt.
All functions broadcast over leading dimensions.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

QuatOrder = Literal["wxyz", "xyzw"]


def _check_order(order: str) -> None:
    if order not in ("wxyz", "xyzw"):
        raise ValueError(f"quaternion order must be 'wxyz' or 'xyzw', got {order!r}")


def quat_to_matrix(q: np.ndarray, order: QuatOrder = "wxyz") -> np.ndarray:
    """Unit quaternion(s) ``(...,4)`` -> rotation matrices ``(...,3,3)``. Non-unit input is normalised."""
    _check_order(order)
    q = np.asarray(q, dtype=np.float64)
    if q.shape[-1] != 4:
        raise ValueError(f"quaternion must have 4 components in its last axis, got shape {q.shape}")
    norm = np.linalg.norm(q, axis=-1, keepdims=True)
    if not np.all(np.isfinite(q)) or np.any(norm < 1e-12):
        raise ValueError("quaternion must be finite and non-zero")
    xyzw = q if order == "xyzw" else np.concatenate([q[..., 1:], q[..., :1]], axis=-1)
    flat = xyzw.reshape(-1, 4)
    return Rotation.from_quat(flat).as_matrix().reshape(q.shape[:-1] + (3, 3))


def matrix_to_quat(R: np.ndarray, order: QuatOrder = "wxyz") -> np.ndarray:
    """Rotation matrices ``(...,3,3)`` -> unit quaternions ``(...,4)`` with a non-negative scalar part."""
    _check_order(order)
    R = np.asarray(R, dtype=np.float64)
    xyzw = Rotation.from_matrix(R.reshape(-1, 3, 3)).as_quat().reshape(R.shape[:-2] + (4,))
    xyzw = np.where(xyzw[..., 3:4] < 0, -xyzw, xyzw)  # canonical sign: w >= 0
    if order == "xyzw":
        return xyzw
    return np.concatenate([xyzw[..., 3:], xyzw[..., :3]], axis=-1)


def matrix_to_rot6d(R: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(...,3,3)`` -> 6D representation ``(...,6)`` = first two columns."""
    R = np.asarray(R, dtype=np.float64)
    return np.concatenate([R[..., :, 0], R[..., :, 1]], axis=-1)


def rot6d_to_matrix(r6: np.ndarray) -> np.ndarray:
    """6D representation ``(...,6)`` -> rotation matrices ``(...,3,3)`` via Gram-Schmidt.

    Any input whose two 3-vectors are non-zero and not parallel maps to a proper rotation, so a
    network output can be decoded without thresholding.
    """
    r6 = np.asarray(r6, dtype=np.float64)
    if r6.shape[-1] != 6:
        raise ValueError(f"6D rotation must have 6 components in its last axis, got shape {r6.shape}")
    a1, a2 = r6[..., :3], r6[..., 3:]
    b1 = a1 / np.linalg.norm(a1, axis=-1, keepdims=True)
    a2 = a2 - np.sum(b1 * a2, axis=-1, keepdims=True) * b1
    b2 = a2 / np.linalg.norm(a2, axis=-1, keepdims=True)
    b3 = np.cross(b1, b2)
    return np.stack([b1, b2, b3], axis=-1)


def slerp_rotations(times: np.ndarray, R: np.ndarray, query_times: np.ndarray) -> np.ndarray:
    """Spherical-linear interpolation of rotations ``R (T,3,3)`` known at ``times (T,)`` to ``query_times``."""
    return Slerp(np.asarray(times, dtype=np.float64), Rotation.from_matrix(R))(
        np.asarray(query_times, dtype=np.float64)
    ).as_matrix()


def geodesic_angle(R_a: np.ndarray, R_b: np.ndarray) -> np.ndarray:
    """Angle (rad) of the relative rotation ``R_a^T R_b``, broadcast over leading dims, in [0, pi]."""
    R_a = np.asarray(R_a, dtype=np.float64)
    R_b = np.asarray(R_b, dtype=np.float64)
    trace = np.einsum("...ji,...ji->...", R_a, R_b)  # tr(R_a^T R_b)
    return np.arccos(np.clip((trace - 1.0) / 2.0, -1.0, 1.0))
