"""``CameraControlledVideoPipeline``: the future a camera following a trajectory would see, from the current frame.

Geometry keeps camera control exact; a generative model makes what the first frame does not show:

1. the depth network (:class:`~ct1_sim.video.depth_mobilenet.MobileNetDepth`) lifts frame 0 into a 3D point cache
   (:class:`~ct1_sim.video.point_cache.PointCache`, GEN3C-style);
2. frames are generated autoregressively in chunks: the cache is splatted into each camera of the chunk (z-buffer),
   and the inpainting denoiser (:class:`~ct1_sim.video.inpaint_denoiser.InpaintDenoiser`, clean-frame prediction) generates the
   holes from pure noise in a few DDIM steps while the rendered pixels are kept by known-region replacement;
3. the chunk's last frame is depth-estimated and its generated pixels join the cache (with the estimate aligned to the
   cache's depth), as do the pixels crack closing stretched over a magnified surface, so later chunks (and revisits)
   render them at this camera's resolution instead of inventing them anew.

Every frame starts from the same noise so fills agree over time. Paths of any length up to :data:`MAX_FRAMES` frames
run in one call; :meth:`CameraControlledVideoPipeline.stream` yields frames as they are made.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import PIL.Image
import torch
from diffusers import DDIMScheduler, DiffusionPipeline
from diffusers.utils import BaseOutput

from ct1_sim.clip_spec import MAX_PATH_REACH_M
from ct1_sim.geometry import CameraTrajectory
from ct1_sim.geometry.intrinsics import scale_intrinsics
from ct1_sim.rgb_input import as_rgb_array
from ct1_sim.video.depth_mobilenet import SIZE_MULTIPLE, MobileNetDepth
from ct1_sim.video.inpaint_denoiser import InpaintDenoiser, generation_scheduler
from ct1_sim.video.rollout_session import VideoSession

log = logging.getLogger(__name__)

#: Most frames one call generates (60 s at 5 Hz); longer drives call it again from the last frame (or stream).
MAX_FRAMES = 301


@dataclass
class CameraControlledVideoPipelineOutput(BaseOutput):
    """``frames``: one video: ``[[PIL.Image]*T]`` (pil), ``(1,T,H,W,3)`` float in [0,1] (np) or ``(1,T,3,H,W)`` (pt)."""

    frames: Any


def chunk_ranges(num_frames: int, chunk_size: int, first_chunk: int) -> list[range]:
    """Frame index ranges generated together: frames ``1..num_frames-1``, the first chunk ``first_chunk`` long."""
    out, start = [], 1
    size = first_chunk
    while start < num_frames:
        out.append(range(start, min(start + size, num_frames)))
        start += size
        size = chunk_size
    return out


class CameraControlledVideoPipeline(DiffusionPipeline):
    """Image + camera trajectory -> future video (see the module docstring).

    Example:
        >>> pipe = CameraControlledVideoPipeline.from_pretrained("model/ct1-video-small")   # doctest: +SKIP
        >>> video = pipe(image, trajectory, output_type="np").frames[0]  # doctest: +SKIP
    """

    model_cpu_offload_seq = "depth_net->denoiser"
    _callback_tensor_inputs: ClassVar[list[str]] = ["latents"]

    def __init__(self, depth_net: MobileNetDepth, denoiser: InpaintDenoiser, scheduler: DDIMScheduler) -> None:
        super().__init__()
        self.register_modules(depth_net=depth_net, denoiser=denoiser, scheduler=scheduler)

    # ------------------------------------------------------------------ steps
    @property
    def size_multiple(self) -> int:
        """Output sides must be multiples of this (px)."""
        return math.lcm(SIZE_MULTIPLE, self.denoiser.size_multiple)

    def check_inputs(self, image: Any, trajectory: Any, num_frames: int, height: int, width: int, num_inference_steps: int,
                     strength: float, chunk_size: int) -> np.ndarray:
        """Validate the call's arguments; returns the image as an RGB uint8 array."""
        rgb = as_rgb_array(image, min_side=16)
        if not isinstance(trajectory, CameraTrajectory):
            raise ValueError(f"trajectory must be a ct1_sim.geometry.CameraTrajectory; got {type(trajectory).__name__} "
                             "(read a pose file with ct1_sim.formats.read_trajectory)")
        if not 2 <= num_frames <= MAX_FRAMES:
            raise ValueError(f"num_frames must be in [2, {MAX_FRAMES}], got {num_frames}; generate longer drives in "
                             "several calls, each from the last frame of the one before")
        self.check_generation_settings(height, width, num_inference_steps, strength)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        return rgb

    def check_generation_settings(self, height: int, width: int, num_inference_steps: int, strength: float) -> None:
        """Output size and denoising settings shared by :meth:`__call__` and :meth:`start_session`."""
        multiple = self.size_multiple
        if height % multiple or width % multiple or height <= 0 or width <= 0:
            raise ValueError(f"height and width must be positive multiples of {multiple}; got {height}x{width}")
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be at least 1, got {num_inference_steps}")
        if not 0 < strength <= 1:
            raise ValueError(f"strength must be in (0, 1], got {strength}")
        if int(num_inference_steps * strength) < 1:
            raise ValueError(f"strength {strength} x num_inference_steps {num_inference_steps} leaves no denoising step; raise either")

    @staticmethod
    def prepare_trajectory(trajectory: CameraTrajectory, num_frames: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Relative poses ``(num_frames,4,4)`` (resampled evenly over the path's time span when the counts differ)
        and pixel intrinsics ``K`` scaled to ``(width, height)``; a path reaching farther than
        :data:`~ct1_sim.clip_spec.MAX_PATH_REACH_M` from its first pose is refused."""
        traj = trajectory.relative_to_first()
        if len(traj) != num_frames:
            ts = np.linspace(traj.timestamps_us[0], traj.timestamps_us[-1], num_frames).round().astype(np.int64)
            traj = traj.resample(ts)
        c2w = traj.c2w.copy()
        if not np.isfinite(c2w).all():
            raise ValueError("trajectory has non-finite poses (NaN or inf); fix the pose file")
        reach = float(np.linalg.norm(c2w[:, :3, 3], axis=1).max())
        if reach > MAX_PATH_REACH_M:
            raise ValueError(f"the camera path goes {reach:.3g} m from its first pose; the limit is {MAX_PATH_REACH_M:.0f} m "
                             "(check the pose file's units: metres)")
        K = scale_intrinsics(traj.K, traj.image_size, (width, height))
        return c2w, K

    def prepare_image(self, rgb: np.ndarray, width: int, height: int, aspect_of: tuple[int, int]) -> torch.Tensor:
        """The image as ``(3,H,W)`` float in [0,1] at the output size."""
        w0, h0 = rgb.shape[1], rgb.shape[0]
        if abs(w0 / h0 - aspect_of[0] / aspect_of[1]) > 0.02:
            log.warning("image aspect %dx%d differs from the trajectory's image_size %s; the image is stretched", w0, h0, aspect_of)
        img = PIL.Image.fromarray(rgb)
        if (w0, h0) != (width, height):
            img = img.resize((width, height), PIL.Image.BICUBIC)
        return torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).float() / 255.0

    def get_timesteps(self, num_inference_steps: int, strength: float) -> torch.Tensor:
        """diffusers' img2img convention: run the last ``int(num_inference_steps * strength)`` of the schedule's
        ``num_inference_steps`` steps (strength 1 = all of them, from pure noise)."""
        self.scheduler.set_timesteps(num_inference_steps, device=self._execution_device)
        init = min(int(num_inference_steps * strength), num_inference_steps)
        return self.scheduler.timesteps[num_inference_steps - init :]

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def generate_chunks(
        self,
        image: Any,
        trajectory: CameraTrajectory,
        num_frames: int | None = None,
        height: int = 256,
        width: int = 448,
        num_inference_steps: int = 4,
        strength: float = 1.0,
        chunk_size: int = 4,
        first_chunk: int | None = None,
        generator: torch.Generator | None = None,
        callback_on_step_end: Callable[..., dict[str, Any]] | None = None,
        callback_on_step_end_tensor_inputs: list[str] | None = None,
    ) -> Iterator[tuple[range, torch.Tensor]]:
        """Yield ``(frame indices, frames (n,3,H,W) float in [0,1])`` chunk by chunk; the first yield is frame 0.
        Arguments as :meth:`__call__`; ``first_chunk``: length of the first chunk (default ``chunk_size``)."""
        num_frames = len(trajectory) if num_frames is None and isinstance(trajectory, CameraTrajectory) else (num_frames or 16)
        rgb = self.check_inputs(image, trajectory, num_frames, height, width, num_inference_steps, strength, chunk_size)
        inputs = callback_on_step_end_tensor_inputs or ["latents"]
        bad = sorted(set(inputs) - set(self._callback_tensor_inputs))
        if bad:
            raise ValueError(f"callback_on_step_end_tensor_inputs {bad} are not available; choose from {self._callback_tensor_inputs}")
        c2w_np, K = self.prepare_trajectory(trajectory, num_frames, width, height)
        frame0 = self.prepare_image(rgb, width, height, trajectory.image_size).to(self._execution_device)
        yield range(1), frame0[None]

        session = VideoSession(self, frame0, K, self.get_timesteps(num_inference_steps, strength), strength, generator,
                               callback_on_step_end)
        for chunk in chunk_ranges(num_frames, chunk_size, first_chunk or chunk_size):
            yield chunk, session.generate(c2w_np[list(chunk)])

    def start_session(self, image: Any, K: np.ndarray, image_size: tuple[int, int], height: int = 256, width: int = 448,
                      num_inference_steps: int = 4, strength: float = 1.0, generator: torch.Generator | None = None,
                      min_hole_pixels: int = 0) -> VideoSession:
        """A :class:`~ct1_sim.video.rollout_session.VideoSession` from ``image`` (RGB uint8 array or PIL image) seen
        with pixel intrinsics ``K`` at ``image_size (W,H)``: call ``session.generate(c2w_rel)`` with each new camera
        pose (relative to this one) as a closed loop makes it. ``min_hole_pixels``: see the session."""
        rgb = as_rgb_array(image, min_side=16)
        self.check_generation_settings(height, width, num_inference_steps, strength)
        frame0 = self.prepare_image(rgb, width, height, image_size).to(self._execution_device)
        return VideoSession(self, frame0, scale_intrinsics(np.asarray(K, dtype=np.float64), image_size, (width, height)),
                            self.get_timesteps(num_inference_steps, strength), strength, generator, min_hole_pixels=min_hole_pixels)

    def stream(self, image: Any, trajectory: CameraTrajectory, **kwargs: Any) -> Iterator[tuple[int, np.ndarray]]:
        """Frames as they are generated: ``(index, (H,W,3) uint8)``, frame 0 first (the input), then the first
        generated frame after one short chunk (``first_chunk=1`` unless given). Same arguments as :meth:`__call__`
        without the output options."""
        kwargs.setdefault("first_chunk", 1)
        for chunk, frames in self.generate_chunks(image, trajectory, **kwargs):
            arr = (frames.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
            yield from zip(chunk, arr, strict=True)

    def __call__(self, image: Any, trajectory: CameraTrajectory, output_type: str = "pil", return_dict: bool = True,
                 **generation: Any) -> CameraControlledVideoPipelineOutput | tuple:
        """Generate the frames (frame 0 = the input image) whose cameras follow ``trajectory``.

        Args:
            image: RGB uint8 ``(H,W,3)`` array or PIL image: the current front-camera frame.
            trajectory: camera path (absolute or relative; made relative to its first pose), OpenCV axes, metres.
            output_type: ``"pil"``, ``"np"`` or ``"pt"``.
            generation: the keyword arguments of :meth:`generate_chunks`: ``num_frames`` (default: one per pose; the
                path is resampled in time when it differs; at most :data:`MAX_FRAMES`), ``height`` / ``width``
                (multiples of :attr:`size_multiple`), ``num_inference_steps`` (DDIM steps of the schedule),
                ``strength`` (diffusers' img2img meaning: the share of those steps that run, from the hole-filled
                render noised to that level; 1.0, the default, generates the holes from pure noise), ``chunk_size``
                (frames generated together before their new content joins the 3D cache), ``generator`` (seeded runs
                are reproducible), ``callback_on_step_end`` (``f(pipe, step_index, timestep, callback_kwargs) ->
                dict`` after every denoising step of every chunk; ``callback_kwargs["latents"]`` is the chunk's
                sample: return it changed to steer).
        """
        if output_type not in ("pil", "np", "pt"):
            raise ValueError(f"output_type must be 'pil', 'np' or 'pt', got {output_type!r}")
        parts = [frames for _, frames in self.generate_chunks(image, trajectory, **generation)]
        video = torch.cat(parts, dim=0)[None].float()  # (1,T,3,H,W)
        if output_type == "pt":
            frames: Any = video
        else:
            arr = video.permute(0, 1, 3, 4, 2).cpu().numpy()  # (1,T,H,W,3)
            frames = arr if output_type == "np" else [[PIL.Image.fromarray((f * 255).round().astype(np.uint8)) for f in arr[0]]]
        self.maybe_free_model_hooks()
        if not return_dict:
            return (frames,)
        return CameraControlledVideoPipelineOutput(frames=frames)


def build_pipeline(depth_net: MobileNetDepth | None = None, denoiser: InpaintDenoiser | None = None) -> CameraControlledVideoPipeline:
    """A pipeline with fresh components (or the ones given) and the generator's schedule."""
    return CameraControlledVideoPipeline(depth_net or MobileNetDepth(), denoiser or InpaintDenoiser(), generation_scheduler())


def to_uint8_frames(frames: Any) -> np.ndarray:
    """``(T,H,W,3)`` uint8 from one video of the pipeline's ``np`` or ``pt`` output (batch index 0)."""
    if isinstance(frames, torch.Tensor):
        frames = frames.permute(0, 1, 3, 4, 2).cpu().numpy()
    return (np.clip(np.asarray(frames)[0], 0, 1) * 255).round().astype(np.uint8)
