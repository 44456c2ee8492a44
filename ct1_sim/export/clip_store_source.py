"""A clip of a :class:`~ct1_sim.data.ClipStore` as a :class:`~ct1_sim.export.recording.Recording`: its frames on
the true-camera topic, its camera path as the ego (``map`` = the first camera's body frame) and as the true
future path, its instruction at frame 0's time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ct1_sim.data import ClipStore
from ct1_sim.export.mcap_file import TRUE_IMAGE_TOPIC, TRUE_PATH_TOPIC
from ct1_sim.export.recording import (
    ImageStream,
    PathSet,
    Recording,
    camera_path_in_map,
    pick_one,
    stamps_ns_of,
)


def load_clip(path: Path, item: str | None) -> Recording:
    """The clip ``item`` of the store at ``path`` (the only clip when ``item`` is None)."""
    store = ClipStore.open(path)
    clip_id = pick_one(store.ids(), item, "clip", path)
    traj = store.read_trajectory(clip_id)
    stamps = stamps_ns_of(traj)
    if stamps[0] < 0:
        raise ValueError(f"{path}: clip {clip_id!r} has negative timestamps; MCAP times start at 0")
    n = len(traj)

    def frames() -> Iterator[np.ndarray]:  # one (H,W,3) uint8 frame at a time: one chunk read each
        for i in range(n):
            try:
                yield store.read_frames(clip_id, [i])[0]
            except IndexError:
                raise ValueError(f"{path}: clip {clip_id!r} holds fewer frames than its {n} poses; the clip is damaged: "
                                 "re-render or re-curate it") from None

    meta = store.meta(clip_id)
    image = ImageStream(TRUE_IMAGE_TOPIC, frames, stamps, traj.K, traj.image_size, name=f"{path} clip {clip_id!r}")
    return Recording(source=f"{path} clip {clip_id}", kind="clip store", images=[image], ego_stamps_ns=stamps,
                     map_from_base=camera_path_in_map(traj), instructions=[(int(stamps[0]), meta["instruction"])],
                     paths=[PathSet(TRUE_PATH_TOPIC, int(stamps[0]), [traj])])
