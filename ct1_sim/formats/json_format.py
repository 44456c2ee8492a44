"""ct1-sim's own JSON trajectory: lossless, self-describing.

``{"convention": "opencv", "units": "m", "image_size": [W, H], "K": [[3x3]], "timestamps_us": [...],
"c2w": [[[4x4]], ...]}`` — camera-to-world, OpenCV camera axes (x right, y down, z forward).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ct1_sim.formats._text import read_text, write_atomic
from ct1_sim.formats.errors import TrajectoryFormatError
from ct1_sim.geometry import CameraTrajectory

REQUIRED = ("image_size", "K", "timestamps_us", "c2w")


def trajectory_to_dict(traj: CameraTrajectory) -> dict[str, Any]:
    """JSON-ready dict of a trajectory."""
    return {
        "convention": "opencv",
        "units": "m",
        "image_size": list(traj.image_size),
        "K": traj.K.tolist(),
        "timestamps_us": [int(t) for t in traj.timestamps_us],
        "c2w": traj.c2w.tolist(),
    }


def trajectory_from_dict(data: Any) -> CameraTrajectory:
    """Inverse of :func:`trajectory_to_dict`; ``ValueError`` naming the bad field."""
    if not isinstance(data, dict):
        raise ValueError("a trajectory must be a JSON object with image_size, K, timestamps_us and c2w")
    if data.get("convention", "opencv") != "opencv":
        raise ValueError(f"convention must be 'opencv' (x right, y down, z forward), got {data.get('convention')!r}")
    if data.get("units", "m") != "m":
        raise ValueError(f"units must be 'm', got {data.get('units')!r}")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ValueError(f"trajectory JSON is missing {missing}")
    try:
        c2w = np.array(data["c2w"], dtype=np.float64)
        K = np.array(data["K"], dtype=np.float64)
        ts = np.array(data["timestamps_us"])
    except (TypeError, ValueError) as err:
        raise ValueError(f"trajectory JSON has non-numeric values: {err}") from None
    return CameraTrajectory(c2w=c2w, K=K, image_size=tuple(data["image_size"]), timestamps_us=ts)


def read_json(path: str | Path) -> CameraTrajectory:
    path = Path(path)
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise TrajectoryFormatError(path, f"not valid JSON ({err.msg})", err.lineno) from None
    try:
        return trajectory_from_dict(data)
    except ValueError as err:
        raise TrajectoryFormatError(path, str(err)) from None


def write_json(traj: CameraTrajectory, path: str | Path) -> None:
    write_atomic(Path(path), json.dumps(trajectory_to_dict(traj)) + "\n")
