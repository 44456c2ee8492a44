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
from typing import Any

import numpy as np
import PIL.Image
import torch
from diffusers import DDIMScheduler, DiffusionPipeline
from diffusers.utils import BaseOutput

from ct1_sim.clip_spec import MAX_PATH_REACH_M
from ct1_sim.geometry import CameraTrajectory
from ct1_sim.geometry.intrinsics import scale_intrinsics
from ct1_sim.geometry.plucker import plucker_embedding
from ct1_sim.rgb_input import as_rgb_array
from ct1_sim.video.depth_mobilenet import SIZE_MULTIPLE, MobileNetDepth
from ct1_sim.video.hole_fill import fill_holes
from ct1_sim.video.inpaint_denoiser import InpaintDenoiser, generation_scheduler
from ct1_sim.video.point_cache import PointCache
from ct1_sim.video.warp import WarpResult

log = logging.getLogger(__name__)

#: Rendered pixels needed to align the depth estimate of generated pixels with the cache's depth.
MIN_ALIGNMENT_PIXELS = 500

#: Most frames one call generates (60 s at 5 Hz); longer drives call it again from the last frame (or stream).
MAX_FRAMES = 301


@dataclass
class CameraControlledVideoPipelineOutput(BaseOutput):
    """``frames``: one video: ``[[PIL.Image]*T]`` (pil), ``(1,T,H,W,3)`` float in [0,1] (np) or ``(1,T,3,H,W)`` (pt)."""

    frames: Any


def relative_plucker(c2w_rel: np.ndarray, K: np.ndarray, size: tuple[int, int], height: int, width: int, scale_m: float) -> torch.Tensor:
    """Plücker embedding ``(T,6,height,width)`` of relative poses with translations divided by ``scale_m``."""
    scaled = np.asarray(c2w_rel, dtype=np.float64).copy()
    scaled[:, :3, 3] /= scale_m
    return torch.from_numpy(plucker_embedding(scaled, K, size, height, width))


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
    _callback_tensor_inputs = ["latents"]

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
        multiple = self.size_multiple
        if height % multiple or width % multiple or height <= 0 or width <= 0:
            raise ValueError(f"height and width must be positive multiples of {multiple}; got {height}x{width}")
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be at least 1, got {num_inference_steps}")
        if not 0 < strength <= 1:
            raise ValueError(f"strength must be in (0, 1], got {strength}")
        if int(num_inference_steps * strength) < 1:
            raise ValueError(f"strength {strength} x num_inference_steps {num_inference_steps} leaves no denoising step; raise either")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        return rgb

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
        device, dtype = self._execution_device, self.denoiser.dtype
        frame0 = self.prepare_image(rgb, width, height, trajectory.image_size).to(device)
        yield range(1), frame0[None]

        K_t = torch.from_numpy(K).to(device=device, dtype=torch.float32)
        c2w = torch.from_numpy(c2w_np).to(device=device, dtype=torch.float32)
        cache = PointCache(K_t, (width, height))
        cache.add_frame(frame0, self.depth_net(frame0[None].to(self.depth_net.dtype), K_t)[0].float(), c2w[0])
        key = 0  # the last frame added to the cache: Plücker rays are relative to it (as the generator was trained)
        timesteps = self.get_timesteps(num_inference_steps, strength)
        noise = torch.randn((1, 3, height, width), generator=generator, dtype=torch.float32).to(device)
        fold, scale = self.denoiser.config.fold, self.denoiser.config.plucker_scale_m
        step_index = 0
        for chunk in chunk_ranges(num_frames, chunk_size, first_chunk or chunk_size):
            n = len(chunk)
            idx = list(chunk)
            render = cache.render(c2w[idx])
            warped, mask = render.frames * 2 - 1, render.mask
            rel = np.linalg.inv(c2w_np[key]) @ c2w_np[idx]
            plucker = relative_plucker(rel, K, (width, height), height // fold, width // fold, scale).to(device)
            condition = self.denoiser.prepare_condition(warped.to(dtype), mask.to(dtype), plucker.to(dtype))
            eps = noise.expand(n, -1, -1, -1).to(dtype)
            known = warped.to(dtype)
            if strength >= 1:
                sample = eps * self.scheduler.init_noise_sigma
            else:
                sample = self.scheduler.add_noise(fill_holes(known * mask, mask), eps, timesteps[:1].expand(n))
            for i, t in enumerate(timesteps):
                x0 = self.denoiser(sample, t.expand(n).to(device), condition)
                sample = self.scheduler.step(x0, t, sample).prev_sample
                # known-region replacement (RePaint): rendered pixels are the cache's, noised to the next level
                if i + 1 < len(timesteps):
                    ref = self.scheduler.add_noise(known, eps, timesteps[i + 1 : i + 2].expand(n))
                else:
                    ref = known
                sample = mask * ref + (1 - mask) * sample
                if callback_on_step_end is not None:
                    got = callback_on_step_end(self, step_index, t, {"latents": sample})
                    sample = got.get("latents", sample)
                step_index += 1
            frames = (sample.float().clamp(-1, 1) + 1) / 2  # (n,3,H,W)
            self.densify_cache(cache, frames[-1], render, c2w[idx[-1]], K_t)
            cache.prune(c2w[idx[-1]])
            key = idx[-1]
            yield chunk, frames

    def densify_cache(self, cache: PointCache, frame: torch.Tensor, render: WarpResult, c2w_rel: torch.Tensor, K: torch.Tensor) -> int:
        """Add a chunk's last ``frame (3,H,W)`` to the cache where its render ``render`` (the chunk's) had no point:
        generated pixels with the depth network's estimate, scaled to agree with the rendered depth (median ratio
        over the rendered pixels), and crack-closed pixels with their interpolated depth, so the next chunk sees
        them at this camera's resolution. Returns the number of points added."""
        hole = render.mask[-1, 0] < 0.5
        closed = render.closed[-1, 0] if render.closed is not None else torch.zeros_like(hole)
        new = hole | closed
        if not bool(new.any()):
            return 0
        rendered_depth = render.depth[-1, 0]
        depth = rendered_depth
        if bool(hole.any()):
            estimate = self.depth_net(frame[None].to(self.depth_net.dtype), K)[0].float()
            known = (~hole) & (rendered_depth > 0)
            if int(known.sum()) >= MIN_ALIGNMENT_PIXELS:
                ratio = float(torch.median(rendered_depth[known] / estimate[known].clamp_min(1e-3)))
                estimate = estimate * min(max(ratio, 0.5), 2.0)
            depth = torch.where(hole, estimate, rendered_depth)
        return cache.add_frame(frame, depth, c2w_rel, where=new)

    def stream(self, image: Any, trajectory: CameraTrajectory, **kwargs: Any) -> Iterator[tuple[int, np.ndarray]]:
        """Frames as they are generated: ``(index, (H,W,3) uint8)``, frame 0 first (the input), then the first
        generated frame after one short chunk (``first_chunk=1`` unless given). Same arguments as :meth:`__call__`
        without the output options."""
        kwargs.setdefault("first_chunk", 1)
        for chunk, frames in self.generate_chunks(image, trajectory, **kwargs):
            arr = (frames.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
            for j, frame in zip(chunk, arr, strict=True):
                yield j, frame

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
