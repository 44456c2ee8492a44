"""The ROS side of ct1-sim: a roslibpy bridge node that serves the world model through a rosbridge v2 server,
and the conversions between ct1-sim objects and ROS 2 messages (rosbridge JSON dicts).

The closed-loop simulator node (``ct1-sim sim ros``) lives in :mod:`ct1_sim.ros.sim_node` (with
:mod:`~ct1_sim.ros.sim_core`, :mod:`~ct1_sim.ros.sim_commands` and :mod:`~ct1_sim.ros.rosbridge_link`); it is not
imported here, so that ``import ct1_sim.ros`` does not load the simulator."""

from ct1_sim.ros.bridge import BridgeConfig, RosBridgeNode, prediction_json
from ct1_sim.ros.images import (
    ImageMessageError,
    compress_rgb,
    decode_compressed_image,
    encode_compressed_image,
)
from ct1_sim.ros.messages import (
    camera_info,
    header,
    matrix_to_pose,
    ns_to_stamp,
    odometry,
    odometry_speed,
    path_to_trajectory,
    pose_to_matrix,
    stamp_to_ns,
    trajectory_to_path,
    transform_stamped,
)

__all__ = [
    "BridgeConfig",
    "ImageMessageError",
    "RosBridgeNode",
    "camera_info",
    "compress_rgb",
    "decode_compressed_image",
    "encode_compressed_image",
    "header",
    "matrix_to_pose",
    "ns_to_stamp",
    "odometry",
    "odometry_speed",
    "path_to_trajectory",
    "pose_to_matrix",
    "prediction_json",
    "stamp_to_ns",
    "trajectory_to_path",
    "transform_stamped",
]
