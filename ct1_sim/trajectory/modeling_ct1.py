"""``CT1TrajectoryModel``: image + instruction (+ speed) -> K camera trajectories, as CT-1's VLC model.

Frozen pretrained backbones embed the image and the instruction; a trainable fusion turns them (and the
ego speed) into condition tokens; a Diffusion Transformer denoises 16 pose tokens (DDPM cosine, 100 steps
in training; DDIM, 10 steps, classifier-free guidance 1.5 at inference). Only the trainable parts and the
normalisation statistics are saved (safetensors + config.json); the backbones come from installed packages.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import DDIMScheduler, DDPMScheduler
from safetensors.torch import load_file, save_file
from torch import nn

from ct1_sim.devices import resolve_device, resolve_dtype
from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov
from ct1_sim.rgb_input import as_rgb_array
from ct1_sim.trajectory.backbones import build_backbone, prepare_images
from ct1_sim.trajectory.configuration_ct1 import POSE_DIM, CT1TrajectoryConfig
from ct1_sim.trajectory.dit import TrajectoryDiT
from ct1_sim.trajectory.fusion import ConditionFusion
from ct1_sim.trajectory.onnx_graphs import OrtGraph, cached_graph, resolve_runtime
from ct1_sim.trajectory.pose_tokens import tokens_to_c2w
from ct1_sim.trajectory.wavelet_loss import WaveletTransform, ct1_loss

log = logging.getLogger(__name__)

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
#: Horizontal field of view (deg) assumed for the intrinsics of returned trajectories when none are given.
DEFAULT_HFOV_DEG = 64.0


class CT1TrajectoryModel(nn.Module):
    """The CT-1 trajectory model. Build with a config, or load with :meth:`from_pretrained`."""

    def __init__(self, config: CT1TrajectoryConfig, backbone: nn.Module | None = None, runtime: str = "auto") -> None:
        super().__init__()
        self.config = config
        self.runtime = runtime
        self.backbone = backbone if backbone is not None else build_backbone(config.backbone, config.hf_path)
        self.fusion = ConditionFusion(
            image_dim=self.backbone.image_dim,
            text_dim=self.backbone.text_dim,
            num_image_tokens=self.backbone.num_image_tokens,
            dim=config.hidden_size,
            layers=config.fusion_layers,
            heads=config.dit_heads,
            speed_scale_mps=config.speed_scale_mps,
        )
        self.dit = TrajectoryDiT(
            POSE_DIM, config.num_poses, config.dit_width, config.dit_layers, config.dit_heads, config.mlp_ratio,
            context_dim=config.hidden_size, activation=config.dit_activation,
        )
        mean = torch.tensor(config.pose_mean) if config.pose_mean is not None else torch.zeros(config.num_poses, POSE_DIM)
        std = torch.tensor(config.pose_std) if config.pose_std is not None else torch.ones(config.num_poses, POSE_DIM)
        self.register_buffer("pose_mean", mean.float())
        self.register_buffer("pose_std", std.float())
        self.noise_scheduler = DDPMScheduler(
            num_train_timesteps=config.train_timesteps, beta_schedule=config.beta_schedule,
            prediction_type="epsilon", clip_sample=False,
        )
        self.wavelet = WaveletTransform(config.wavelet, config.wavelet_levels) if config.wavelet_weight > 0 else None

    # ------------------------------------------------------------------ pieces
    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """Weights that are saved: fusion, DiT and the normalisation buffers (not the frozen backbones)."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("backbone.")}

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for n, p in self.named_parameters() if not n.startswith("backbone.")]

    def set_normalization(self, tokens: np.ndarray) -> None:
        """Set per-(pose, dim) mean/std from training tokens ``(N,T,9)``; std floored at 0.01."""
        mean = tokens.mean(axis=0)
        std = np.maximum(tokens.std(axis=0), 1e-2)
        self.pose_mean.copy_(torch.from_numpy(mean))
        self.pose_std.copy_(torch.from_numpy(std))
        self.config.pose_mean = mean.tolist()
        self.config.pose_std = std.tolist()

    def normalize(self, tokens: torch.Tensor) -> torch.Tensor:
        return (tokens - self.pose_mean) / self.pose_std

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.pose_std + self.pose_mean

    @property
    def device(self) -> torch.device:
        return self.pose_mean.device

    @property
    def runtime(self) -> str:
        """Where sampling and the image encoder run now: ``"torch"`` (eager) or ``"onnxruntime"`` (float32 CPU graphs).

        Set it to ``"auto"`` (ONNX Runtime for float32 on the CPU, eager PyTorch otherwise; the default),
        ``"torch"`` or ``"onnxruntime"``; it is resolved against the model's current device and dtype."""
        return resolve_runtime(self.__dict__["_runtime"], self.device, self.dit.pos.dtype)

    @runtime.setter
    def runtime(self, value: str) -> None:
        resolve_runtime(value, torch.device("cpu"), torch.float32)  # rejects unknown names now
        self.__dict__["_runtime"] = value

    def encode_images(self, images: list[np.ndarray] | np.ndarray) -> torch.Tensor:
        """Frozen image tokens ``(B,N,C)`` for RGB uint8 images of any size."""
        batch = prepare_images(images, self.backbone.input_size).to(self.device)
        return self.backbone.image_tokens(batch, runtime=self.runtime).float()

    def encode_text(self, instructions: list[str]) -> torch.Tensor:
        for text in instructions:
            if not isinstance(text, str) or not text.strip():
                raise ValueError("instruction must be a non-empty string, e.g. 'turn left at the intersection'")
        return self.backbone.text_embedding(list(instructions)).to(self.device).float()

    # ------------------------------------------------------------------ training
    def forward(self, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, dict[str, float]]:
        """Training forward = :meth:`training_loss` (so DistributedDataParallel can wrap the model)."""
        return self.training_loss(*args, **kwargs)

    def training_loss(
        self,
        image_tokens: torch.Tensor,
        text_embedding: torch.Tensor,
        speed_mps: torch.Tensor,
        target_tokens: torch.Tensor,
        generator: torch.Generator | None = None,
        wavelet_weight: float | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """CT-1 loss for a batch: condition and speed dropout, ``repeated_diffusion_steps`` noisings per sample."""
        cfg = self.config
        b = target_tokens.shape[0]
        dev = target_tokens.device

        def rand(n: int) -> torch.Tensor:
            return torch.rand(n, generator=generator, device="cpu").to(dev)

        drop = rand(b) < cfg.cond_dropout
        speed_known = (rand(b) >= cfg.speed_dropout) & torch.isfinite(speed_mps)
        tokens, cognition = self.fusion(image_tokens, text_embedding, speed_mps, speed_known, drop)
        r = cfg.repeated_diffusion_steps
        # r noisings of every sample share its condition: (B, r, T, 9) groups, condition tokens computed once
        x0 = self.normalize(target_tokens).repeat_interleave(r, dim=0)  # (B*r,T,9)
        noise = torch.randn(x0.shape, generator=generator, device="cpu").to(dev)
        t = torch.randint(0, cfg.train_timesteps, (x0.shape[0],), generator=generator, device="cpu").to(dev)
        x_t = self.noise_scheduler.add_noise(x0, noise, t)
        eps_hat = self.dit(x_t.view(b, r, *x0.shape[1:]), t.view(b, r), tokens, cognition).reshape(x0.shape)
        alpha_bar = self.noise_scheduler.alphas_cumprod.to(dev)[t].view(-1, 1, 1)
        x0_hat = (x_t - (1 - alpha_bar).sqrt() * eps_hat) / alpha_bar.sqrt()
        if cfg.wavelet_x0_clip is not None:
            x0_hat = x0_hat.clamp(-cfg.wavelet_x0_clip, cfg.wavelet_x0_clip)
        weight = cfg.wavelet_weight if wavelet_weight is None else wavelet_weight
        return ct1_loss(eps_hat, noise, x0_hat, x0, transform=self.wavelet, weight=weight)

    # ------------------------------------------------------------------ sampling
    def _ddim_scheduler(self, steps: int) -> DDIMScheduler:
        """The DDIM scheduler for ``steps`` inference steps, built once (``from_config`` costs ~1 ms a query).

        Shared between calls: with eta=0, ``step`` only reads the scheduler's state."""
        cache = self.__dict__.setdefault("_ddim_cache", {})
        if (steps, self.device) not in cache:
            scheduler = DDIMScheduler.from_config(self.noise_scheduler.config)
            scheduler.set_timesteps(steps, device=self.device)
            cache[(steps, self.device)] = scheduler
        return cache[(steps, self.device)]

    @torch.inference_mode()
    def sample_tokens(
        self,
        image_tokens: torch.Tensor,
        text_embedding: torch.Tensor,
        speed_mps: torch.Tensor,
        num_samples: int,
        generator: torch.Generator | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Denoised, de-normalised tokens ``(B,K,T,9)`` from frozen image tokens, in eager PyTorch; all B x K
        samples share one DiT forward per step. (:meth:`sample_batch` runs image to tokens on :attr:`runtime`.)

        ``noise`` ``(B*K,T,9)`` replaces the initial noise drawn from ``generator`` (per-query seeds in a batch)."""
        steps, scale = self._steps_and_scale(num_inference_steps, guidance_scale)
        noise = self._initial_noise(image_tokens.shape[0], num_samples, generator, noise)
        return self._denoise(image_tokens, text_embedding, speed_mps, noise.to(self.device), steps, scale)

    def _steps_and_scale(self, num_inference_steps: int | None, guidance_scale: float | None) -> tuple[int, float]:
        """The run's DDIM steps and guidance scale (the config's when None), checked."""
        steps = self.config.inference_steps if num_inference_steps is None else num_inference_steps
        if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or not 1 <= steps <= self.config.train_timesteps:
            raise ValueError(f"num_inference_steps must be a whole number in [1, {self.config.train_timesteps}], got {steps!r}")
        scale = self.config.guidance_scale if guidance_scale is None else guidance_scale
        if isinstance(scale, bool) or not isinstance(scale, int | float | np.floating) or not 0.0 <= scale <= 50.0:
            raise ValueError(f"guidance_scale must be a number in [0, 50] (1 = no guidance), got {scale!r}")
        return int(steps), float(scale)

    def _initial_noise(self, batch: int, num_samples: int, generator: torch.Generator | None, noise: torch.Tensor | None) -> torch.Tensor:
        """``noise (B*K,T,9)`` (checked) or a draw from ``generator``, as ``(B,K,T,9)`` float32 on the CPU."""
        shape = (batch * num_samples, self.config.num_poses, POSE_DIM)
        if noise is None:
            noise = torch.randn(shape, generator=generator, device="cpu", dtype=torch.float32)
        elif tuple(noise.shape) != shape:
            raise ValueError(f"noise must have shape {shape}, got {tuple(noise.shape)}")
        return noise.view(batch, num_samples, *shape[1:])

    def _sample_pixels(self, pixels: torch.Tensor, text_embedding: torch.Tensor, speed_mps: torch.Tensor, noise: torch.Tensor,
                       steps: int, scale: float) -> torch.Tensor:
        """Tokens ``(B,K,T,9)`` for prepared images ``(B,3,h,w)`` on :attr:`runtime`: with ONNX Runtime, the image
        encoder, fusion and every denoising step run as one graph (built on first use per batch size, K, steps
        and guidance; batches above one share a graph with a dynamic batch axis)."""
        if self.runtime == "onnxruntime" and hasattr(self.backbone, "tokens_from_pixels"):
            b, k = noise.shape[:2]
            names = ("pixels", "text_embedding", "speed_mps", "noise")
            inputs = (pixels, text_embedding, speed_mps, noise)

            def query(pixels: torch.Tensor, text_embedding: torch.Tensor, speed_mps: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
                return self._denoise(self.backbone.tokens_from_pixels(pixels), text_embedding, speed_mps, noise, steps, scale)

            graph = cached_graph(self, ("query", b if b == 1 else "B", k, steps, scale),
                                 lambda: OrtGraph(self, query, inputs, names, dynamic_batch=names if b > 1 else ()))
            return graph(*inputs)
        image_tokens = self.backbone.image_tokens(pixels, runtime=self.runtime).float()
        return self._denoise(image_tokens, text_embedding, speed_mps, noise.to(self.device), steps, scale)

    def _denoise(
        self, image_tokens: torch.Tensor, text_embedding: torch.Tensor, speed_mps: torch.Tensor, noise: torch.Tensor, steps: int, scale: float
    ) -> torch.Tensor:
        """Fusion, then ``steps`` DDIM steps with guidance ``scale`` from ``noise (B,K,T,9)`` -> de-normalised tokens.

        Tensor ops only (no data-dependent Python control flow): it is also traced into the ONNX sampling graph."""
        speed_known = torch.isfinite(speed_mps)
        guided = scale != 1.0
        keep = torch.zeros_like(speed_known)
        if guided:  # rows [0, B): conditional, [B, 2B): condition dropped
            drop = torch.cat([keep, ~keep])
            ctx, cog = self.fusion(image_tokens.repeat(2, 1, 1), text_embedding.repeat(2, 1), speed_mps.repeat(2), speed_known.repeat(2), drop)
        else:
            ctx, cog = self.fusion(image_tokens, text_embedding, speed_mps, speed_known, keep)
        scheduler = self._ddim_scheduler(steps)
        prepared = self.dit.prepare(scheduler.timesteps, ctx, cog)  # condition-only work, once per run
        x = noise.to(self.pose_mean.dtype)
        for i, t in enumerate(scheduler.timesteps):
            model_in = torch.cat([x, x]) if guided else x  # ([2]B, K, T, 9): the K samples of a query share its condition
            eps = self.dit.denoise_step(model_in, prepared, i)
            if guided:
                eps_c, eps_u = eps.chunk(2)
                eps = eps_u + scale * (eps_c - eps_u)
            x = scheduler.step(eps, t, x, eta=0.0).prev_sample
        return self.denormalize(x).float()

    def sample_batch(
        self,
        images: list[np.ndarray],
        instructions: list[str],
        speeds_mps: list[float | None] | None = None,
        num_samples: int = 8,
        generator: torch.Generator | list[torch.Generator | None] | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
    ) -> list[list[CameraTrajectory]]:
        """K trajectories for each of B (image, instruction, speed) queries, in one batched diffusion.

        ``generator`` may be one generator for the batch or one per query: a query then gets the same samples
        whether it runs alone or batched with others (up to float rounding)."""
        if not images:
            raise ValueError("sample_batch needs at least one image and instruction")
        if len(images) != len(instructions):
            raise ValueError(f"got {len(images)} images but {len(instructions)} instructions")
        if isinstance(num_samples, bool) or not isinstance(num_samples, int | np.integer) or not 1 <= num_samples <= 256:
            raise ValueError(f"num_samples must be a whole number in [1, 256], got {num_samples!r}")
        speeds = list(speeds_mps) if speeds_mps is not None else [None] * len(images)
        for s in speeds:
            if s is not None and (isinstance(s, bool) or not isinstance(s, int | float | np.number)):
                raise ValueError(f"speed must be a number of m/s or None, got {s!r}")
            if s is not None and (not np.isfinite(s) or not 0 <= s <= 70):
                raise ValueError(f"speed must be a finite ego speed in [0, 70] m/s, got {s}")
        pixels = prepare_images(images, self.backbone.input_size).to(self.device)
        text = self.encode_text(instructions)
        speed = torch.tensor([np.nan if s is None else float(s) for s in speeds], dtype=torch.float32, device=self.device)
        if isinstance(generator, list):
            if len(generator) != len(images):
                raise ValueError(f"got {len(generator)} generators for {len(images)} queries")
            shape = (num_samples, self.config.num_poses, POSE_DIM)
            noise = torch.cat([torch.randn(shape, generator=g, dtype=torch.float32) for g in generator])
            noise = self._initial_noise(len(images), num_samples, None, noise)
        else:
            noise = self._initial_noise(len(images), num_samples, generator, None)
        with torch.inference_mode():
            tokens = self._sample_pixels(pixels, text, speed, noise, *self._steps_and_scale(num_inference_steps, guidance_scale))
            c2w = tokens_to_c2w(tokens.double()).cpu().numpy()  # (B,K,T,4,4)
        step_us = 1e6 / self.config.rate_hz
        timestamps = np.round(np.arange(self.config.num_poses) * step_us).astype(np.int64)
        out = []
        for i, image in enumerate(images):
            h, w = np.asarray(image).shape[:2]
            K = intrinsics_from_fov(w, h, DEFAULT_HFOV_DEG)
            out.append(CameraTrajectory.many(c2w[i], K, (w, h), timestamps))
        return out

    def sample(
        self,
        image: Any,
        instruction: str,
        num_samples: int = 8,
        generator: torch.Generator | None = None,
        speed: float | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
    ) -> list[CameraTrajectory]:
        """K plausible trajectories (metres, relative to the current camera, OpenCV axes) at the clip spec's times.

        Args:
            image: RGB uint8 array ``(H,W,3)`` of any size, or a PIL image.
            instruction: e.g. ``"turn left at the intersection"``.
            num_samples: K.
            generator: a ``torch.Generator`` for reproducible samples.
            speed: current ego speed (m/s) when known; without it the model samples plausible speeds.
        """
        arr = as_rgb_array(image)
        return self.sample_batch([arr], [instruction], [speed], num_samples, generator, num_inference_steps, guidance_scale)[0]

    # ------------------------------------------------------------------ persistence
    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json`` and ``model.safetensors`` (trainable weights + statistics)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.config.pose_mean = self.pose_mean.cpu().tolist()
        self.config.pose_std = self.pose_std.cpu().tolist()
        state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in self.trainable_state_dict().items()}
        tmp = directory / (WEIGHTS_NAME + ".tmp")
        save_file(state, str(tmp), metadata={"format": "pt", "model": "CT1TrajectoryModel"})
        tmp.replace(directory / WEIGHTS_NAME)
        self.config.save(directory / CONFIG_NAME)
        return directory

    @classmethod
    def from_pretrained(
        cls,
        directory: str | Path,
        device: str | torch.device = "auto",
        dtype: str | torch.dtype = "float32",
        backbone: nn.Module | None = None,
        runtime: str = "auto",
    ) -> CT1TrajectoryModel:
        """Load a saved model (safetensors only) onto ``device`` (``auto`` = CUDA when present) in ``dtype``;
        ``runtime`` as :attr:`runtime`."""
        directory = Path(directory)
        if not (directory / CONFIG_NAME).is_file() or not (directory / WEIGHTS_NAME).is_file():
            raise FileNotFoundError(f"{directory} is not a CT-1 trajectory model folder (need {CONFIG_NAME} and {WEIGHTS_NAME})")
        config = CT1TrajectoryConfig.load(directory / CONFIG_NAME)
        model = cls(config, backbone=backbone, runtime=runtime)
        state = load_file(str(directory / WEIGHTS_NAME))
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("backbone.")]
        if missing or unexpected:
            raise ValueError(f"{directory / WEIGHTS_NAME} does not match its config: missing {missing[:5]}, unexpected {unexpected[:5]}")
        dev, dt = resolve_device(device), resolve_dtype(dtype)
        model = model.to(dev)
        model.fusion.to(dt)
        model.dit.to(dt)
        model.pose_mean.data = model.pose_mean.to(dt)
        model.pose_std.data = model.pose_std.to(dt)
        return model.eval()

