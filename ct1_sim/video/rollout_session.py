"""``VideoSession``: one autoregressive rollout's state, to generate the next frames for poses given as they come.

The pipeline's :meth:`~ct1_sim.video.pipeline_ct1_video.CameraControlledVideoPipeline.generate_chunks` drives one
along a known path; a closed-loop simulator (:mod:`ct1_sim.sim.neural`) drives one with the poses its policy makes,
a frame or a chunk at a time, for as long as the drive lasts. The session holds the 3D point cache, the key camera
(the last frame added to the cache: the generator's Plücker rays are relative to it, as in training), the noise every
frame starts from (so fills agree over time) and the schedule.

Poses are camera-to-world ``(4,4)`` matrices relative to the first camera (OpenCV axes, metres).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ct1_sim.geometry.plucker import plucker_embedding
from ct1_sim.video.hole_fill import fill_holes
from ct1_sim.video.point_cache import PointCache
from ct1_sim.video.warp import WarpResult

if TYPE_CHECKING:
    from ct1_sim.video.pipeline_ct1_video import CameraControlledVideoPipeline

#: Rendered pixels needed to align the depth estimate of generated pixels with the cache's depth.
MIN_ALIGNMENT_PIXELS = 500


def relative_plucker(c2w_rel: np.ndarray, K: np.ndarray, size: tuple[int, int], height: int, width: int, scale_m: float) -> torch.Tensor:
    """Plücker embedding ``(T,6,height,width)`` of relative poses with translations divided by ``scale_m``."""
    scaled = np.asarray(c2w_rel, dtype=np.float64).copy()
    scaled[:, :3, 3] /= scale_m
    return torch.from_numpy(plucker_embedding(scaled, K, size, height, width))


class VideoSession:
    """The rollout from ``frame0 (3,H,W)`` (float in [0,1]) seen with pixel intrinsics ``K (3,3)`` at its size.

    Args:
        pipe: the video pipeline whose depth network and denoiser generate.
        timesteps: the DDIM timesteps to run (``pipe.get_timesteps``).
        strength: < 1 starts the holes from the noised push-pull fill instead of pure noise.
        generator: torch generator for the shared noise.
        callback_on_step_end: ``f(pipe, step_index, timestep, {"latents": sample}) -> dict`` after each step.
        min_hole_pixels: a chunk whose last frame has fewer hole pixels than this leaves them out of the cache (no
            depth pass): they are generated again with the next chunk, until enough gather to be worth the depth
            network. 0 (the default) adds every chunk's holes. A simulator generating one frame per step sets it: driving
            straight, each frame shows only a few hundred new pixels.
    """

    def __init__(self, pipe: CameraControlledVideoPipeline, frame0: torch.Tensor, K: np.ndarray, timesteps: torch.Tensor,
                 strength: float = 1.0, generator: torch.Generator | None = None,
                 callback_on_step_end: Callable[..., dict[str, Any]] | None = None, min_hole_pixels: int = 0) -> None:
        self.pipe = pipe
        self.min_hole_pixels = int(min_hole_pixels)
        self.device, self.dtype = pipe._execution_device, pipe.denoiser.dtype
        _, self.height, self.width = frame0.shape
        self.K = np.asarray(K, dtype=np.float64)
        self.K_t = torch.from_numpy(self.K).to(device=self.device, dtype=torch.float32)
        self.timesteps, self.strength, self.callback = timesteps, strength, callback_on_step_end
        self.cache = PointCache(self.K_t, (self.width, self.height))
        frame0 = frame0.to(self.device)
        self.cache.add_frame(frame0, pipe.depth_net(frame0[None].to(pipe.depth_net.dtype), self.K_t)[0].float(), torch.eye(4, device=self.device))
        self.key_c2w = np.eye(4)
        self.noise = torch.randn((1, 3, self.height, self.width), generator=generator, dtype=torch.float32).to(self.device)
        self.step_index = 0
        self.frames_made = 0

    @torch.no_grad()
    def generate(self, c2w_rel: np.ndarray) -> torch.Tensor:
        """Frames ``(n,3,H,W)`` float in [0,1] seen from cameras ``c2w_rel (n,4,4)`` (relative to the first camera),
        generated together as one chunk; the last one's new content then joins the cache."""
        c2w_rel = np.asarray(c2w_rel, dtype=np.float64).reshape(-1, 4, 4)
        if not np.isfinite(c2w_rel).all():
            raise ValueError("camera poses must be finite (no NaN or inf)")
        pipe, dtype, device = self.pipe, self.dtype, self.device
        n = len(c2w_rel)
        c2w = torch.from_numpy(c2w_rel).to(device=device, dtype=torch.float32)
        render = self.cache.render(c2w)
        warped, mask = render.frames * 2 - 1, render.mask
        fold, scale = pipe.denoiser.config.fold, pipe.denoiser.config.plucker_scale_m
        rel = np.linalg.inv(self.key_c2w) @ c2w_rel
        plucker = relative_plucker(rel, self.K, (self.width, self.height), self.height // fold, self.width // fold, scale).to(device)
        condition = pipe.denoiser.prepare_condition(warped.to(dtype), mask.to(dtype), plucker.to(dtype))
        eps = self.noise.expand(n, -1, -1, -1).to(dtype)
        known = warped.to(dtype)
        timesteps = self.timesteps
        if self.strength >= 1:
            sample = eps * pipe.scheduler.init_noise_sigma
        else:
            sample = pipe.scheduler.add_noise(fill_holes(known * mask, mask), eps, timesteps[:1].expand(n))
        for i, t in enumerate(timesteps):
            x0 = pipe.denoiser(sample, t.expand(n).to(device), condition)
            sample = pipe.scheduler.step(x0, t, sample).prev_sample
            # known-region replacement (RePaint): rendered pixels are the cache's, noised to the next level
            ref = pipe.scheduler.add_noise(known, eps, timesteps[i + 1 : i + 2].expand(n)) if i + 1 < len(timesteps) else known
            sample = mask * ref + (1 - mask) * sample
            if self.callback is not None:
                sample = self.callback(pipe, self.step_index, t, {"latents": sample}).get("latents", sample)
            self.step_index += 1
        frames = (sample.float().clamp(-1, 1) + 1) / 2
        self.densify(frames[-1], render, c2w[-1])
        self.cache.prune(c2w[-1])
        self.key_c2w = c2w_rel[-1]
        self.frames_made += n
        return frames

    def densify(self, frame: torch.Tensor, render: WarpResult, c2w_rel: torch.Tensor) -> int:
        """Add a chunk's last ``frame (3,H,W)`` to the cache where its render had no point: generated pixels with the
        depth network's estimate, scaled to agree with the rendered depth (median ratio over the rendered pixels),
        and crack-closed pixels with their interpolated depth, so the next chunk sees them at this camera's
        resolution (the generated ones only when there are ``min_hole_pixels`` of them). Returns the number of
        points added."""
        hole = render.mask[-1, 0] < 0.5
        closed = render.closed[-1, 0] if render.closed is not None else torch.zeros_like(hole)
        if int(hole.sum()) < self.min_hole_pixels:  # too few to pay for the depth network: generated again next chunk
            hole = torch.zeros_like(hole)
        new = hole | closed
        if not bool(new.any()):
            return 0
        rendered_depth = render.depth[-1, 0]
        depth = rendered_depth
        if bool(hole.any()):
            net = self.pipe.depth_net
            estimate = net(frame[None].to(net.dtype), self.K_t)[0].float()
            known = (~hole) & (rendered_depth > 0)
            if int(known.sum()) >= MIN_ALIGNMENT_PIXELS:
                ratio = float(torch.median(rendered_depth[known] / estimate[known].clamp_min(1e-3)))
                estimate = estimate * min(max(ratio, 0.5), 2.0)
            depth = torch.where(hole, estimate, rendered_depth)
        return self.cache.add_frame(frame, depth, c2w_rel, where=new)
