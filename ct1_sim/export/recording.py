"""``Recording``: what an MCAP export writes, gathered from any source (clip store, generate/demo output, simulator
episode) before any message is built.

Frames (REP 103, as the ROS bridge publishes them):
- ``map``: the world, z up. For a clip or a prediction, whose world has no known up axis, it is the REP 103 body
  frame of the first camera pose (x forward, y left, z up at the camera centre), as the bridge's paths are.
- ``base_link``: the ego (REP 103 body axes), moving: ``/tf`` carries ``map -> base_link`` at every ego stamp.
- ``ct1_camera_link`` (REP 103 body axes) and ``ct1_camera_optical`` (OpenCV = ROS optical axes): the camera,
  fixed on ``base_link`` (``/tf_static``: ``base_link -> ct1_camera_link -> ct1_camera_optical``). Where the ego
  is the camera itself (clips, predictions, replays) ``ct1_camera_link`` is ``base_link``.
- Paths (``nav_msgs/msg/Path``) are in ``path_frame`` rooted at their first pose, stamped at that pose's time:
  ``base_link`` as the ROS bridge publishes them, or ``ct1_camera_link`` where the ego is not the camera
  (the simulator's rear axle).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ct1_sim.geometry import CameraTrajectory, change_pose_frame, frame_rotation
from ct1_sim.ros.contract import CAMERA_FRAME, PATH_FRAME

MAP_FRAME = "map"
BASE_FRAME = PATH_FRAME
CAMERA_OPTICAL_FRAME = CAMERA_FRAME
CAMERA_LINK_FRAME = "ct1_camera_link"


def link_from_optical() -> np.ndarray:
    """4x4 rotation from a camera's optical frame to its body-axes link frame (x forward, y left, z up): also
    ``base_link``-from-``ct1_camera_optical`` where the ego is the camera."""
    T = np.eye(4)
    T[:3, :3] = frame_rotation("ros_body", "ros_optical")
    return T


def camera_path_in_map(traj: CameraTrajectory) -> np.ndarray:
    """``(T,4,4)`` poses of ``base_link`` in ``map`` for a camera path whose ``map`` is its first pose's body frame
    (the same conversion as :func:`ct1_sim.ros.messages.trajectory_to_path`)."""
    return change_pose_frame(traj.relative_to_first().c2w, "opencv", "ros_body")


@dataclass
class ImageStream:
    """Camera frames on one topic (``.../compressed``; its ``camera_info`` beside it).

    ``frames`` is called once and yields RGB uint8 ``(H,W,3)`` frames, one per ``stamps_ns`` entry (ns since the
    epoch), lazily (a long drive is never held in memory). ``K`` (pixels) is for ``image_size`` ``(W, H)``.
    ``name`` says which file the frames come from (for errors)."""

    topic: str
    frames: Callable[[], Iterator[np.ndarray]]
    stamps_ns: np.ndarray
    K: np.ndarray
    image_size: tuple[int, int]
    name: str
    frame_id: str = CAMERA_OPTICAL_FRAME


@dataclass
class PathSet:
    """Camera paths published on ``topic`` at ``stamp_ns`` (ns), in sample order (the bridge's samples topic)."""

    topic: str
    stamp_ns: int
    trajectories: list[CameraTrajectory]


@dataclass
class Recording:
    """Everything one MCAP file holds. ``ego_stamps_ns (N,)`` and ``map_from_base (N,4,4)`` give the ego path
    (REP 103 ``base_link`` in ``map``, metres); ``ego_velocity (N,3)`` its velocity in ``base_link`` (m/s) and
    ``ego_yaw_rate (N,)`` (rad/s), when known; ``base_from_camera`` the fixed camera mount (``base_link`` from
    ``ct1_camera_optical``); ``path_frame`` the frame the paths are rooted in."""

    source: str
    kind: str
    images: list[ImageStream] = field(default_factory=list)
    ego_stamps_ns: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    map_from_base: np.ndarray = field(default_factory=lambda: np.zeros((0, 4, 4)))
    ego_velocity: np.ndarray | None = None
    ego_yaw_rate: np.ndarray | None = None
    base_from_camera: np.ndarray = field(default_factory=link_from_optical)
    instructions: list[tuple[int, str]] = field(default_factory=list)
    paths: list[PathSet] = field(default_factory=list)
    path_frame: str = BASE_FRAME


def stamps_ns_of(traj: CameraTrajectory, start_ns: int = 0) -> np.ndarray:
    """Nanosecond stamps of ``traj``'s poses (its own microsecond times, shifted by ``start_ns``)."""
    return start_ns + traj.timestamps_us.astype(np.int64) * 1000


def body_velocities(stamps_ns: np.ndarray, map_from_base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear ``(N,3)`` (m/s) and angular ``(N,3)`` (rad/s) velocities in ``base_link`` by finite differences of
    the ego poses: each pose's motion to the next one (the last pose repeats the one before; one pose: zero)."""
    from scipy.spatial.transform import Rotation

    n = len(stamps_ns)
    linear, angular = np.zeros((n, 3)), np.zeros((n, 3))
    for i in range(n - 1):
        dt = (int(stamps_ns[i + 1]) - int(stamps_ns[i])) * 1e-9
        if dt <= 0:
            continue
        step = np.linalg.inv(map_from_base[i]) @ map_from_base[i + 1]  # pose i+1 in base_link i
        linear[i] = step[:3, 3] / dt
        angular[i] = Rotation.from_matrix(step[:3, :3]).as_rotvec() / dt
    if n > 1:
        linear[-1], angular[-1] = linear[-2], angular[-2]
    return linear, angular


def pick_one(names: list[str], item: str | None, what: str, where: Path) -> str:
    """``item`` when it is one of ``names``; the only name when ``item`` is None; else a ``ValueError`` listing them."""
    if item is not None:
        if item not in names:
            shown = ", ".join(names[:10]) + (f", ... ({len(names)} in all)" if len(names) > 10 else "")
            raise ValueError(f"no {what} {item!r} in {where}; choose one of: {shown or '(none)'}")
        return item
    if len(names) == 1:
        return names[0]
    if not names:
        raise ValueError(f"{where} holds no {what}s; nothing to export")
    shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
    raise ValueError(f"{where} holds {len(names)} {what}s; choose one with --item NAME ({shown})")
