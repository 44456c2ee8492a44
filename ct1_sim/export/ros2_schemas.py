"""ROS 2 message definitions (``.msg`` text, comments left out) for the types an MCAP export writes.

An MCAP file carries each channel's schema as the ``ros2msg`` text ROS 2 itself writes: the type's own fields,
then every nested type once, each after a line of 80 ``=`` and ``MSG: pkg/Name``. :func:`schema_text` builds
that text from the fields below (as in ROS 2 Jazzy's ``.msg`` files; ``tf2_msgs/msg/TFMessage`` is one line).
Nested types are written fully qualified (``geometry_msgs/Pose``) so any reader resolves them.
"""

from __future__ import annotations

import re

#: Fields of each message type, keyed by ``pkg/msg/Name``.
DEFINITIONS: dict[str, str] = {
    "builtin_interfaces/msg/Time": "int32 sec\nuint32 nanosec",
    "std_msgs/msg/Header": "builtin_interfaces/Time stamp\nstring frame_id",
    "std_msgs/msg/String": "string data",
    "geometry_msgs/msg/Point": "float64 x\nfloat64 y\nfloat64 z",
    "geometry_msgs/msg/Vector3": "float64 x\nfloat64 y\nfloat64 z",
    "geometry_msgs/msg/Quaternion": "float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1",
    "geometry_msgs/msg/Pose": "geometry_msgs/Point position\ngeometry_msgs/Quaternion orientation",
    "geometry_msgs/msg/PoseStamped": "std_msgs/Header header\ngeometry_msgs/Pose pose",
    "geometry_msgs/msg/PoseWithCovariance": "geometry_msgs/Pose pose\nfloat64[36] covariance",
    "geometry_msgs/msg/Twist": "geometry_msgs/Vector3 linear\ngeometry_msgs/Vector3 angular",
    "geometry_msgs/msg/TwistWithCovariance": "geometry_msgs/Twist twist\nfloat64[36] covariance",
    "geometry_msgs/msg/Transform": "geometry_msgs/Vector3 translation\ngeometry_msgs/Quaternion rotation",
    "geometry_msgs/msg/TransformStamped": "std_msgs/Header header\nstring child_frame_id\ngeometry_msgs/Transform transform",
    "tf2_msgs/msg/TFMessage": "geometry_msgs/TransformStamped[] transforms",
    "nav_msgs/msg/Path": "std_msgs/Header header\ngeometry_msgs/PoseStamped[] poses",
    "nav_msgs/msg/Odometry": ("std_msgs/Header header\nstring child_frame_id\ngeometry_msgs/PoseWithCovariance pose\n"
                              "geometry_msgs/TwistWithCovariance twist"),
    "sensor_msgs/msg/CompressedImage": "std_msgs/Header header\nstring format\nuint8[] data",
    "sensor_msgs/msg/RegionOfInterest": "uint32 x_offset\nuint32 y_offset\nuint32 height\nuint32 width\nbool do_rectify",
    "sensor_msgs/msg/CameraInfo": ("std_msgs/Header header\nuint32 height\nuint32 width\nstring distortion_model\n"
                                   "float64[] d\nfloat64[9] k\nfloat64[9] r\nfloat64[12] p\nuint32 binning_x\n"
                                   "uint32 binning_y\nsensor_msgs/RegionOfInterest roi"),
}

_SEPARATOR = "=" * 80
_NESTED = re.compile(r"^([a-z0-9_]+)/([A-Za-z0-9]+)(?:\[\d*\])?\s")


def _nested_types(type_name: str) -> list[str]:
    """The message types ``type_name``'s fields use directly, in field order (``pkg/msg/Name``)."""
    found = []
    for line in DEFINITIONS[type_name].splitlines():
        match = _NESTED.match(line)
        if match:
            found.append(f"{match.group(1)}/msg/{match.group(2)}")
    return found


def schema_text(type_name: str) -> str:
    """The ``ros2msg`` schema text of ``type_name`` (``pkg/msg/Name``) with every nested definition once."""
    if type_name not in DEFINITIONS:
        raise ValueError(f"no ROS 2 definition for {type_name!r}; known: {', '.join(sorted(DEFINITIONS))}")
    order: list[str] = []
    todo = list(_nested_types(type_name))
    while todo:
        name = todo.pop(0)
        if name not in order:
            order.append(name)
            todo.extend(_nested_types(name))
    parts = [DEFINITIONS[type_name]]
    for name in order:
        pkg, _, msg = name.split("/")
        parts.append(f"{_SEPARATOR}\nMSG: {pkg}/{msg}\n{DEFINITIONS[name]}")
    return "\n".join(parts) + "\n"
