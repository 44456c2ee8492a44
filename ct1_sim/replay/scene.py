"""Replay one scene: at every keyframe predict K paths (and optionally the video), score them, draw them.

Pure with respect to the output folder: :func:`replay_scene` returns a :class:`SceneResult` (table rows, pose
arrays, encoded PNG/MP4 files as bytes) that the caller writes atomically, so it can run in a Ray worker on
another machine.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from ct1_sim.clip_spec import check_num_samples
from ct1_sim.replay.instruction_maneuver import maneuver_of_instruction
from ct1_sim.replay.scoring import score_keyframe, summarize
from ct1_sim.replay.sources import Keyframe, Source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplaySettings:
    """What a replay computes (everything that changes its results).

    Attributes:
        num_samples: K trajectories per keyframe.
        instruction: a fixed instruction for every keyframe; ``None`` uses the one derived from the true path.
        video: also roll out the future video that follows the medoid sample (needs a video model).
        seed: base seed; each keyframe's seed is derived from it, the scene name and the keyframe number, so
            results do not depend on which worker ran the scene.
        overlay_width: width (px) of the per-keyframe overlay pictures.
    """

    num_samples: int = 8
    instruction: str | None = None
    video: bool = False
    seed: int = 0
    overlay_width: int = 480

    def __post_init__(self) -> None:
        check_num_samples(self.num_samples, "--samples")
        if self.instruction is not None and not self.instruction.strip():
            raise ValueError("--instruction is empty; leave it out to use the instruction derived from each keyframe")


@dataclass
class SceneResult:
    """Everything one scene produced: per-keyframe rows and arrays, files (relative path -> bytes), a summary."""

    scene: str
    rows: list[dict[str, Any]]
    arrays: dict[str, np.ndarray]
    files: dict[str, bytes] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def keyframe_seed(base: int, scene: str, index: int) -> int:
    """The seed of keyframe ``index`` of ``scene``: a hash of both mixed with ``base`` (31-bit)."""
    h = int(hashlib.sha256(f"{scene}/{index}".encode()).hexdigest()[:8], 16)
    return (h + 1_000_003 * int(base)) % 2**31


def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError("OpenCV could not encode a PNG")
    return buf.tobytes()


def _videos(kf: Keyframe, frames: np.ndarray, fps: float) -> tuple[bytes, bytes]:
    """MP4 bytes of the generated frames and of the true future at the same size and rate."""
    from ct1_sim.media import mp4_bytes

    t, h, w, _ = frames.shape
    true = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in kf.frames[:t]])
    return mp4_bytes(frames, fps=fps), mp4_bytes(true, fps=fps)


def replay_keyframe(world: Any, kf: Keyframe, settings: ReplaySettings) -> tuple[dict[str, Any], list, Any]:
    """Predict (and roll out) one keyframe; returns its table row, the K samples and the rollout (or None)."""
    instruction = settings.instruction or kf.instruction
    instructed = maneuver_of_instruction(settings.instruction) if settings.instruction else kf.maneuver
    seed = keyframe_seed(settings.seed, kf.scene, kf.index)
    image = kf.frames[0]
    rollout = None
    if settings.video:
        rollout = world.rollout(image, instruction, num_frames=len(kf.truth), num_samples=settings.num_samples, seed=seed,
                                speed=kf.speed_mps)
        samples = rollout.trajectories
    else:
        samples = world.predict(image, instruction, num_samples=settings.num_samples, seed=seed, speed=kf.speed_mps).trajectories
    row: dict[str, Any] = {"scene": kf.scene, "keyframe": kf.index, "clip_id": kf.clip_id, "timestamp_us": kf.timestamp_us,
                           "instruction": instruction, "instructed_maneuver": instructed or "unknown",
                           "true_maneuver": kf.maneuver, "speed_mps": kf.speed_mps, "seed": seed}
    row.update(score_keyframe(samples, kf.truth, instructed))
    return row, samples, rollout


def replay_scene(world: Any, source: Source, scene: str, settings: ReplaySettings) -> SceneResult:
    """Replay every keyframe of ``scene`` in order with ``world`` (a :class:`~ct1_sim.world.WorldModel` or any
    object with the same ``predict`` / ``rollout``)."""
    t0 = time.perf_counter()
    loaded = source.load(scene)
    t_load = time.perf_counter() - t0
    rows, preds, truths, files = [], [], [], {}
    for kf in tqdm(loaded.keyframes, desc=f"  {scene}", unit="keyframe", leave=False):
        row, samples, rollout = replay_keyframe(world, kf, settings)
        stem = f"k{kf.index:03d}"
        row["overlay"] = f"overlays/{stem}.png"
        from ct1_sim.viz.keyframe_panel import keyframe_panel

        files[row["overlay"]] = _png(keyframe_panel(kf.frames[0], samples, kf.truth, width=settings.overlay_width))
        row["video_generated"] = row["video_true"] = ""
        if rollout is not None:
            generated, true = _videos(kf, rollout.frames, rollout.fps)
            row["video_generated"], row["video_true"] = f"videos/{stem}_generated.mp4", f"videos/{stem}_true.mp4"
            files[row["video_generated"]], files[row["video_true"]] = generated, true
        rows.append(row)
        preds.append(np.stack([s.relative_to_first().c2w for s in samples]))
        truths.append(kf.truth.relative_to_first().c2w)
    arrays = {"pred_c2w": np.stack(preds), "true_c2w": np.stack(truths)} if rows else {}
    summary = {"scene": scene, "keyframes": len(rows), "skipped": dict(loaded.skipped), **summarize(rows),
               "timing": {"load_s": t_load, "total_s": time.perf_counter() - t0}}
    log.info("scene %s: %d keyframes, minADE %.2f m", scene, len(rows), summary["min_ade"])
    return SceneResult(scene, rows, arrays, files, summary)
