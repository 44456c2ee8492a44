"""Metrics: trajectory errors (m, deg), CamI2V camera-control metrics, maneuver classification."""

from ct1_sim.metrics.camera_control import cam_mc, rot_err, trans_err
from ct1_sim.metrics.maneuver import (
    MANEUVERS,
    SPEED_BEHAVIOURS,
    classify_maneuver,
    classify_speed_behaviour,
    heading_deg,
    maneuver_compliance,
    speeds_mps,
)
from ct1_sim.metrics.trajectory_errors import ade, fde, jerk, l2_at, min_ade, min_fde, rotation_error_deg

__all__ = [
    "MANEUVERS", "SPEED_BEHAVIOURS", "ade", "cam_mc", "classify_maneuver", "classify_speed_behaviour", "fde",
    "heading_deg", "jerk", "l2_at", "maneuver_compliance", "min_ade", "min_fde", "rot_err", "rotation_error_deg",
    "speeds_mps", "trans_err",
]
