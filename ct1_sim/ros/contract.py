"""The ROS contract of the ct1-sim bridge in one place: topic and service names, their standard types, frames.

Standard message types only (``sensor_msgs``, ``std_msgs``, ``nav_msgs``, ``std_srvs``), so the bridge works
with any rosbridge v2 server without custom messages. ``bridges/README.md`` documents the same table; the typed
alternative is the ``ct1_msgs`` package in ``bridges/ros2/``.
"""

from __future__ import annotations

# Inputs
IMAGE_TOPIC = "/ct1/image/compressed"
IMAGE_TYPE = "sensor_msgs/msg/CompressedImage"
INSTRUCTION_TOPIC = "/ct1/instruction"
INSTRUCTION_TYPE = "std_msgs/msg/String"
ODOM_TOPIC = "/odom"  # configurable
ODOM_TYPE = "nav_msgs/msg/Odometry"

# Outputs
BEST_TOPIC = "/ct1/trajectories/best"
SAMPLES_TOPIC = "/ct1/trajectories/samples"
PATH_TYPE = "nav_msgs/msg/Path"
VIDEO_TOPIC = "/ct1/video/compressed"
VIDEO_TYPE = "sensor_msgs/msg/CompressedImage"
#: What each instruction was read as (JSON text: supported, maneuver, speed, reason, nearest), one per prediction.
INSTRUCTION_STATUS_TOPIC = "/ct1/instruction/status"
INSTRUCTION_STATUS_TYPE = "std_msgs/msg/String"

# Service
PREDICT_SERVICE = "/ct1/predict"
PREDICT_TYPE = "std_srvs/srv/Trigger"

#: Frame of the published paths (REP 103 body axes: x forward, y left, z up), rooted at the current camera.
PATH_FRAME = "base_link"
#: Frame of the published video frames when the input image had none.
CAMERA_FRAME = "ct1_camera_optical"

#: Version of the JSON carried in the ``/ct1/predict`` response's ``message``.
PREDICT_JSON_VERSION = 1
