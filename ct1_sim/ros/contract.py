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


# ---------------------------------------------------------------------------------------------------------------
# Simulator node (``ct1-sim sim ros``, :mod:`ct1_sim.ros.sim_node`): the closed-loop simulator served over rosbridge,
# carla-ros-bridge style (synchronous by default: ``/ct1/sim/step`` advances one dt). Standard types only; the
# local test rosbridge has no ackermann_msgs or tf2_msgs type support, so those two are served where the server has them.

# Inputs (the latest command of any kind is held until another arrives)
SIM_CMD_VEL_TOPIC = "/ct1/sim/cmd_vel"
SIM_CMD_VEL_TYPE = "geometry_msgs/msg/Twist"  # linear.x speed m/s, angular.z yaw rate rad/s (left positive)
SIM_PATH_TOPIC = "/ct1/sim/path"
SIM_PATH_TYPE = "nav_msgs/msg/Path"  # in base_link (REP 103), timed by the poses' stamps or untimed
SIM_ACKERMANN_TOPIC = "/ct1/sim/ackermann_cmd"
SIM_ACKERMANN_TYPE = "ackermann_msgs/msg/AckermannDriveStamped"  # steering_angle rad, speed m/s, acceleration m/s^2

# Outputs (every step, all stamped with the simulation time of the step)
SIM_IMAGE_TOPIC = "/ct1/sim/camera/image/compressed"
SIM_IMAGE_TYPE = "sensor_msgs/msg/CompressedImage"  # JPEG
SIM_CAMERA_INFO_TOPIC = "/ct1/sim/camera/camera_info"
SIM_CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo"
SIM_ODOM_TOPIC = "/ct1/sim/odom"
SIM_ODOM_TYPE = "nav_msgs/msg/Odometry"  # map -> base_link (rear axle), twist in base_link
TF_TOPIC = "/tf"
TF_TYPE = "tf2_msgs/msg/TFMessage"  # map -> base_link -> camera optical frame
CLOCK_TOPIC = "/clock"
CLOCK_TYPE = "rosgraph_msgs/msg/Clock"
#: JSON per step: step metrics, action issues (clamped or replaced commands), termination, episode metrics at the end.
SIM_METRICS_TOPIC = "/ct1/sim/metrics"
SIM_METRICS_TYPE = "std_msgs/msg/String"
#: JSON events about the inputs: a new kind of command taken, a refused or malformed message, a bad value.
SIM_STATUS_TOPIC = "/ct1/sim/status"
SIM_STATUS_TYPE = "std_msgs/msg/String"

# Services
SIM_RESET_SERVICE = "/ct1/sim/reset"
SIM_STEP_SERVICE = "/ct1/sim/step"  # synchronous mode only
SIM_SERVICE_TYPE = "std_srvs/srv/Trigger"

# Frames (REP 105 names; base_link is the ego's rear axle, x forward, y left, z up)
MAP_FRAME = "map"
BASE_FRAME = "base_link"
SIM_CAMERA_FRAME = "front_camera_optical"  # OpenCV axes: x right, y down, z forward

#: Version of the JSON on ``/ct1/sim/metrics``, ``/ct1/sim/status`` and in the services' ``message``.
SIM_JSON_VERSION = 1
