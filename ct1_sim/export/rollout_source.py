"""A ``ct1-sim generate`` output (``OUT.mp4`` + ``OUT.json``) or a ``ct1-sim demo`` output folder (one sample of
it) as a :class:`~ct1_sim.export.recording.Recording`.

What a rollout holds: the input frame (true camera topic, at the first pose's time), the K sampled paths and the
chosen one (their medoid, the one the video follows), the generated frames (the video topic, at the chosen path's
times), the instruction; the ego follows the chosen path (the generated video's camera). Without a trajectory model
the demo writes each sample's true future instead: it becomes the true path and the ego's.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ct1_sim.export.mcap_file import GENERATED_IMAGE_TOPIC, TRUE_IMAGE_TOPIC, TRUE_PATH_TOPIC
from ct1_sim.export.recording import (
    ImageStream,
    PathSet,
    Recording,
    camera_path_in_map,
    pick_one,
    stamps_ns_of,
)
from ct1_sim.formats import read_trajectory, trajectory_from_dict
from ct1_sim.geometry import CameraTrajectory, scale_intrinsics
from ct1_sim.media import read_mp4
from ct1_sim.metrics import medoid_index
from ct1_sim.rgb_input import decode_image
from ct1_sim.ros import contract as c

log = logging.getLogger(__name__)

SUMMARY = "summary.json"


def is_demo_folder(path: Path) -> bool:
    """Whether ``path`` looks like a ``ct1-sim demo`` output folder (``summary.json`` beside ``index.html``)."""
    return (path / SUMMARY).is_file() and (path / "index.html").is_file()


def _video_stream(video: Path, ref: CameraTrajectory, n: int) -> ImageStream:
    """The generated frames of ``video``: ``n`` frames along ``ref`` (resampled evenly over its time span when
    ``n`` differs from its length, as the video pipeline does), ``K`` scaled to the video's size."""
    first = next(read_mp4(video), None)
    if first is None:
        raise ValueError(f"{video} holds no frames; write the output again")
    size = (first.shape[1], first.shape[0])
    ts = ref.timestamps_us if n == len(ref) else np.linspace(ref.timestamps_us[0], ref.timestamps_us[-1], n).round()
    return ImageStream(GENERATED_IMAGE_TOPIC, lambda: read_mp4(video), np.asarray(ts, dtype=np.int64) * 1000,
                       scale_intrinsics(ref.K, ref.image_size, size), size, name=str(video))


def rollout_recording(source: str, kind: str, *, instruction: str | None, input_image: Path | None,
                      samples: list[CameraTrajectory], chosen: int | None, truth: CameraTrajectory | None,
                      video: Path | None, video_frames: int | None) -> Recording:
    """The recording of one rollout; ``samples`` may be empty (then ``truth`` is the ego's path), ``input_image``,
    ``instruction`` and ``video`` None when the rollout has none."""
    ref = samples[chosen] if samples and chosen is not None else truth
    if ref is None:
        raise ValueError(f"{source} holds no trajectory; write the output again")
    stamps = stamps_ns_of(ref)
    if stamps[0] < 0:
        raise ValueError(f"{source}: the trajectory has negative timestamps; MCAP times start at 0")
    t0 = int(stamps[0])
    images = []
    if input_image is not None:
        pixels = decode_image(input_image, name=str(input_image))
        size = (pixels.shape[1], pixels.shape[0])
        images.append(ImageStream(TRUE_IMAGE_TOPIC, lambda: iter([pixels]), np.array([t0]),
                                  scale_intrinsics(ref.K, ref.image_size, size), size, name=str(input_image)))
    if video is not None and video_frames:
        images.append(_video_stream(video, ref, int(video_frames)))
    paths = [PathSet(TRUE_PATH_TOPIC, t0, [truth])] if truth is not None else []
    if samples and chosen is not None:
        paths += [PathSet(c.BEST_TOPIC, t0, [samples[chosen]]), PathSet(c.SAMPLES_TOPIC, t0, samples)]
    return Recording(source=source, kind=kind, images=images, ego_stamps_ns=stamps, map_from_base=camera_path_in_map(ref),
                     instructions=[(t0, instruction)] if instruction else [], paths=paths)


def _row(path: Path, item: str | None) -> dict[str, Any]:
    try:
        rows = json.loads((path / SUMMARY).read_text())["samples"]
        if not isinstance(rows, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"{path / SUMMARY} is not a demo summary (a JSON object with a 'samples' list); the folder "
                         "is damaged: run `ct1-sim demo` again") from None
    rows = [r for r in rows if isinstance(r, dict) and isinstance(r.get("name"), str)]
    name = pick_one([r["name"] for r in rows], item, "sample", path)
    return next(r for r in rows if r["name"] == name)


def load_demo(path: Path, item: str | None) -> Recording:
    """The sample ``item`` of the demo folder ``path`` (the only one when ``item`` is None)."""
    row = _row(path, item)
    folder = path / row["name"]
    sample_files = sorted(folder.glob("sample_*/trajectory.json"))
    samples = [read_trajectory(f, "json") for f in sample_files]
    truth = None
    if not samples:  # no trajectory model: the demo wrote the true future
        truth_file = folder / str((row.get("files") or {}).get("json", "trajectory.json"))
        if not truth_file.is_file():
            raise ValueError(f"{folder} holds neither sample_*/trajectory.json nor {truth_file.name}; run the demo again")
        truth = read_trajectory(truth_file, "json")
    chosen = int(row["video_sample"]) if "video_sample" in row else (medoid_index(samples) if samples else None)
    if chosen is not None and not 0 <= chosen < len(samples):
        raise ValueError(f"{path / SUMMARY}: sample {row['name']!r} names video sample {chosen}, but {folder} holds "
                         f"{len(samples)}; run the demo again")
    video = folder / "generated.mp4" if "video_frames" in row else None
    return rollout_recording(f"{path} sample {row['name']}", "demo output", instruction=str(row.get("instruction", "")),
                             input_image=folder / "input.png", samples=samples, chosen=chosen, truth=truth,
                             video=video, video_frames=row.get("video_frames"))


def generate_summary(path: Path) -> Path | None:
    """The ``OUT.json`` of a ``ct1-sim generate`` output given as ``OUT.mp4`` or ``OUT.json``, or None."""
    if not path.is_file() or path.suffix.lower() not in (".mp4", ".json"):
        return None
    summary = path.with_suffix(".json")
    try:
        data = json.loads(summary.read_text())
    except (OSError, ValueError):
        return None
    return summary if isinstance(data, dict) and "chosen" in data and "maneuvers" in data else None


def load_generate(path: Path, item: str | None) -> Recording:
    """A ``ct1-sim generate`` output: ``path`` is its ``OUT.mp4`` or ``OUT.json`` (``item`` is not used)."""
    summary = path.with_suffix(".json")
    data = json.loads(summary.read_text())
    if "trajectories" not in data:
        raise ValueError(f"{summary} holds no trajectories (an older ct1-sim wrote it); run `ct1-sim generate` again")
    if item is not None:
        raise ValueError(f"{path} is one generate output; --item is for clip stores and demo folders: leave it out")
    try:
        samples = [trajectory_from_dict(d) for d in data["trajectories"]]
        chosen, frames = int(data["chosen"]), int(data["frames"])
    except (ValueError, TypeError) as err:
        raise ValueError(f"{summary} is damaged ({err}); run `ct1-sim generate` again") from None
    if not 0 <= chosen < len(samples):
        raise ValueError(f"{summary} names sample {chosen} of {len(samples)}; run `ct1-sim generate` again")
    image = Path(str(data.get("image", "")))
    if not image.is_file():
        log.warning("the input frame %s that %s names is gone; exporting without it", image, summary)
    return rollout_recording(str(path.with_suffix(".mp4")), "generate output", instruction=data.get("instruction"),
                             input_image=image if image.is_file() else None, samples=samples, chosen=chosen, truth=None,
                             video=path.with_suffix(".mp4"), video_frames=frames)
