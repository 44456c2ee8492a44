"""Pose files for other projects' inference scripts, written with this package's format writers.

| target | file | what it holds |
| --- | --- | --- |
| ``cameractrl`` | ``<stem>.txt`` | RealEstate10K text: a title line, then ``timestamp_us fx/W fy/H cx/W cy/H 0 0`` + 3x4 world-to-camera |
| ``motionctrl`` | ``<stem>.motionctrl.json`` | ``[T][12]``: row-major 3x4 world-to-camera relative to frame 0 (no intrinsics, no times) |
| ``ct1`` | ``<stem>.ct1.txt`` | CT-1 text: ``index fx fy cx cy 0 0`` (pixels) + 3x4 world-to-camera (no image size, no times) |

The suffixes are :data:`ct1_sim.formats.FORMAT_SUFFIXES`.

What a reader needs to get the trajectory back is in :data:`READ_BACK` (the options the file does not store).
"""

from __future__ import annotations

import logging
from pathlib import Path

from ct1_sim.formats import FORMAT_SUFFIXES, write_trajectory
from ct1_sim.geometry import CameraTrajectory

log = logging.getLogger(__name__)

#: target project -> the ct1-sim format it reads
TARGETS: dict[str, str] = {"cameractrl": "realestate10k", "motionctrl": "motionctrl", "ct1": "ct1"}
#: target project -> what reading the file back needs besides the file (the trajectory's own values)
READ_BACK: dict[str, tuple[str, ...]] = {"cameractrl": ("image_size",), "motionctrl": ("image_size", "rate_hz", "K", "first pose"),
                                         "ct1": ("image_size", "rate_hz")}


def export_pose_file(traj: CameraTrajectory, target: str, out_dir: str | Path, stem: str) -> Path:
    """Write ``traj`` as the pose file ``target`` (``cameractrl | motionctrl | ct1``) reads: ``out_dir/stem.<ext>``."""
    key = str(target).lower()
    if key not in TARGETS:
        raise ValueError(f"unknown export target {target!r}; use one of: {', '.join(TARGETS)}")
    fmt = TARGETS[key]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stem}{FORMAT_SUFFIXES[fmt]}"
    write_trajectory(traj, path, fmt)
    log.info("exported %d poses for %s to %s", len(traj), key, path)
    return path
