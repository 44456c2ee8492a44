"""``CT1TrajectoryPipeline``: image + instruction (+ ego speed) -> K camera trajectories, as a diffusers pipeline.

Components: ``model`` (:class:`~ct1_sim.trajectory.modeling_ct1.CT1TrajectoryModel`: frozen encoders, fusion, DiT)
and ``scheduler`` (DDIM built from the model's DDPM training schedule). A call encodes the condition, draws the
initial noise, runs ``num_inference_steps`` guided DDIM steps and turns the pose tokens into camera paths.

``runtime`` chooses where the work runs: ``"auto"`` (the default) runs float32 CPU calls on ONNX Runtime, where the
image encoder, the fusion and every denoising step are one graph traced from these very modules (built on first use
per batch size, K, steps, guidance and scheduler, ~5 s; about 2x faster than eager on two cores), and everything
else eagerly; ``"torch"`` always runs eager PyTorch; ``"onnxruntime"`` insists on the graphs. There is no progress
bar: a call takes ~10 ms.

Example:
    >>> pipe = CT1TrajectoryPipeline.from_pretrained("model/ct1-tiny")                      # doctest: +SKIP
    >>> paths = pipe(frame, "turn left at the intersection", speed=5.0, num_samples=8,
    ...              generator=torch.Generator().manual_seed(0)).trajectories[0]             # doctest: +SKIP
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import DDIMScheduler, DiffusionPipeline
from diffusers.utils import BaseOutput
from torch import nn

from ct1_sim.clip_spec import check_num_samples, check_speed_mps
from ct1_sim.rgb_input import as_rgb_array
from ct1_sim.trajectory.backbones import PreparedFrame, prepare_images
from ct1_sim.trajectory.configuration_ct1 import POSE_DIM
from ct1_sim.trajectory.modeling_ct1 import CT1TrajectoryModel
from ct1_sim.trajectory.onnx_graphs import (
    OrtGraph,
    cached_graph,
    lane_count,
    resolve_runtime,
    run_in_lanes,
    split_sizes,
)
from ct1_sim.trajectory.pose_tokens import tokens_to_c2w, tokens_to_trajectories

log = logging.getLogger(__name__)

#: A lone query's samples are split over lanes only this many or more to a lane (each lane runs the image encoder).
MIN_SAMPLES_PER_LANE = 4


def lone_query_lanes(num_samples: int) -> list[int]:
    """How a lone query's K samples are split over the sampling lanes on ONNX Runtime: K=8 on two cores -> [4, 4]."""
    return split_sizes(num_samples, min(lane_count(), max(1, num_samples // MIN_SAMPLES_PER_LANE)))

OUTPUT_TYPES = ("trajectory", "np", "pt")


@dataclass
class CT1TrajectoryPipelineOutput(BaseOutput):
    """``trajectories``: for each query, its K samples, relative to the current camera (OpenCV axes, metres), at the
    clip spec's times: ``list[list[CameraTrajectory]]`` (``output_type="trajectory"``) or camera-to-world poses
    ``(B,K,T,4,4)`` float64 (``"np"``: an array, ``"pt"``: a tensor)."""

    trajectories: Any


class CT1TrajectoryPipeline(DiffusionPipeline):
    """Image + instruction (+ speed) -> K camera trajectories (see the module docstring)."""

    def __init__(self, model: CT1TrajectoryModel, scheduler: DDIMScheduler, runtime: str = "auto") -> None:
        super().__init__()
        self.register_modules(model=model, scheduler=scheduler)
        self.runtime = runtime

    @classmethod
    def for_model(cls, model: CT1TrajectoryModel, runtime: str = "auto") -> CT1TrajectoryPipeline:
        """A pipeline around ``model`` with DDIM built from its DDPM training schedule."""
        return cls(model, DDIMScheduler.from_config(model.noise_scheduler.config), runtime)

    @classmethod
    def from_pretrained(  # type: ignore[override]
        cls, directory: str | os.PathLike[str], device: str | torch.device = "auto", dtype: str | torch.dtype = "float32",
        runtime: str = "auto", encoder: nn.Module | None = None,
    ) -> CT1TrajectoryPipeline:
        """The pipeline of a saved model folder (``config.json`` + ``model.safetensors``; see
        :meth:`CT1TrajectoryModel.from_pretrained`). The scheduler is not saved: it follows from the model's config."""
        return CT1TrajectoryModel.from_pretrained(directory, device=device, dtype=dtype, encoder=encoder, runtime=runtime).pipeline

    def save_pretrained(self, directory: str | os.PathLike[str]) -> Path:  # type: ignore[override]
        """Save the model folder (the scheduler follows from its config)."""
        return self.model.save_pretrained(directory)

    @property
    def runtime(self) -> str:
        """Where calls run now: ``"torch"`` (eager) or ``"onnxruntime"`` (float32 CPU graphs).

        Set it to ``"auto"`` (ONNX Runtime for float32 on the CPU when installed, eager PyTorch otherwise; the
        default), ``"torch"`` or ``"onnxruntime"``; it is resolved against the model's current device and dtype."""
        return resolve_runtime(self.__dict__["_runtime"], self.model.device, self.model.dtype)

    @runtime.setter
    def runtime(self, value: str) -> None:
        resolve_runtime(value, torch.device("cpu"), torch.float32)  # rejects unknown names now
        self.__dict__["_runtime"] = value

    # ------------------------------------------------------------------ steps
    def check_inputs(
        self, image: Any, instruction: str | list[str], speed: float | None | list[float | None], num_samples: int, output_type: str,
    ) -> tuple[list[np.ndarray | PreparedFrame], list[str], list[float | None]]:
        """The call's queries as lists (images as RGB uint8 arrays, or the :class:`PreparedFrame` s given), checked."""
        if output_type not in OUTPUT_TYPES:
            raise ValueError(f"output_type must be one of {OUTPUT_TYPES}, got {output_type!r}")
        images = list(image) if isinstance(image, list | tuple) else [image]
        instructions = list(instruction) if isinstance(instruction, list | tuple) else [instruction]
        if not images:
            raise ValueError("the pipeline needs at least one image and instruction")
        if len(images) != len(instructions):
            raise ValueError(f"got {len(images)} images but {len(instructions)} instructions")
        check_num_samples(num_samples)
        speeds = list(speed) if isinstance(speed, list | tuple) else [speed] * len(images)
        if len(speeds) != len(images):
            raise ValueError(f"got {len(speeds)} speeds for {len(images)} queries")
        images = [im if isinstance(im, PreparedFrame) else as_rgb_array(im) for im in images]
        return images, instructions, [check_speed_mps(s) for s in speeds]

    def check_sampling(self, num_inference_steps: int | None, guidance_scale: float | None) -> tuple[int, float]:
        """The call's DDIM steps and guidance scale (the model config's when None), checked."""
        config = self.model.config
        steps = config.inference_steps if num_inference_steps is None else num_inference_steps
        if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or not 1 <= steps <= config.train_timesteps:
            raise ValueError(f"num_inference_steps must be a whole number in [1, {config.train_timesteps}], got {steps!r}")
        scale = config.guidance_scale if guidance_scale is None else guidance_scale
        if isinstance(scale, bool) or not isinstance(scale, int | float | np.floating) or not 0.0 <= scale <= 50.0:
            raise ValueError(f"guidance_scale must be a number in [0, 50] (1 = no guidance), got {scale!r}")
        return int(steps), float(scale)

    def prepare_noise(self, batch: int, num_samples: int, generator: torch.Generator | list[torch.Generator] | None) -> torch.Tensor:
        """Initial noise ``(B,K,T,9)`` float32 on the CPU: one draw of ``(B*K,T,9)`` from one generator, or ``(K,T,9)``
        from each query's own generator (a query then gets the same noise alone or in a batch)."""
        shape = (num_samples, self.model.config.num_poses, POSE_DIM)
        if isinstance(generator, list):
            if len(generator) != batch:
                raise ValueError(f"got {len(generator)} generators for {batch} queries")
            noise = torch.cat([torch.randn(shape, generator=g, dtype=torch.float32) for g in generator])
        else:
            noise = torch.randn((batch * num_samples, *shape[1:]), generator=generator, device="cpu", dtype=torch.float32)
        return noise.view(batch, *shape)

    def timesteps(self, steps: int) -> torch.Tensor:
        """The scheduler's ``steps`` timesteps (set on it) on the model's device."""
        self.scheduler.set_timesteps(steps, device=self.model.device)
        return self.scheduler.timesteps

    def denoise(
        self, image_tokens: torch.Tensor, text_embedding: torch.Tensor, speed_mps: torch.Tensor, noise: torch.Tensor, steps: int, scale: float,
    ) -> torch.Tensor:
        """Fusion, then ``steps`` DDIM steps with guidance ``scale`` from ``noise (B,K,T,9)`` -> de-normalised pose tokens
        ``(B,K,T,9)``, eagerly from frozen image tokens ``(B,N,C)`` (training validation starts here).

        Tensor ops only (no data-dependent Python control flow): it is also traced into the ONNX Runtime graph."""
        model = self.model
        speed_known = torch.isfinite(speed_mps)
        guided = scale != 1.0
        keep = torch.zeros_like(speed_known)
        if guided:  # rows [0, B): conditional, [B, 2B): condition dropped
            drop = torch.cat([keep, ~keep])
            ctx, cog = model.fusion(image_tokens.repeat(2, 1, 1), text_embedding.repeat(2, 1), speed_mps.repeat(2), speed_known.repeat(2), drop)
        else:
            ctx, cog = model.fusion(image_tokens, text_embedding, speed_mps, speed_known, keep)
        timesteps = self.timesteps(steps)
        prepared = model.dit.prepare(timesteps, ctx, cog)  # condition-only work, once per run
        x = noise.to(model.pose_mean.dtype)
        for i, t in enumerate(timesteps):
            model_in = torch.cat([x, x]) if guided else x  # ([2]B, K, T, 9): the K samples of a query share its condition
            eps = model.dit.denoise_step(model_in, prepared, i)
            if guided:
                eps_c, eps_u = eps.chunk(2)
                eps = eps_u + scale * (eps_c - eps_u)
            x = self.scheduler.step(eps, t, x, eta=0.0).prev_sample
        return model.denormalize(x).float()

    def denoise_pixels(
        self, pixels: torch.Tensor, text_embedding: torch.Tensor, speed_mps: torch.Tensor, noise: torch.Tensor, steps: int, scale: float,
    ) -> torch.Tensor:
        """Pose tokens ``(B,K,T,9)`` for prepared images ``(B,3,h,w)`` on :attr:`runtime`. With ONNX Runtime the image
        encoder, the fusion and every denoising step run as one graph (batches above one share a graph with a dynamic
        batch axis)."""
        model = self.model
        runtime = self.runtime
        if runtime == "onnxruntime" and hasattr(model.encoder, "tokens_from_pixels"):
            return self._denoise_in_lanes(pixels, text_embedding, speed_mps, noise, steps, scale)
        image_tokens = model.encoder.image_tokens(pixels, runtime=runtime).float()
        return self.denoise(image_tokens, text_embedding, speed_mps, noise.to(model.device), steps, scale)

    def _denoise_in_lanes(
        self, pixels: torch.Tensor, text_embedding: torch.Tensor, speed_mps: torch.Tensor, noise: torch.Tensor, steps: int, scale: float,
    ) -> torch.Tensor:
        """:meth:`denoise_pixels` on ONNX Runtime: the image encoder, the fusion and every denoising step as one
        single-threaded graph, run in :func:`~ct1_sim.trajectory.onnx_graphs.run_in_lanes` (one lane per core).
        A lone query's K samples are split over the lanes, at least :data:`MIN_SAMPLES_PER_LANE` each (each lane
        encodes the image again: for K=8 on two lanes ~30 % more work, done side by side); a batch's queries are.
        Every sample sees the same arithmetic as in one run, up to float rounding of the batched matmuls."""
        model = self.model
        b, k = noise.shape[:2]
        names = ("pixels", "text_embedding", "speed_mps", "noise")

        def query(pixels: torch.Tensor, text_embedding: torch.Tensor, speed_mps: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
            return self.denoise(model.encoder.tokens_from_pixels(pixels), text_embedding, speed_mps, noise, steps, scale)

        lone = b == 1  # a static batch-1 graph (its shapes fold to constants); batches share one with a dynamic axis

        def graph(inputs: tuple[torch.Tensor, ...]) -> OrtGraph:
            key = ("query", 1 if lone else "B", inputs[3].shape[1], steps, scale, self.scheduler)
            example = inputs if lone else (pixels, text_embedding, speed_mps, noise)  # the dynamic axis traced at b >= 2
            return cached_graph(model, key, lambda: OrtGraph(model, query, example, names, dynamic_batch=() if lone else names, threads=1))

        if lone:  # split the samples, at least MIN_SAMPLES_PER_LANE each: every lane encodes the image again
            axis = 1
            chunks = [(pixels, text_embedding, speed_mps, part) for part in noise.split(lone_query_lanes(k), dim=1)]
        else:  # split the queries
            axis, sizes = 0, split_sizes(b, lane_count())
            chunks = list(zip(*(x.split(sizes) for x in (pixels, text_embedding, speed_mps, noise)), strict=True))
        graphs = [graph(chunk) for chunk in chunks]  # built here, one at a time, before the lanes run them
        parts = run_in_lanes([functools.partial(g, *chunk) for g, chunk in zip(graphs, chunks, strict=True)])
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=axis)

    @torch.inference_mode()
    def __call__(
        self,
        image: Any,
        instruction: str | list[str],
        speed: float | None | list[float | None] = None,
        num_samples: int = 8,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        generator: torch.Generator | list[torch.Generator] | None = None,
        output_type: str = "trajectory",
        return_dict: bool = True,
    ) -> CT1TrajectoryPipelineOutput | tuple:
        """K trajectories for each query, all queries in one batched diffusion.

        Args:
            image: one RGB uint8 ``(H,W,3)`` array or PIL image of any size, or a list of them (a batch); a
                :class:`~ct1_sim.trajectory.backbones.PreparedFrame` (:meth:`CT1TrajectoryModel.prepare_frame`) too.
            instruction: one instruction or a list (one per image), e.g. ``"turn left at the intersection"``.
            speed: current ego speed (m/s), one for all or a list; None = unknown (the model samples plausible speeds).
            num_samples: K samples per query.
            num_inference_steps: DDIM steps (None: the model config's, 10).
            guidance_scale: classifier-free guidance (None: the config's, 1.5; 1 = none; in [0, 1) it leans towards
                the unconditional prediction).
            generator: one ``torch.Generator`` for the batch, or one per query (None: torch's global generator).
            output_type: ``"trajectory"`` (``CameraTrajectory`` objects), ``"np"`` or ``"pt"`` (poses ``(B,K,T,4,4)``).
            return_dict: False returns the tuple ``(trajectories,)``.
        """
        # 1. inputs
        images, instructions, speeds = self.check_inputs(image, instruction, speed, num_samples, output_type)
        steps, scale = self.check_sampling(num_inference_steps, guidance_scale)
        device = self.model.device

        # 2. condition: images at the encoder's input size, instruction embeddings, speeds (NaN = unknown)
        pixels = prepare_images(images, self.model.encoder.input_size).to(device)
        text = self.model.encode_text(instructions)
        speed_t = torch.tensor([np.nan if s is None else float(s) for s in speeds], dtype=torch.float32, device=device)

        # 3. initial noise
        noise = self.prepare_noise(len(images), num_samples, generator)

        # 4. denoise
        tokens = self.denoise_pixels(pixels, text, speed_t, noise, steps, scale)

        # 5. outputs
        if output_type == "trajectory":
            sizes = [im.image_size if isinstance(im, PreparedFrame) else (im.shape[1], im.shape[0]) for im in images]
            trajectories: Any = tokens_to_trajectories(tokens, sizes, self.model.config.rate_hz)
        else:
            c2w = tokens_to_c2w(tokens)  # (B,K,T,4,4)
            trajectories = torch.from_numpy(c2w) if output_type == "pt" else c2w
        if not return_dict:
            return (trajectories,)
        return CT1TrajectoryPipelineOutput(trajectories=trajectories)
