"""Where replay keyframes come from: a nuScenes(-format) dataroot or a ClipStore.

A source lists scene names and turns one scene into :class:`Keyframe` objects: the conditioning frame, the true
future camera path (16 poses at 5 Hz, the clip spec) and its frames, the instruction derived from what the car
did, the true maneuver label and the ego speed. nuScenes keyframes are cut by the curation code
(:func:`ct1_sim.data.nuscenes.curate_scene`), so replay and training see the same windows and labels; keyframes
it rejects (no 3 s future, a recording gap, a pose jump, too little motion) are counted, not replayed.

Sources are small picklable objects so that Ray workers can rebuild them.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ct1_sim.data.clip import Clip
from ct1_sim.geometry import CameraTrajectory

log = logging.getLogger(__name__)


@dataclass
class Keyframe:
    """One replay query and its ground truth.

    Attributes:
        scene: scene name.
        index: keyframe number inside the scene (the order of replay).
        clip_id: the clip id the window has in a ClipStore (``<scene>-k<NNN>`` for nuScenes).
        frames: ``(T,H,W,3)`` uint8 RGB; frame 0 is the conditioning CAM_FRONT frame, the rest the true future.
        truth: the true camera path (camera-to-world, OpenCV axes, metres), one pose per frame.
        instruction: the instruction derived from the true path.
        maneuver: the maneuver label of the true path (``classify_maneuver``).
        speed_mps: the ego speed at the keyframe (m/s).
    """

    scene: str
    index: int
    clip_id: str
    frames: np.ndarray
    truth: CameraTrajectory
    instruction: str
    maneuver: str
    speed_mps: float

    @property
    def timestamp_us(self) -> int:
        return int(self.truth.timestamps_us[0])

    @classmethod
    def from_clip(cls, clip: Clip, index: int, speed_mps: float) -> Keyframe:
        return cls(scene=str(clip.meta["scene"]), index=index, clip_id=clip.id, frames=clip.frames, truth=clip.trajectory,
                   instruction=clip.instruction, maneuver=str(clip.meta["maneuver"]), speed_mps=float(speed_mps))


@dataclass
class SceneKeyframes:
    """A scene's keyframes and the number of keyframes skipped, by reason."""

    keyframes: list[Keyframe]
    skipped: Counter = field(default_factory=Counter)


#: Curation counts that are keyframes left out (its other counts are frames or description tags).
KEYFRAME_FILTERS = ("past_scene_end", "timestamp_gap", "pose_jump", "too_little_motion", "excluded_by_tag")


@functools.lru_cache(maxsize=4)
def _open_reader(dataroot: str, version: str):
    """One devkit instance per dataroot and version in a process (loading the tables is the slow part)."""
    from ct1_sim.data.nuscenes import NuScenesReader

    return NuScenesReader(dataroot, version)


@dataclass(frozen=True)
class NuScenesSource:
    """Keyframes of a nuScenes dataroot (any version folder the devkit reads)."""

    dataroot: str
    version: str
    scenes: tuple[str, ...] = ()
    image_size: tuple[int, int] | None = None  # (W,H) px to resize frames to; None keeps the recorded size

    def describe(self) -> dict:
        return {"kind": "nuscenes", "dataroot": str(Path(self.dataroot).resolve()), "version": self.version,
                "image_size": list(self.image_size) if self.image_size else None}

    def _reader(self):  # -> NuScenesReader (imported lazily)
        return _open_reader(str(Path(self.dataroot).resolve()), self.version)

    def scene_names(self) -> list[str]:
        """The scenes asked for (all of the version when none were), checked to exist."""
        reader = self._reader()
        names = list(self.scenes) or reader.scene_names
        for name in names:
            reader.scene(name)  # KeyError naming the scene and listing the known ones
        return names

    def load(self, scene: str) -> SceneKeyframes:
        """All keyframes of ``scene`` with a full 3 s future (curation's windows and filters)."""
        from ct1_sim.data.nuscenes import curate_scene

        result = curate_scene(self._reader(), scene, size=self.image_size)
        keyframes = [Keyframe.from_clip(c, int(c.meta["keyframe"]), c.meta["speed_mps"]) for c in result.clips]
        skipped = Counter({k: v for k, v in result.counts.items() if k in KEYFRAME_FILTERS and v})
        return SceneKeyframes(keyframes, skipped)


@dataclass(frozen=True)
class ClipStoreSource:
    """Keyframes of a ClipStore: every clip is one keyframe, grouped into scenes by ``meta['scene']``."""

    path: str

    def describe(self) -> dict:
        return {"kind": "clips", "path": str(Path(self.path).resolve())}

    def _scene_ids(self) -> dict[str, list[str]]:
        from ct1_sim.data import ClipStore

        store = ClipStore.open(self.path)
        scenes: dict[str, list[str]] = {}
        for clip_id in store.ids():
            scenes.setdefault(str(store.meta(clip_id)["scene"]), []).append(clip_id)
        return scenes

    def scene_names(self) -> list[str]:
        names = sorted(self._scene_ids())
        if not names:
            raise ValueError(f"clip store {self.path} holds no clips; render some with `ct1-sim scenarios render`")
        return names

    def load(self, scene: str) -> SceneKeyframes:
        from ct1_sim.data import ClipStore
        from ct1_sim.metrics import speeds_mps

        store = ClipStore.open(self.path)
        ids = self._scene_ids().get(scene)
        if ids is None:
            raise KeyError(f"no scene {scene!r} in {self.path}")
        keyframes = []
        for i, clip_id in enumerate(ids):
            clip = store[clip_id]
            speed = clip.meta.get("speed_mps")  # the recorded speed; else the path's speed over its first 0.6 s
            keyframes.append(Keyframe.from_clip(clip, i, speed if speed is not None else speeds_mps(clip.trajectory)[0]))
        return SceneKeyframes(keyframes)


Source = NuScenesSource | ClipStoreSource


def source_from_description(description: dict) -> Source:
    """The source a ``describe()`` dict (as a replay's ``run.json`` keeps it) names; ``ValueError`` for another dict."""
    kind = description.get("kind") if isinstance(description, dict) else None
    if kind == "nuscenes" and isinstance(description.get("dataroot"), str) and isinstance(description.get("version"), str):
        size = description.get("image_size")
        return NuScenesSource(description["dataroot"], description["version"], (), tuple(size) if size else None)
    if kind == "clips" and isinstance(description.get("path"), str):
        return ClipStoreSource(description["path"])
    raise ValueError(f"not a replay source description (kind 'nuscenes' with dataroot and version, or 'clips' with "
                     f"path): {description!r}")
