"""Draw camera paths projected into the conditioning image (one colour per sample)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ct1_sim.geometry import CameraTrajectory
from ct1_sim.geometry.projection import ground_track, project_points

#: RGB colours for samples 0..7, then repeating.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (255, 99, 71), (30, 144, 255), (50, 205, 50), (255, 215, 0),
    (186, 85, 211), (0, 206, 209), (255, 140, 0), (240, 128, 170),
)
GROUND_TRUTH_COLOUR = (255, 255, 255)


def _polyline(image: np.ndarray, uv: np.ndarray, colour: tuple[int, int, int], thickness: int, dashed: bool) -> None:
    ok = np.isfinite(uv).all(axis=1)
    pts = uv[ok]
    scale = 16  # sub-pixel precision for cv2 (4 fractional bits)
    pts_i = np.round(pts * scale).astype(np.int64)
    for i in range(len(pts_i) - 1):
        if dashed and i % 2:
            continue
        cv2.line(image, tuple(pts_i[i]), tuple(pts_i[i + 1]), colour, thickness, cv2.LINE_AA, shift=4)
    for p in pts_i:
        cv2.circle(image, tuple(p), thickness + 1, colour, -1, cv2.LINE_AA, shift=4)


def draw_paths(
    image: np.ndarray,
    samples: Sequence[CameraTrajectory],
    *,
    ground_truth: CameraTrajectory | None = None,
    camera_height_m: float = 1.5,
    K: np.ndarray | None = None,
) -> np.ndarray:
    """Copy of ``image (H,W,3) uint8`` with each trajectory's ground track drawn in perspective.

    Paths are taken relative to their first pose and placed on a flat ground ``camera_height_m`` below
    the current camera. ``K`` defaults to the first trajectory's intrinsics scaled to the image size.
    Ground truth, when given, is drawn dashed in white on top.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be RGB uint8 (H,W,3), got {image.shape} {image.dtype}")
    h, w = image.shape[:2]
    out = np.ascontiguousarray(image.copy())
    every = list(samples) + ([ground_truth] if ground_truth is not None else [])
    if not every:
        return out
    if K is None:
        K = every[0].with_image_size(w, h).K
    thickness = max(1, round(min(h, w) / 128))
    for i, traj in enumerate(every):
        is_gt = ground_truth is not None and i == len(every) - 1
        uv, _ = project_points(ground_track(traj, camera_height_m), np.eye(4), K)
        colour = GROUND_TRUTH_COLOUR if is_gt else PALETTE[i % len(PALETTE)]
        _polyline(out, uv, colour, thickness + (1 if is_gt else 0), dashed=is_gt)
    return out
