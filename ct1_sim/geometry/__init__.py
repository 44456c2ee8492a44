"""Camera geometry: trajectories, rotations, frames, mirroring, Plücker rays, validation. numpy/scipy only (no torch)."""

from ct1_sim.geometry.frames import change_pose_frame, change_sensor_frame, convert_points, frame_rotation
from ct1_sim.geometry.intrinsics import (
    intrinsics_from_fov,
    intrinsics_from_normalized,
    normalized_intrinsics,
    scale_intrinsics,
)
from ct1_sim.geometry.mirror import mirror_c2w
from ct1_sim.geometry.plucker import plucker_embedding
from ct1_sim.geometry.rotations import (
    geodesic_angle,
    matrix_to_quat,
    matrix_to_rot6d,
    quat_to_matrix,
    rot6d_to_matrix,
    slerp_rotations,
)
from ct1_sim.geometry.trajectory import CameraTrajectory, invert_rigid
from ct1_sim.geometry.validation import check_image_size, check_intrinsics, check_poses, check_timestamps

__all__ = [
    "CameraTrajectory",
    "change_pose_frame",
    "change_sensor_frame",
    "check_image_size",
    "check_intrinsics",
    "check_poses",
    "check_timestamps",
    "convert_points",
    "frame_rotation",
    "geodesic_angle",
    "intrinsics_from_fov",
    "intrinsics_from_normalized",
    "invert_rigid",
    "matrix_to_quat",
    "matrix_to_rot6d",
    "mirror_c2w",
    "normalized_intrinsics",
    "plucker_embedding",
    "quat_to_matrix",
    "rot6d_to_matrix",
    "scale_intrinsics",
    "slerp_rotations",
]
