"""Camera and body frame conventions and the conversions between them (numpy only).

Frames (axes as seen from the sensor or the vehicle):
- ``opencv``: camera, x right, y down, z forward (ct1-sim's convention everywhere).
- ``ros_optical``: ROS ``*_optical`` frames (REP 103) — the same axes as OpenCV.
- ``ros_body``: ROS body frames such as ``base_link`` (REP 103): x forward, y left, z up.
- ``opengl``: OpenGL / Blender camera: x right, y up, z backward (what a rasteriser's view matrix uses).

A pose is a 4x4 ``c2w`` (sensor-to-world). ``change_sensor_frame`` re-expresses which axes the sensor
uses while keeping the world frame; ``change_pose_frame`` also re-expresses the world frame, which is what
you want for relative trajectories whose world is the first camera (e.g. a path in ``base_link``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

FrameName = Literal["opencv", "ros_optical", "ros_body", "opengl"]

# Rotation taking coordinates in the named frame to coordinates in the OpenCV frame.
_OPENCV_FROM: dict[str, np.ndarray] = {
    "opencv": np.eye(3),
    "ros_optical": np.eye(3),
    # body x forward -> opencv z; body y left -> opencv -x; body z up -> opencv -y
    "ros_body": np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]),
    # opengl x right -> x; y up -> -y; z backward -> -z
    "opengl": np.diag([1.0, -1.0, -1.0]),
}


def frame_rotation(dst: FrameName, src: FrameName) -> np.ndarray:
    """3x3 rotation ``dst_from_src`` mapping point coordinates in frame ``src`` to frame ``dst``."""
    for name in (dst, src):
        if name not in _OPENCV_FROM:
            raise ValueError(f"unknown frame {name!r}; choose one of {sorted(_OPENCV_FROM)}")
    return _OPENCV_FROM[dst].T @ _OPENCV_FROM[src]


def _homogeneous(R: np.ndarray) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = R
    return T


def convert_points(points: np.ndarray, src: FrameName, dst: FrameName) -> np.ndarray:
    """Points ``(...,3)`` expressed in frame ``src`` -> the same points expressed in frame ``dst``."""
    return np.asarray(points, dtype=np.float64) @ frame_rotation(dst, src).T


def change_sensor_frame(c2w: np.ndarray, src: FrameName, dst: FrameName) -> np.ndarray:
    """Poses ``(...,4,4)`` of a sensor using axes ``src`` -> poses of the same sensor using axes ``dst``.

    The world frame is unchanged: ``world_from_dst = world_from_src @ src_from_dst``.
    """
    return np.asarray(c2w, dtype=np.float64) @ _homogeneous(frame_rotation(src, dst))


def change_pose_frame(c2w: np.ndarray, src: FrameName, dst: FrameName) -> np.ndarray:
    """Re-express both the world and the sensor axes of poses ``(...,4,4)`` from ``src`` to ``dst``.

    For a trajectory relative to its first camera (OpenCV), ``change_pose_frame(c2w, "opencv", "ros_body")``
    gives the same motion as a path in the first pose's ``base_link``-style body frame.
    """
    B = _homogeneous(frame_rotation(dst, src))
    return B @ np.asarray(c2w, dtype=np.float64) @ B.T
