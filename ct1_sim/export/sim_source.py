"""A ``ct1-sim sim run`` episode folder as a :class:`~ct1_sim.export.recording.Recording`.

The folder's ``camera.mp4`` frames go on the true-camera topic at ``camera.json``'s times with its intrinsics; the
ego is the rear axle of ``metrics.json``'s ``frames`` (``base_link`` on the ground, x forward, in the town's ``map``
frame, z up); the camera mount (``base_link -> ct1_camera_optical``) is read off frame 0 of both; the instruction
is published whenever the policy's observation changed it. A ct1-policy episode's ``plans.json`` gives, at each
replan, the K sampled paths and the followed one (in ``ct1_camera_link``, rooted at that frame's camera).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ct1_sim.export.mcap_file import TRUE_IMAGE_TOPIC
from ct1_sim.export.recording import CAMERA_LINK_FRAME, ImageStream, PathSet, Recording
from ct1_sim.formats import read_trajectory
from ct1_sim.geometry import CameraTrajectory
from ct1_sim.media import read_mp4
from ct1_sim.ros import contract as c

CAMERA_VIDEO, CAMERA_PATH, METRICS, PLANS = "camera.mp4", "camera.json", "metrics.json", "plans.json"
#: How far (m, and rotation-matrix entries) the camera mount may vary between frames before the files disagree.
MOUNT_TOLERANCE = 1e-6


def is_episode_folder(path: Path) -> bool:
    """Whether ``path`` looks like a ``ct1-sim sim run`` output folder."""
    return (path / METRICS).is_file() and (path / CAMERA_VIDEO).is_file()


def _rerun_hint(path: Path, what: str) -> ValueError:
    return ValueError(f"{path} {what}; write the episode again with `ct1-sim sim run --out {path}`")


def _frames(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads((path / METRICS).read_text())
    except ValueError as err:
        raise _rerun_hint(path, f"has a damaged {METRICS} ({err})") from None
    frames = data.get("frames") if isinstance(data, dict) else None
    if not isinstance(frames, list) or not frames:
        raise _rerun_hint(path, f"has no per-frame ego states in {METRICS} (an older ct1-sim wrote it)")
    return frames


def _map_from_base(frames: list[dict[str, Any]], path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(N,4,4)`` rear-axle poses (REP 103, z = 0), speeds ``(N,)`` (m/s) and yaws ``(N,)`` (rad) of ``frames``."""
    try:
        x, y, yaw, v = (np.array([float(f[k]) for f in frames]) for k in ("x", "y", "yaw", "v"))
    except (KeyError, TypeError, ValueError) as err:
        raise _rerun_hint(path, f"has a damaged {METRICS} frames list ({err!r})") from None
    T = np.tile(np.eye(4), (len(frames), 1, 1))
    c, s = np.cos(yaw), np.sin(yaw)
    T[:, 0, 0], T[:, 0, 1], T[:, 1, 0], T[:, 1, 1] = c, -s, s, c
    T[:, 0, 3], T[:, 1, 3] = x, y
    return T, v, yaw


def _plans(path: Path, camera: CameraTrajectory) -> list[PathSet]:
    """The replans of ``plans.json`` (none when the policy kept none) as best + samples path sets."""
    if not (path / PLANS).is_file():
        return []
    out = []
    try:
        for plan in json.loads((path / PLANS).read_text()):
            t_us, chosen = int(plan["time_us"]), int(plan["chosen"])
            times = t_us + np.asarray(plan["offsets_us"], dtype=np.int64)
            samples = [CameraTrajectory(c2w=np.asarray(c2w, dtype=np.float64), K=camera.K, image_size=camera.image_size,
                                        timestamps_us=times) for c2w in plan["samples_c2w"]]
            out += [PathSet(c.BEST_TOPIC, t_us * 1000, [samples[chosen]]), PathSet(c.SAMPLES_TOPIC, t_us * 1000, samples)]
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise _rerun_hint(path, f"has a damaged {PLANS} ({err!r})") from None
    return out


def load_episode(path: Path, item: str | None) -> Recording:
    """The episode in folder ``path`` (``item`` is not used: a folder holds one episode)."""
    if item is not None:
        raise ValueError(f"{path} is one episode; --item is for clip stores and demo folders: leave it out")
    if not (path / CAMERA_PATH).is_file():
        raise _rerun_hint(path, f"has no {CAMERA_PATH} (an older ct1-sim wrote it)")
    camera = read_trajectory(path / CAMERA_PATH, "json")
    frames = _frames(path)
    if len(frames) != len(camera):
        raise _rerun_hint(path, f"holds {len(camera)} camera poses but {len(frames)} ego states (mixed runs?)")
    map_from_base, speed, yaw = _map_from_base(frames, path)
    mounts = np.linalg.inv(map_from_base) @ camera.c2w  # (N,4,4) base_link -> camera, the same every frame
    if np.abs(mounts - mounts[0]).max() > MOUNT_TOLERANCE:
        raise _rerun_hint(path, f"has a {CAMERA_PATH} that does not ride on {METRICS}'s ego (mixed runs?)")
    stamps = camera.timestamps_us.astype(np.int64) * 1000
    yaw_rate = np.zeros(len(stamps))  # rad/s, each frame's turn to the next (camera times increase strictly)
    if len(stamps) > 1:
        yaw_rate[:-1] = np.diff(np.unwrap(yaw)) / (np.diff(stamps) * 1e-9)
        yaw_rate[-1] = yaw_rate[-2]
    instructions, last = [], None
    try:
        steps = json.loads((path / METRICS).read_text()).get("steps", [])
        for row in steps:
            if row["instruction"] != last:
                last = row["instruction"]
                instructions.append((round(float(row["t"]) * 1e6) * 1000, str(last)))
    except (KeyError, TypeError, ValueError) as err:
        raise _rerun_hint(path, f"has a damaged {METRICS} steps list ({err!r})") from None
    video = path / CAMERA_VIDEO
    image = ImageStream(TRUE_IMAGE_TOPIC, lambda: read_mp4(video), stamps, camera.K, camera.image_size, name=str(video))
    return Recording(source=str(path), kind="simulator episode", images=[image], ego_stamps_ns=stamps,
                     map_from_base=map_from_base, ego_velocity=np.column_stack([speed, np.zeros((len(speed), 2))]),
                     ego_yaw_rate=yaw_rate, base_from_camera=mounts[0], instructions=instructions,
                     paths=_plans(path, camera), path_frame=CAMERA_LINK_FRAME)
