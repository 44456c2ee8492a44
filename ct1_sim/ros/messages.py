"""Conversions between ct1-sim objects and ROS 2 messages as rosbridge JSON (plain dicts).

Shapes are ROS 2's: ``header.stamp = {"sec", "nanosec"}`` (no ``seq``), quaternions ``{x, y, z, w}``. Stamps in
ROS 1 shape (``secs``/``nsecs``) are accepted on input.

Frames: a ``CameraTrajectory`` is camera-to-world in OpenCV camera axes (x right, y down, z forward). A
published ``nav_msgs/msg/Path`` is in a REP 103 body frame (``base_link``: x forward, y left, z up) rooted at the
current camera pose: pose 0 is the origin with identity orientation, pose i is where the vehicle will be at
``header.stamp + t_i``. No camera-to-base offset is applied: the origin is the camera's centre.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ct1_sim.geometry import CameraTrajectory, change_pose_frame, matrix_to_quat, quat_to_matrix
from ct1_sim.ros.contract import PATH_FRAME

NS_PER_S = 1_000_000_000


def stamp_to_ns(stamp: Mapping[str, Any] | None) -> int:
    """Nanoseconds since the epoch of a ROS stamp ``{"sec", "nanosec"}`` (or ROS 1 ``{"secs", "nsecs"}``).

    A missing or empty stamp is 0 (ROS's "no time"). Raises ``ValueError`` for negative or non-integer fields.
    """
    if not stamp:
        return 0
    if not isinstance(stamp, Mapping):
        raise ValueError(f"stamp must be an object {{sec, nanosec}}, got {type(stamp).__name__}")
    sec = stamp.get("sec", stamp.get("secs", 0))
    nanosec = stamp.get("nanosec", stamp.get("nsecs", 0))
    for name, value in (("sec", sec), ("nanosec", nanosec)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or value < 0:
            raise ValueError(f"stamp.{name} must be a non-negative integer, got {value!r}")
    return int(sec) * NS_PER_S + int(nanosec)


def ns_to_stamp(ns: int) -> dict[str, int]:
    """ROS 2 ``builtin_interfaces/msg/Time`` of ``ns`` nanoseconds since the epoch."""
    if ns < 0:
        raise ValueError(f"time must be >= 0 ns, got {ns}")
    sec, nanosec = divmod(int(ns), NS_PER_S)
    return {"sec": sec, "nanosec": nanosec}


def header(stamp_ns: int, frame_id: str) -> dict[str, Any]:
    """``std_msgs/msg/Header`` (ROS 2: stamp + frame_id, no seq)."""
    return {"stamp": ns_to_stamp(stamp_ns), "frame_id": frame_id}


def matrix_to_pose(T: np.ndarray) -> dict[str, dict[str, float]]:
    """``geometry_msgs/msg/Pose`` of a rigid 4x4 transform (position in metres, quaternion x, y, z, w)."""
    T = np.asarray(T, dtype=np.float64)
    q = matrix_to_quat(T[:3, :3], order="xyzw")
    return {
        "position": {"x": float(T[0, 3]), "y": float(T[1, 3]), "z": float(T[2, 3])},
        "orientation": {"x": float(q[0]), "y": float(q[1]), "z": float(q[2]), "w": float(q[3])},
    }


def _numbers(obj: Any, keys: tuple[str, ...], where: str) -> list[float]:
    if not isinstance(obj, Mapping):
        raise ValueError(f"{where} must be an object with {', '.join(keys)}, got {type(obj).__name__}")
    out = []
    for k in keys:
        v = obj.get(k)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ValueError(f"{where}.{k} must be a finite number, got {v!r}")
        out.append(float(v))
    return out


def pose_to_matrix(pose: Mapping[str, Any]) -> np.ndarray:
    """4x4 rigid transform of a ``geometry_msgs/msg/Pose`` dict; ``ValueError`` names a missing or bad field."""
    if not isinstance(pose, Mapping):
        raise ValueError(f"pose must be an object {{position, orientation}}, got {type(pose).__name__}")
    p = _numbers(pose.get("position"), ("x", "y", "z"), "pose.position")
    q = _numbers(pose.get("orientation"), ("x", "y", "z", "w"), "pose.orientation")
    T = np.eye(4)
    T[:3, :3] = quat_to_matrix(np.array(q), order="xyzw")
    T[:3, 3] = p
    return T


def trajectory_to_path(traj: CameraTrajectory, stamp_ns: int, frame_id: str = PATH_FRAME) -> dict[str, Any]:
    """``nav_msgs/msg/Path`` of ``traj`` in a REP 103 body frame rooted at its first pose.

    The path's ``header.stamp`` is ``stamp_ns`` (the time of the input image); pose i is stamped
    ``stamp_ns + (timestamps_us[i] - timestamps_us[0]) * 1000``, its future time. Pose 0 is the origin.
    """
    rel = traj.relative_to_first()
    body = change_pose_frame(rel.c2w, "opencv", "ros_body")  # (T,4,4): base_link_i in base_link_0
    positions = body[:, :3, 3].tolist()  # (T,3) m
    quats = matrix_to_quat(body[:, :3, :3], order="xyzw").tolist()  # (T,4), all poses in one call
    offsets_ns = ((rel.timestamps_us - rel.timestamps_us[0]) * 1000).tolist()
    poses = [
        {"header": header(stamp_ns + dt, frame_id),
         "pose": {"position": dict(zip("xyz", p, strict=True)), "orientation": dict(zip("xyzw", q, strict=True))}}
        for p, q, dt in zip(positions, quats, offsets_ns, strict=True)
    ]
    return {"header": header(stamp_ns, frame_id), "poses": poses}


def path_to_trajectory(path: Mapping[str, Any], K: np.ndarray, image_size: tuple[int, int]) -> CameraTrajectory:
    """Inverse of :func:`trajectory_to_path`: OpenCV camera-to-world poses (the world is pose 0's camera).

    A Path carries no intrinsics, so ``K`` (pixels) and ``image_size`` ``(W, H)`` are given. Timestamps are the
    poses' stamps in microseconds since the epoch (their own stamps; a zero stamp falls back to the path's).
    """
    if not isinstance(path, Mapping) or not isinstance(path.get("poses"), list) or not path["poses"]:
        raise ValueError("path must be a nav_msgs/msg/Path object with a non-empty poses list")
    path_ns = stamp_to_ns((path.get("header") or {}).get("stamp"))
    mats, times_ns = [], []
    for i, stamped in enumerate(path["poses"]):
        if not isinstance(stamped, Mapping):
            raise ValueError(f"poses[{i}] must be a geometry_msgs/msg/PoseStamped object")
        try:
            mats.append(pose_to_matrix(stamped.get("pose")))
            t = stamp_to_ns((stamped.get("header") or {}).get("stamp"))
        except ValueError as err:
            raise ValueError(f"poses[{i}]: {err}") from None
        times_ns.append(t if t > 0 else path_ns)
    body = np.stack(mats)
    body = np.linalg.inv(body[0]) @ body  # make pose 0 the origin
    c2w = change_pose_frame(body, "ros_body", "opencv")
    return CameraTrajectory(c2w=c2w, K=K, image_size=image_size, timestamps_us=np.asarray(times_ns, dtype=np.int64) // 1000)


def odometry_speed(msg: Mapping[str, Any]) -> float:
    """Speed (m/s) from a ``nav_msgs/msg/Odometry``: the norm of ``twist.twist.linear`` x and y (child frame)."""
    value: Any = msg
    for key in ("twist", "twist", "linear"):
        value = value.get(key) if isinstance(value, Mapping) else None
    vx, vy = _numbers(value, ("x", "y"), "odometry.twist.twist.linear")
    return math.hypot(vx, vy)


def camera_info(K: np.ndarray, image_size: tuple[int, int], stamp_ns: int, frame_id: str) -> dict[str, Any]:
    """``sensor_msgs/msg/CameraInfo`` of a pinhole camera without distortion: ``K`` (3x3, pixels) for
    ``image_size`` ``(W, H)``; ``P = [K | 0]`` (a monocular camera), ``R`` the identity."""
    K = np.asarray(K, dtype=np.float64)
    w, h = (int(v) for v in image_size)
    P = np.concatenate([K, np.zeros((3, 1))], axis=1)
    return {"header": header(stamp_ns, frame_id), "height": h, "width": w, "distortion_model": "plumb_bob",
            "d": [0.0] * 5, "k": K.reshape(-1).tolist(), "r": np.eye(3).reshape(-1).tolist(), "p": P.reshape(-1).tolist(),
            "binning_x": 0, "binning_y": 0}


def transform_stamped(T: np.ndarray, stamp_ns: int, frame_id: str, child_frame_id: str) -> dict[str, Any]:
    """``geometry_msgs/msg/TransformStamped``: ``T`` (4x4) is ``frame_id``-from-``child_frame_id`` (the child's
    pose in the parent frame, metres)."""
    pose = matrix_to_pose(T)
    return {"header": header(stamp_ns, frame_id), "child_frame_id": child_frame_id,
            "transform": {"translation": pose["position"], "rotation": pose["orientation"]}}


def odometry(T: np.ndarray, stamp_ns: int, frame_id: str, child_frame_id: str,
             linear: tuple[float, float, float] = (0.0, 0.0, 0.0),
             angular: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> dict[str, Any]:
    """``nav_msgs/msg/Odometry``: pose ``T`` (4x4, ``child_frame_id`` in ``frame_id``) and the twist in the child
    frame (``linear`` m/s, ``angular`` rad/s); covariances zero (unknown)."""
    return {"header": header(stamp_ns, frame_id), "child_frame_id": child_frame_id,
            "pose": {"pose": matrix_to_pose(T), "covariance": [0.0] * 36},
            "twist": {"twist": {"linear": dict(zip("xyz", map(float, linear), strict=True)),
                                "angular": dict(zip("xyz", map(float, angular), strict=True))},
                      "covariance": [0.0] * 36}}


def planar_pose_matrix(x: float, y: float, yaw: float) -> np.ndarray:
    """4x4 transform of a pose on the ground plane: position ``x, y`` (m, z = 0), heading ``yaw`` (rad about z up,
    counter-clockwise from +x, REP 103)."""
    c, s = math.cos(yaw), math.sin(yaw)
    T = np.eye(4)
    T[:2, :2] = [[c, -s], [s, c]]
    T[:2, 3] = [x, y]
    return T


def clock(stamp_ns: int) -> dict[str, Any]:
    """``rosgraph_msgs/msg/Clock`` of ``stamp_ns`` (the simulation time, ns)."""
    return {"clock": ns_to_stamp(stamp_ns)}


def tf_message(transforms: list[dict[str, Any]]) -> dict[str, Any]:
    """``tf2_msgs/msg/TFMessage`` of :func:`transform_stamped` dicts."""
    return {"transforms": list(transforms)}
