"""``CameraControlledVideoPipeline``: the future a camera following a trajectory would see, from the current frame.

Geometry first, so camera control is exact and it runs on a CPU: (1) a small depth network estimates the current
frame's depth; (2) the frame is forward-warped into every future camera by z-buffered splatting; (3) a small
conditional denoiser (diffusers ``UNet2DModel``) finishes each warped frame — disocclusions, new content at the
horizon — in a few DDIM steps (by default 1 step from the hole-filled warp noised to 15 % of the schedule, the best setting on validation clips),
every frame from the same noise so fills agree over time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import PIL.Image
import torch
from diffusers import DDIMScheduler, DiffusionPipeline
from diffusers.utils import BaseOutput

from ct1_sim.geometry import CameraTrajectory
from ct1_sim.geometry.intrinsics import scale_intrinsics
from ct1_sim.geometry.plucker import plucker_embedding
from ct1_sim.rgb_input import as_rgb_array
from ct1_sim.video.denoiser import WarpDenoiser
from ct1_sim.video.depth_net import DepthNet
from ct1_sim.video.warp import forward_warp

log = logging.getLogger(__name__)


@dataclass
class CameraControlledVideoPipelineOutput(BaseOutput):
    """``frames``: one video: ``[[PIL.Image]*T]`` (pil), ``(1,T,H,W,3)`` float in [0,1] (np) or ``(1,T,3,H,W)`` (pt)."""

    frames: Any


def relative_plucker(c2w_rel: np.ndarray, K: np.ndarray, size: tuple[int, int], height: int, width: int, scale_m: float) -> torch.Tensor:
    """Plücker embedding ``(T,6,height,width)`` of relative poses with translations divided by ``scale_m``."""
    scaled = c2w_rel.copy()
    scaled[:, :3, 3] /= scale_m
    return torch.from_numpy(plucker_embedding(scaled, K, size, height, width))


class CameraControlledVideoPipeline(DiffusionPipeline):
    """Image + camera trajectory -> future video (see the module docstring).

    Example:
        >>> pipe = CameraControlledVideoPipeline.from_pretrained("model/ct1-video-tiny")   # doctest: +SKIP
        >>> video = pipe(image, trajectory, num_inference_steps=3, output_type="np").frames[0]  # doctest: +SKIP
    """

    model_cpu_offload_seq = "depth_net->denoiser"

    def __init__(self, depth_net: DepthNet, denoiser: WarpDenoiser, scheduler: DDIMScheduler) -> None:
        super().__init__()
        self.register_modules(depth_net=depth_net, denoiser=denoiser, scheduler=scheduler)

    # ------------------------------------------------------------------ steps
    def check_inputs(self, image: Any, trajectory: Any, num_frames: int, height: int, width: int, num_inference_steps: int) -> np.ndarray:
        """Validate the call's arguments; returns the image as an RGB uint8 array."""
        rgb = as_rgb_array(image, min_side=16)
        if not isinstance(trajectory, CameraTrajectory):
            raise ValueError(f"trajectory must be a ct1_sim.geometry.CameraTrajectory; got {type(trajectory).__name__} "
                             "(read a pose file with ct1_sim.formats.read_trajectory)")
        if num_frames < 2:
            raise ValueError(f"num_frames must be at least 2, got {num_frames}")
        multiple = self.denoiser.config.fold * 2 ** (len(self.denoiser.config.block_out_channels) - 1)
        if height % multiple or width % multiple or height <= 0 or width <= 0:
            raise ValueError(f"height and width must be positive multiples of {multiple}; got {height}x{width}")
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be at least 1, got {num_inference_steps}")
        return rgb

    @staticmethod
    def _check_strength(strength: float) -> None:
        if not 0 < strength <= 1:
            raise ValueError(f"strength must be in (0, 1], got {strength}")

    @staticmethod
    def prepare_trajectory(trajectory: CameraTrajectory, num_frames: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Relative poses ``(num_frames,4,4)`` (resampled evenly over the path's time span when the counts differ)
        and pixel intrinsics ``K`` scaled to ``(width, height)``."""
        traj = trajectory.relative_to_first()
        if len(traj) != num_frames:
            ts = np.linspace(traj.timestamps_us[0], traj.timestamps_us[-1], num_frames).round().astype(np.int64)
            traj = traj.resample(ts)
        K = scale_intrinsics(traj.K, traj.image_size, (width, height))
        return traj.c2w.copy(), K

    def prepare_image(self, rgb: np.ndarray, width: int, height: int, aspect_of: tuple[int, int]) -> torch.Tensor:
        """The image as ``(3,H,W)`` float in [0,1] at the output size."""
        w0, h0 = rgb.shape[1], rgb.shape[0]
        if abs(w0 / h0 - aspect_of[0] / aspect_of[1]) > 0.02:
            log.warning("image aspect %dx%d differs from the trajectory's image_size %s; the image is stretched", w0, h0, aspect_of)
        img = PIL.Image.fromarray(rgb)
        if (w0, h0) != (width, height):
            img = img.resize((width, height), PIL.Image.BICUBIC)
        return torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).float() / 255.0

    @torch.no_grad()
    def __call__(
        self,
        image: Any,
        trajectory: CameraTrajectory,
        num_frames: int = 16,
        height: int = 256,
        width: int = 448,
        num_inference_steps: int = 1,
        strength: float = 0.15,
        generator: torch.Generator | None = None,
        output_type: str = "pil",
        return_dict: bool = True,
        callback: Callable[[str, float], None] | None = None,
    ) -> CameraControlledVideoPipelineOutput | tuple:
        """Generate ``num_frames`` frames (frame 0 = the input image) whose cameras follow ``trajectory``.

        Args:
            image: RGB uint8 ``(H,W,3)`` array or PIL image: the current front-camera frame.
            trajectory: camera path (absolute or relative; made relative to its first pose), OpenCV axes, metres.
            num_frames: frames to produce, including frame 0 (the path is resampled in time when its length differs).
            height, width: output size in pixels.
            num_inference_steps: DDIM steps of the denoiser.
            strength: where denoising starts, as a fraction of the noise schedule (img2img convention): 1.0 starts
                from pure noise; below 1 it starts from the hole-filled warp noised to that level, which the
                shipped model does best at (measured in its model card).
            generator: torch generator for the initial noise (seeded runs are reproducible).
            output_type: ``"pil"``, ``"np"`` or ``"pt"``.
            callback: called as ``callback(stage, fraction_done)`` (stages: depth, warp, denoise).
        """
        if output_type not in ("pil", "np", "pt"):
            raise ValueError(f"output_type must be 'pil', 'np' or 'pt', got {output_type!r}")
        # 1. inputs
        rgb = self.check_inputs(image, trajectory, num_frames, height, width, num_inference_steps)
        self._check_strength(strength)
        c2w_rel, K = self.prepare_trajectory(trajectory, num_frames, width, height)
        device, dtype = self.denoiser.device, self.denoiser.dtype
        frame0 = self.prepare_image(rgb, width, height, trajectory.image_size).to(device)
        K_t = torch.from_numpy(K).to(device=device, dtype=torch.float32)
        report = callback or (lambda stage, frac: None)

        # 2. depth of the current frame (m along the optical axis)
        depth = self.depth_net(frame0[None].to(dtype), K_t)[0].float()
        report("depth", 1.0)

        # 3. forward warp into every future camera
        c2w = torch.from_numpy(c2w_rel[1:]).to(device=device, dtype=torch.float32)
        tgt_from_src = torch.linalg.inv(c2w)  # frame 0 is the identity
        warp = forward_warp(frame0, depth, K_t, tgt_from_src)
        report("warp", 1.0)

        # 4. condition: hole-filled warp, mask, Plücker of the future cameras
        fold = self.denoiser.config.fold
        plucker = relative_plucker(c2w_rel[1:], K, (width, height), height // fold, width // fold,
                                   self.denoiser.config.plucker_scale_m).to(device)
        condition, base = self.denoiser.prepare_condition((warp.frames * 2 - 1).to(dtype), warp.mask.to(dtype), plucker.to(dtype))

        # 5. denoise, every frame from the same initial noise (from the noised warp when strength < 1)
        n = num_frames - 1
        noise = torch.randn((1, 3, height, width), generator=generator, dtype=torch.float32).to(device)
        noise = noise.expand(n, -1, -1, -1).to(dtype)
        self.scheduler.set_timesteps(max(num_inference_steps, round(num_inference_steps / strength)), device=device)
        timesteps = self.scheduler.timesteps[-num_inference_steps:]
        if strength >= 1:
            sample = noise * self.scheduler.init_noise_sigma
        else:
            sample = self.scheduler.add_noise(base, noise, timesteps[:1].expand(n))
        for i, t in enumerate(self.progress_bar(timesteps)):
            x0 = self.denoiser(sample, t.expand(n).to(device), condition, base)
            sample = self.scheduler.step(x0, t, sample).prev_sample
            report("denoise", (i + 1) / num_inference_steps)
        future = (sample.float().clamp(-1, 1) + 1) / 2  # (n,3,H,W) in [0,1]

        # 6. outputs: frame 0 is the input image
        video = torch.cat([frame0[None].float(), future], dim=0)[None]  # (1,T,3,H,W)
        if output_type == "pt":
            frames: Any = video
        else:
            arr = video.permute(0, 1, 3, 4, 2).cpu().numpy()  # (1,T,H,W,3)
            frames = arr if output_type == "np" else [[PIL.Image.fromarray((f * 255).round().astype(np.uint8)) for f in arr[0]]]
        if not return_dict:
            return (frames,)
        return CameraControlledVideoPipelineOutput(frames=frames)


def build_pipeline(depth_net: DepthNet | None = None, denoiser: WarpDenoiser | None = None, num_train_timesteps: int = 1000) -> CameraControlledVideoPipeline:
    """A pipeline with fresh components (or the ones given) and the default scheduler (DDIM, cosine, x0-prediction)."""
    scheduler = DDIMScheduler(num_train_timesteps=num_train_timesteps, beta_schedule="squaredcos_cap_v2",
                              prediction_type="sample", timestep_spacing="trailing", clip_sample=False)
    return CameraControlledVideoPipeline(depth_net or DepthNet(), denoiser or WarpDenoiser(), scheduler)


def to_uint8_frames(frames: Any) -> np.ndarray:
    """``(T,H,W,3)`` uint8 from one video of the pipeline's ``np`` or ``pt`` output (batch index 0)."""
    if isinstance(frames, torch.Tensor):
        frames = frames.permute(0, 1, 3, 4, 2).cpu().numpy()
    return (np.clip(np.asarray(frames)[0], 0, 1) * 255).round().astype(np.uint8)
