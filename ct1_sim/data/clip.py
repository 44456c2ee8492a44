"""``Clip``: one conditioning frame plus its future — frames, camera path, instruction, metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ct1_sim.geometry import CameraTrajectory

#: Metadata keys every clip carries.
REQUIRED_META_KEYS = ("source", "scene", "maneuver", "split")
SPLITS = ("train", "val", "test")
_CLIP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def check_clip_id(clip_id: str) -> str:
    """Clip ids name folders on disk: letters, digits, ``_ . -``, at most 128 characters."""
    if not isinstance(clip_id, str) or not _CLIP_ID.match(clip_id) or clip_id in (".", ".."):
        raise ValueError(
            f"clip id must be 1-128 characters of letters, digits, '_', '.', '-' (starting with a letter "
            f"or digit), got {clip_id!r}"
        )
    return clip_id


@dataclass(eq=False)
class Clip:
    """A driving clip.

    Attributes:
        id: unique id within a store (see :func:`check_clip_id`).
        frames: ``(T,H,W,3)`` uint8 RGB; frame 0 is the conditioning frame.
        trajectory: absolute camera-to-world path (OpenCV axes, metres), one pose per frame, with ``K``
            for images of ``(W,H)``.
        instruction: natural-language instruction the future follows.
        meta: JSON-serialisable dict with at least ``source``, ``scene``, ``maneuver``, ``split``.
        depth: optional ``(T,H,W)`` float16 metres along the optical axis (camera z).
    """

    id: str
    frames: np.ndarray
    trajectory: CameraTrajectory
    instruction: str
    meta: dict[str, Any] = field(default_factory=dict)
    depth: np.ndarray | None = None

    def __post_init__(self) -> None:
        check_clip_id(self.id)
        frames = np.asarray(self.frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"clip frames must be (T,H,W,3) uint8 RGB, got {frames.shape} {frames.dtype}")
        t, h, w, _ = frames.shape
        if len(self.trajectory) != t:
            raise ValueError(f"clip has {t} frames but its trajectory has {len(self.trajectory)} poses")
        if tuple(self.trajectory.image_size) != (w, h):
            raise ValueError(
                f"trajectory image_size {self.trajectory.image_size} does not match frames (W,H)=({w},{h}); "
                "use trajectory.with_image_size(W, H)"
            )
        if not isinstance(self.instruction, str):
            raise ValueError(f"instruction must be a string, got {type(self.instruction).__name__}")
        missing = [k for k in REQUIRED_META_KEYS if k not in self.meta]
        if missing:
            raise ValueError(f"clip meta is missing {missing}; every clip needs {list(REQUIRED_META_KEYS)}")
        if self.depth is not None:
            depth = np.asarray(self.depth)
            if depth.shape != (t, h, w):
                raise ValueError(f"clip depth must be (T,H,W)=({t},{h},{w}), got {depth.shape}")
            self.depth = depth.astype(np.float16, copy=False)
        self.frames = frames

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])
