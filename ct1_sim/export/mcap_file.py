"""Writing a :class:`~ct1_sim.export.recording.Recording` as a ROS 2 MCAP file (``mcap`` + ``mcap-ros2-support``).

Topics (the ROS bridge's contract, ``bridges/README.md``, where it names one):

| topic | type | what |
| --- | --- | --- |
| ``/ct1/image/compressed`` + ``/ct1/image/camera_info`` | CompressedImage + CameraInfo | the true camera frames |
| ``/ct1/video/compressed`` + ``/ct1/video/camera_info`` | CompressedImage + CameraInfo | generated frames |
| ``/ct1/trajectories/best`` | Path | the chosen sample (the medoid) |
| ``/ct1/trajectories/samples`` | Path | the K samples, K messages at one stamp, in sample order |
| ``/ct1/trajectories/samples/<k>`` | Path | sample k alone (a viewer's 3D panel draws a topic's last message) |
| ``/ct1/trajectories/true`` | Path | the true future of a clip |
| ``/odom`` | Odometry | the ego (``map`` -> ``base_link``) |
| ``/tf``, ``/tf_static`` | TFMessage | ``map -> base_link`` at each ego stamp; ``base_link -> ct1_camera_link -> ct1_camera_optical`` |
| ``/ct1/instruction`` | String | the instruction, at the time it was given |

Every message's log time is its own stamp. The file is written under a temporary name beside ``out`` and renamed
at the end: a failure (a damaged source found half-way) leaves no file, and an existing ``out`` is untouched.
"""

from __future__ import annotations

import heapq
import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ct1_sim.atomic_files import atomic_write
from ct1_sim.export.recording import (
    BASE_FRAME,
    CAMERA_LINK_FRAME,
    MAP_FRAME,
    ImageStream,
    Recording,
    body_velocities,
    link_from_optical,
)
from ct1_sim.export.ros2_schemas import schema_text
from ct1_sim.ros import contract as c
from ct1_sim.ros.images import compress_rgb
from ct1_sim.ros.messages import camera_info, header, odometry, trajectory_to_path, transform_stamped

log = logging.getLogger(__name__)

TF_TOPIC = "/tf"
TF_STATIC_TOPIC = "/tf_static"
TRUE_PATH_TOPIC = "/ct1/trajectories/true"
TRUE_IMAGE_TOPIC = c.IMAGE_TOPIC
GENERATED_IMAGE_TOPIC = c.VIDEO_TOPIC
IMAGE_FORMATS = ("png", "jpeg")
TF_TYPE = "tf2_msgs/msg/TFMessage"
CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo"

#: One message to write: (log time ns, tie-break order, topic, type, message dict).
Message = tuple[int, int, str, str, dict[str, Any]]


def camera_info_topic(image_topic: str) -> str:
    """The ``camera_info`` topic beside ``image_topic`` (``/a/compressed`` -> ``/a/camera_info``)."""
    return image_topic.rsplit("/", 1)[0] + "/camera_info"


def _image_messages(stream: ImageStream, order: int, image_format: str, quality: int) -> Iterator[Message]:
    count = 0
    stamps = [int(s) for s in stream.stamps_ns]
    info_topic = camera_info_topic(stream.topic)
    for count, rgb in enumerate(stream.frames(), start=1):
        if count > len(stamps):
            raise ValueError(f"{stream.name} holds more frames than the {len(stamps)} its stamps name; the source is "
                             "damaged or mixed from two runs: write it again")
        stamp = stamps[count - 1]
        h, w = rgb.shape[:2]
        if (w, h) != tuple(stream.image_size):
            raise ValueError(f"{stream.name}: frame {count - 1} is {w}x{h}, not the {stream.image_size[0]}x"
                             f"{stream.image_size[1]} its intrinsics are for; the source is damaged")
        yield stamp, order, info_topic, CAMERA_INFO_TYPE, camera_info(stream.K, stream.image_size, stamp, stream.frame_id)
        data = compress_rgb(rgb, image_format, quality)
        yield stamp, order, stream.topic, c.IMAGE_TYPE, {"header": header(stamp, stream.frame_id), "format": image_format, "data": data}
    if count != len(stamps):
        raise ValueError(f"{stream.name} holds {count} frames but the source has {len(stamps)} stamps for them; the source "
                         "is truncated or damaged: write it again")


def _ego_messages(rec: Recording, order: int) -> Iterator[Message]:
    stamps = rec.ego_stamps_ns
    if rec.ego_velocity is None:
        linear, angular = body_velocities(stamps, rec.map_from_base)
    else:
        linear = rec.ego_velocity
        angular = np.zeros((len(stamps), 3))
        if rec.ego_yaw_rate is not None:
            angular[:, 2] = rec.ego_yaw_rate
    for i, stamp in enumerate(int(s) for s in stamps):
        T = rec.map_from_base[i]
        yield stamp, order, TF_TOPIC, TF_TYPE, {"transforms": [transform_stamped(T, stamp, MAP_FRAME, BASE_FRAME)]}
        yield stamp, order + 1, c.ODOM_TOPIC, c.ODOM_TYPE, odometry(T, stamp, MAP_FRAME, BASE_FRAME, tuple(linear[i]), tuple(angular[i]))


def _messages(rec: Recording, image_format: str, quality: int) -> Iterator[Message]:
    """All of ``rec``'s messages in log-time order (each stream is in time order; they are merged lazily)."""
    starts = [int(s.stamps_ns[0]) for s in rec.images if len(s.stamps_ns)]
    starts += [int(rec.ego_stamps_ns[0])] if len(rec.ego_stamps_ns) else []
    starts += [t for t, _ in rec.instructions] + [p.stamp_ns for p in rec.paths]
    if not starts:
        raise ValueError(f"{rec.source} holds nothing to export (no frames, poses, paths or instructions)")
    t0 = min(starts)
    optical = rec.images[0].frame_id if rec.images else c.CAMERA_FRAME
    base_from_link = rec.base_from_camera @ np.linalg.inv(link_from_optical())
    static = [transform_stamped(base_from_link, t0, BASE_FRAME, CAMERA_LINK_FRAME),
              transform_stamped(link_from_optical(), t0, CAMERA_LINK_FRAME, optical)]
    fixed: list[Message] = [(t0, 0, TF_STATIC_TOPIC, TF_TYPE, {"transforms": static})]
    fixed += [(t, 1, c.INSTRUCTION_TOPIC, c.INSTRUCTION_TYPE, {"data": text}) for t, text in sorted(rec.instructions)]
    for p in rec.paths:
        paths = [trajectory_to_path(t, p.stamp_ns, rec.path_frame) for t in p.trajectories]
        fixed += [(p.stamp_ns, 4, p.topic, c.PATH_TYPE, msg) for msg in paths]
        if len(paths) > 1:
            fixed += [(p.stamp_ns, 4, f"{p.topic}/{k}", c.PATH_TYPE, msg) for k, msg in enumerate(paths)]
    streams: list[Iterator[Message]] = [iter(sorted(fixed, key=lambda m: (m[0], m[1]))), _ego_messages(rec, 2)]
    streams += [_image_messages(s, 5 + i, image_format, quality) for i, s in enumerate(rec.images)]
    return heapq.merge(*streams, key=lambda m: (m[0], m[1]))


def check_output(out: Path, *, image_format: str, jpeg_quality: int, overwrite: bool) -> None:
    """Refuse (``ValueError``, ``FileExistsError``) options :func:`write_mcap` cannot use, before any work."""
    if image_format not in IMAGE_FORMATS:
        raise ValueError(f"image format must be one of {', '.join(IMAGE_FORMATS)}, got {image_format!r}")
    if not 1 <= jpeg_quality <= 95:
        raise ValueError(f"JPEG quality must be 1-95, got {jpeg_quality}")
    if out.suffix != ".mcap":
        raise ValueError(f"the output must end in .mcap (Foxglove and ros2 bag pick the reader by it), got {out.name}")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} already exists; replace it with overwrite=True (--force) or choose another path")


def write_mcap(rec: Recording, out: str | Path, *, image_format: str = "png", jpeg_quality: int = 90,
               overwrite: bool = False) -> dict[str, int]:
    """Write ``rec`` to ``out`` (``.mcap``, zstd chunks) atomically; returns the message count per topic.

    ``image_format`` ``png`` keeps frames exact; ``jpeg`` (``jpeg_quality`` 1-95) makes smaller files. Raises
    ``FileExistsError`` when ``out`` exists and ``overwrite`` is not set, ``ValueError`` for a bad option or a source
    found damaged while writing (then nothing is written).
    """
    from mcap_ros2.writer import Writer

    out = Path(out)
    check_output(out, image_format=image_format, jpeg_quality=jpeg_quality, overwrite=overwrite)
    counts: Counter[str] = Counter()
    with atomic_write(out) as tmp, open(tmp, "wb") as f:
        writer = Writer(f)
        schemas: dict[str, Any] = {}
        for stamp, _, topic, type_name, msg in _messages(rec, image_format, jpeg_quality):
            if type_name not in schemas:
                schemas[type_name] = writer.register_msgdef(type_name, schema_text(type_name))
            writer.write_message(topic, schemas[type_name], msg, log_time=stamp, publish_time=stamp, sequence=counts[topic])
            counts[topic] += 1
        writer.finish()
    log.info("wrote %s: %s", out, ", ".join(f"{t} {n}" for t, n in sorted(counts.items())))
    return dict(counts)
