"""Metrics (numpy/scipy only): trajectory errors (m, deg, m/s^3), CamI2V camera-control metrics, and the
maneuver / speed behaviour read off a camera path (instruction compliance).

Every trajectory argument is a :class:`~ct1_sim.geometry.CameraTrajectory` or a ``(T,4,4)`` camera-to-world
array (OpenCV axes, metres); sample sets are sequences of those or ``(K,T,4,4)`` arrays. Paths are compared
relative to their own first pose. Definitions follow the "Metrics" section of the architecture page.
"""

from ct1_sim.metrics.camera_control import cam_mc, rot_err, trans_err
from ct1_sim.metrics.drivable_area import inside_drivable, leaves_drivable_area, offroad_share
from ct1_sim.metrics.image_fidelity import psnr, ssim
from ct1_sim.metrics.kernel_distance import kernel_distance
from ct1_sim.metrics.maneuver import (
    MANEUVERS,
    SPEED_BEHAVIOURS,
    classify_drive,
    classify_maneuver,
    classify_maneuvers,
    classify_speed_behaviour,
    heading_deg,
    maneuver_compliance,
    speeds_mps,
)
from ct1_sim.metrics.region_fidelity import masked_psnr, sharpness_ratio
from ct1_sim.metrics.trajectory_errors import (
    ade,
    fde,
    jerk,
    l2_at,
    medoid_index,
    min_ade,
    min_fde,
    rotation_error_deg,
)

__all__ = [
    "MANEUVERS",
    "SPEED_BEHAVIOURS",
    "ade",
    "cam_mc",
    "classify_drive",
    "classify_maneuver",
    "classify_maneuvers",
    "classify_speed_behaviour",
    "fde",
    "heading_deg",
    "inside_drivable",
    "jerk",
    "kernel_distance",
    "l2_at",
    "leaves_drivable_area",
    "maneuver_compliance",
    "masked_psnr",
    "medoid_index",
    "min_ade",
    "min_fde",
    "offroad_share",
    "psnr",
    "rot_err",
    "rotation_error_deg",
    "sharpness_ratio",
    "speeds_mps",
    "ssim",
    "trans_err",
]
