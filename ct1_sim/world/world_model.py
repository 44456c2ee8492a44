"""``WorldModel``: the one façade the CLI, the HTTP service, the ROS bridge and replay call.

image + instruction (+ speed) -> K camera trajectories with maneuver labels (``predict``); ``rollout`` adds the
future video that follows one of them (or a given camera path), from the shipped video model ``ct1-video-small``.
A folder without a video model still predicts trajectories, and ``rollout`` then says what is missing.
Seeds follow :mod:`ct1_sim.seeding`: an int is deterministic, None draws a fresh seed that the result reports.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ct1_sim.clip_spec import IMAGE_SIZE, MAX_PATH_REACH_M
from ct1_sim.geometry import CameraTrajectory
from ct1_sim.language import refusal_message
from ct1_sim.metrics import classify_maneuver, classify_maneuvers, medoid_index
from ct1_sim.paths import TRAJECTORY_MODEL, VIDEO_MODEL, default_model_dir
from ct1_sim.seeding import resolve_seed, torch_generator

log = logging.getLogger(__name__)

#: Farthest a user-given camera path may go from its first pose in a rollout (m): 64 frames at 70 m/s is ~900 m.
#: Frames the video model generates together before they join its 3D memory.
VIDEO_CHUNK = 4


@dataclass
class Prediction:
    """K trajectories (metres, relative to the current OpenCV camera, at the clip spec's times), their labels and the
    seed they were drawn with (always set by :class:`WorldModel`; pass it back to get the same samples)."""

    trajectories: list[CameraTrajectory]
    maneuvers: list[str]
    seed: int | None = None
    #: what the instruction was read as (:meth:`ct1_sim.language.Intent.as_dict`): ``supported``, ``maneuver``,
    #: ``speed``, ``reason``, ``nearest``, ``confidence``. Unsupported: no trajectories, and ``reason`` says why.
    instruction: dict[str, Any] | None = None
    #: where the time of the model call that made it went (s): ``sample``, the trajectory model's sampling (images,
    #: text, noise, the diffusion, poses -> trajectories); ``predict``, the whole call (the instruction parse and the
    #: labels too). The queries of one batched call share them. Empty for an unsupported instruction alone.
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def supported(self) -> bool:
        """False when the model refused the instruction (then ``trajectories`` is empty)."""
        return self.instruction is None or bool(self.instruction["supported"])


@dataclass
class Rollout:
    """Trajectories and the generated future video that follows ``trajectories[chosen]``."""

    trajectories: list[CameraTrajectory]
    maneuvers: list[str]
    chosen: int
    frames: np.ndarray  # uint8 (T,H,W,3) RGB; frame 0 is the input image at the video's size
    fps: float  # frames per second of ``frames`` (the clip spec's pose rate)
    seed: int | None = None  # the seed of the trajectories and the video (always set by WorldModel)


class WorldModel:
    """Loads whatever models exist and says clearly what is missing.

    Safe to share between threads: each model runs under its own lock, so trajectories keep being sampled
    while another thread renders a video."""

    def __init__(self, trajectory_model: Any | None, video_model: Any | None = None) -> None:
        self.trajectory_model = trajectory_model
        self.video_model = video_model
        self.trajectory_lock = threading.Lock()
        self.video_lock = threading.Lock()

    @classmethod
    def from_pretrained(
        cls, trajectory: str | Path | None = None, video: str | Path | None = None, device: str = "auto", dtype: str = "float32",
        runtime: str = "auto", with_video: bool = True,
    ) -> WorldModel:
        """Load the shipped models (or the folders given). A missing trajectory model is an error naming the path.

        ``runtime`` is the trajectory pipeline's (``CT1TrajectoryPipeline.runtime``): ``"auto"`` pays ~5 s once to build its
        ONNX Runtime graph and then samples ~2x faster than eager; one-shot commands pass ``"torch"``. ``with_video=False``
        loads no video model (processes that only sample trajectories)."""
        from ct1_sim.trajectory import CT1TrajectoryModel

        traj_dir = Path(trajectory) if trajectory is not None else default_model_dir(TRAJECTORY_MODEL)
        model = CT1TrajectoryModel.from_pretrained(traj_dir, device=device, dtype=dtype, runtime=runtime)
        if not with_video:
            return cls(model, None)
        video_dir = Path(video) if video is not None else default_model_dir(VIDEO_MODEL)
        video_model = None
        if (video_dir / "model_index.json").is_file():
            from ct1_sim.video.loading import load_video_pipeline

            video_model = load_video_pipeline(video_dir, device=device, dtype=dtype)
        elif video is not None:
            raise FileNotFoundError(f"no video pipeline at {video_dir} (no model_index.json)")
        else:
            log.warning("no video model at %s: rollouts are unavailable, trajectories work", video_dir)
        return cls(model, video_model)

    def warm_up(self, num_samples: int = 8, batched: bool = False) -> float:
        """Run a query on a grey frame (and, with ``batched``, a batch of two) so that the first real ones do not pay
        for building the inference graphs (ONNX Runtime on the CPU, ~5 s each); returns the seconds it took.
        Services call it in a background thread."""
        if self.trajectory_model is None:
            return 0.0
        t0 = time.perf_counter()
        grey = np.full((IMAGE_SIZE[1], IMAGE_SIZE[0], 3), 128, np.uint8)
        with self.trajectory_lock:
            self.trajectory_model.sample(grey, "go straight", num_samples=num_samples, generator=torch_generator(0))
            if batched:  # batches share one graph with a dynamic batch axis
                self.trajectory_model.sample_batch([grey, grey], ["go straight"] * 2, None, num_samples, [torch_generator(0) for _ in range(2)])
        seconds = time.perf_counter() - t0
        log.info("trajectory model warmed up in %.1f s", seconds)
        return seconds

    def predict(self, image: Any, instruction: str, num_samples: int = 8, seed: int | None = None, speed: float | None = None) -> Prediction:
        """K plausible trajectories for ``image`` (RGB uint8 HxWx3 or PIL) and ``instruction``; ``speed`` in m/s when known.

        ``seed``: an int gives the same samples every time; None draws a fresh one, reported as ``Prediction.seed``."""
        return self.predict_batch([image], [instruction], num_samples, [seed], [speed])[0]  # the same samples as alone

    def prepare_image(self, image: Any) -> Any:
        """``image`` made ready for :meth:`predict` / :meth:`predict_batch` ahead of the call (the trajectory model's
        crop and resize, :meth:`CT1TrajectoryModel.prepare_frame`), with the same results as the image itself; the
        HTTP service does it on each request's thread so that the model's thread only runs the model. Returns
        ``image`` unchanged when the trajectory model has no such step. Rollouts need the full image: pass that."""
        prepare = getattr(self.trajectory_model, "prepare_frame", None)
        return prepare(image) if prepare is not None else image

    def interpret(self, instruction: str) -> dict[str, Any]:
        """What ``instruction`` is read as, without sampling (:meth:`ct1_sim.language.Intent.as_dict`); unreadable text
        (empty, control characters, over 500 characters, no letters) is a ``ValueError`` naming the problem."""
        if self.trajectory_model is None:
            raise RuntimeError("no trajectory model loaded; use WorldModel.from_pretrained()")
        with self.trajectory_lock:
            return self.trajectory_model.interpret([instruction])[0].as_dict()

    def predict_batch(
        self,
        images: list[Any],
        instructions: list[str],
        num_samples: int = 8,
        seeds: list[int | None] | None = None,
        speeds: list[float | None] | None = None,
    ) -> list[Prediction]:
        """:meth:`predict` for many queries in one batched model call; each query's seed (None: a fresh one, reported
        back) gives the same samples as when it runs alone (up to float rounding)."""
        if self.trajectory_model is None:
            raise RuntimeError("no trajectory model loaded; use WorldModel.from_pretrained()")
        if seeds is not None and len(seeds) != len(images):
            raise ValueError(f"got {len(seeds)} seeds for {len(images)} queries")
        used = [resolve_seed(s) for s in (seeds if seeds is not None else [None] * len(images))]
        if len(instructions) != len(images):
            raise ValueError(f"got {len(instructions)} instructions for {len(images)} images")
        speeds = speeds if speeds is not None else [None] * len(images)
        with self.trajectory_lock:
            t0 = time.perf_counter()  # the model call's own time, not the wait for the lock (a graph build, another call)
            intents = self.trajectory_model.interpret(list(instructions))
            todo = [i for i, intent in enumerate(intents) if intent.supported]
            t_sample = time.perf_counter()
            batches = self.trajectory_model.sample_batch([images[i] for i in todo], [instructions[i] for i in todo], [speeds[i] for i in todo],
                                                         num_samples, [torch_generator(used[i]) for i in todo]) if todo else []
            sample_s = time.perf_counter() - t_sample
        sampled = dict(zip(todo, batches, strict=True))
        labels = [classify_maneuvers(sampled.get(i, [])) for i in range(len(images))]
        timings = {"sample": sample_s, "predict": time.perf_counter() - t0} if todo else {}
        return [Prediction(sampled.get(i, []), labels[i], used[i], intents[i].as_dict(), dict(timings)) for i in range(len(images))]

    def rollout(
        self,
        image: Any,
        instruction_or_trajectory: str | CameraTrajectory,
        num_frames: int | None = None,
        num_samples: int = 8,
        seed: int | None = None,
        speed: float | None = None,
        progress: Callable[[float], None] | None = None,
        num_inference_steps: int = 4,
        strength: float = 1.0,
    ) -> Rollout:
        """Trajectories + the future video that follows the chosen one.

        ``instruction_or_trajectory``: an instruction (K trajectories are sampled and the most typical one, the
        medoid, is rendered) or a ``CameraTrajectory`` (rendered as given, made relative to its first pose).
        ``seed`` seeds both the trajectories and the video (None: a fresh one, reported as ``Rollout.seed``).
        ``num_frames``: frames of the video, frame 0 included (default: one per pose of the rendered path; any length
        up to the pipeline's ``MAX_FRAMES``, generated autoregressively with a 3D memory). ``num_inference_steps`` /
        ``strength``: the video pipeline's. ``progress`` is called with the fraction done (0-1).
        """
        if self.video_model is None:
            raise RuntimeError(
                "no video model is loaded (expected model/ct1-video-small); ct1-sim can only predict trajectories: use predict()"
            )
        report = progress or (lambda fraction: None)
        seed = resolve_seed(seed)
        if isinstance(instruction_or_trajectory, CameraTrajectory):
            trajectories, chosen = [instruction_or_trajectory.relative_to_first()], 0
            reach = float(np.abs(trajectories[0].positions).max())
            if reach > MAX_PATH_REACH_M:
                raise ValueError(f"the trajectory goes {reach:.3g} m from its first pose; a rollout follows camera paths "
                                 f"within {MAX_PATH_REACH_M:.0f} m (check the file's units: metres)")
            maneuvers = [classify_maneuver(trajectories[0])]
        elif isinstance(instruction_or_trajectory, str):
            prediction = self.predict(image, instruction_or_trajectory, num_samples=num_samples, seed=seed, speed=speed)
            if not prediction.supported:
                raise ValueError(refusal_message(instruction_or_trajectory, prediction.instruction or {}))
            trajectories, maneuvers = prediction.trajectories, prediction.maneuvers
            chosen = medoid_index(trajectories)
        else:
            raise ValueError("rollout needs an instruction (str) or a CameraTrajectory; got "
                             f"{type(instruction_or_trajectory).__name__}")
        report(0.1)
        generator = torch_generator(seed)

        num_frames = num_frames or len(trajectories[chosen])
        total = max(1, math.ceil((num_frames - 1) / VIDEO_CHUNK) * int(num_inference_steps * strength))

        def on_step(_pipe: Any, step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            report(0.1 + 0.9 * min(1.0, (step + 1) / total))
            return kwargs

        with self.video_lock:
            out = self.video_model(image, trajectories[chosen], num_frames=num_frames, num_inference_steps=num_inference_steps,
                                   strength=strength, chunk_size=VIDEO_CHUNK, generator=generator, output_type="np",
                                   callback_on_step_end=on_step).frames
        from ct1_sim.video import to_uint8_frames

        frames = to_uint8_frames(out)
        times = trajectories[chosen].times_s
        fps = (num_frames - 1) / float(times[-1] - times[0]) if times[-1] > times[0] else 5.0
        report(1.0)
        return Rollout(trajectories, maneuvers, chosen, frames, fps, seed)
