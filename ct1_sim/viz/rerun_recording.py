"""Rerun recordings (``.rrd``, open with ``rerun FILE.rrd``): camera frames with their pinhole, the K sampled
camera paths in 3D and in a bird's-eye view, the true path and per-frame figures, on the data's own timeline.

Plain arrays in, so ``replay``, ``sim run`` and ``generate`` share it (each CLI command turns its own results
into these calls). rerun-sdk is optional (``pip install 'ct1-sim[rerun]'``); :func:`require_rerun` says so.

Entities (world frame: the data's; cameras in the OpenCV convention, x right, y down, z forward, metres)::

    world                   ViewCoordinates of the world frame (static): z up, or the first camera's RDF
    world/camera            Transform3D: the camera-to-world pose of the current frame
    world/camera/image      Pinhole (K, W x H, ViewCoordinates.RDF) and the frame (JPEG)
    world/paths/samples     LineStrips3D: camera centres of the K sampled paths, in the world frame
    world/paths/chosen      LineStrips3D: the sample that was followed (when there is one)
    world/paths/truth       LineStrips3D: the true path (when there is one)
    world/<name>            LineStrips3D: a static path (e.g. the simulator's route)
    bev/samples|chosen|truth  LineStrips2D: the same paths relative to the current camera seen from above:
                            (x right, -z) in metres, so forward is up in rerun's 2D view
    metrics/<name>          Scalar per frame
    instruction             TextDocument: the instruction in force

Timelines: ``time``, the data's timestamps (integer microseconds, logged as nanoseconds), and ``frame``, the
frame's number in the recording (distinct even where two clips of a store both start at time 0).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ct1_sim.atomic_files import atomic_write
from ct1_sim.viz.overlay import GROUND_TRUTH_COLOUR, PALETTE

INSTALL_HINT = "pip install 'ct1-sim[rerun]'"
TIMELINE, FRAME_TIMELINE = "time", "frame"
JPEG_QUALITY = 90
CAMERA, IMAGE = "world/camera", "world/camera/image"
WORLD_UP = ("z", "opencv")  # a z-up world (nuScenes global, the procedural map) | the first OpenCV camera's frame
CHOSEN_COLOUR = (255, 255, 255)


def require_rerun() -> ModuleType:
    """The ``rerun`` module, or ``ImportError`` naming the extra to install."""
    try:
        import rerun
    except ImportError as err:
        raise ImportError(f"rerun recordings need rerun-sdk, which is not installed: {INSTALL_HINT}") from err
    return rerun


def _centres(c2w: np.ndarray) -> np.ndarray:
    """Camera centres ``(...,3)`` of poses ``(...,4,4)``."""
    return np.asarray(c2w, dtype=np.float64)[..., :3, 3]


class RerunRecording:
    """One open recording; make it with :func:`rerun_recording`. Call :meth:`set_time` before logging a frame's data."""

    def __init__(self, stream: Any, rr: ModuleType) -> None:
        self._stream, self._rr = stream, rr

    def set_time(self, timestamp_us: int, frame: int) -> None:
        """Log what follows at ``timestamp_us`` (µs, the data's own clock) as frame number ``frame``."""
        self._stream.set_time_nanos(TIMELINE, int(timestamp_us) * 1000)
        self._stream.set_time_sequence(FRAME_TIMELINE, int(frame))

    def camera(self, image: np.ndarray, c2w: np.ndarray, K: np.ndarray) -> None:
        """The frame ``image (H,W,3)`` uint8 RGB seen by a camera at ``c2w`` (4x4, OpenCV, world frame) with pixel
        intrinsics ``K`` for that image size."""
        rr, c2w = self._rr, np.asarray(c2w, dtype=np.float64)
        h, w = image.shape[:2]
        self._stream.log(CAMERA, rr.Transform3D(translation=c2w[:3, 3], mat3x3=c2w[:3, :3]))
        self._stream.log(IMAGE, rr.Pinhole(image_from_camera=np.asarray(K, dtype=np.float64), resolution=[w, h],
                                           camera_xyz=rr.ViewCoordinates.RDF))
        self._stream.log(IMAGE, rr.Image(np.ascontiguousarray(image)).compress(jpeg_quality=JPEG_QUALITY))

    def paths(self, samples_c2w: np.ndarray, world_from_camera: np.ndarray, *, truth_c2w: np.ndarray | None = None,
              chosen: int | None = None) -> None:
        """The K sampled paths ``samples_c2w (K,T,4,4)`` and the true path ``truth_c2w (T,4,4)``, both relative to the
        current camera (OpenCV, metres), placed in the world with ``world_from_camera`` (its 4x4 pose) and drawn
        from above relative to it; ``chosen`` is the index of the sample that was followed."""
        rel = {"samples": _centres(samples_c2w)}
        colours = {"samples": [PALETTE[i % len(PALETTE)] for i in range(len(rel["samples"]))]}
        if chosen is not None:
            rel["chosen"], colours["chosen"] = rel["samples"][chosen : chosen + 1], [CHOSEN_COLOUR]
        if truth_c2w is not None:
            rel["truth"], colours["truth"] = _centres(truth_c2w)[None], [GROUND_TRUTH_COLOUR]
        R, t = np.asarray(world_from_camera, dtype=np.float64)[:3, :3], np.asarray(world_from_camera)[:3, 3]
        for name, points in rel.items():  # points (N,T,3) in the current camera's frame
            self._stream.log(f"world/paths/{name}", self._rr.LineStrips3D(points @ R.T + t, colors=colours[name]))
            self._stream.log(f"bev/{name}", self._rr.LineStrips2D(np.stack([points[..., 0], -points[..., 2]], axis=-1),
                                                                   colors=colours[name]))

    def static_path(self, name: str, points: np.ndarray, colour: tuple[int, int, int] = (128, 128, 128)) -> None:
        """A path ``points (N,3)`` in the world frame (m) that holds for the whole recording, at ``world/<name>``."""
        self._stream.log(f"world/{name}", self._rr.LineStrips3D([np.asarray(points, dtype=np.float64)], colors=[colour]),
                         static=True)

    def scalars(self, values: Mapping[str, float | int | bool | None]) -> None:
        """One ``metrics/<name>`` scalar each; None and non-finite values are left out (a gap in the plot)."""
        for name, value in values.items():
            if value is not None and math.isfinite(float(value)):
                self._stream.log(f"metrics/{name}", self._rr.Scalar(float(value)))

    def instruction(self, text: str) -> None:
        """The instruction in force from now on."""
        self._stream.log("instruction", self._rr.TextDocument(text))


@contextmanager
def rerun_recording(path: str | Path, *, world_up: str = "z", application_id: str = "ct1-sim") -> Iterator[RerunRecording]:
    """Yield a :class:`RerunRecording` streamed to a temp file beside ``path`` that becomes ``path`` when the block
    ends normally (on an error nothing is left). ``world_up``: ``"z"`` for a z-up world frame, ``"opencv"`` when the
    world is the first OpenCV camera (y down)."""
    if world_up not in WORLD_UP:
        raise ValueError(f"world_up must be one of {', '.join(WORLD_UP)}, got {world_up!r}")
    rr = require_rerun()
    with atomic_write(path) as tmp:
        stream = rr.new_recording(application_id=application_id)
        stream.save(str(tmp))
        try:
            stream.log("world", rr.ViewCoordinates.RIGHT_HAND_Z_UP if world_up == "z" else rr.ViewCoordinates.RDF,
                       static=True)
            yield RerunRecording(stream, rr)
            stream.flush(blocking=True)
        finally:
            stream.disconnect()  # closes the file before it is renamed (or removed)
