"""``CT1TrajectoryModel``: image + instruction (+ speed) -> K camera trajectories, as CT-1's VLC model.

Frozen pretrained encoders embed the image and the instruction; a trainable fusion turns them (and the ego speed)
into condition tokens; a Diffusion Transformer predicts the noise on 16 pose tokens (DDPM cosine, 100 steps in
training). Sampling (DDIM, 10 steps, classifier-free guidance 1.5) is :class:`~ct1_sim.trajectory.pipeline_ct1.
CT1TrajectoryPipeline`; :meth:`CT1TrajectoryModel.sample` runs the model's own pipeline.

The model follows diffusers' ``ConfigMixin`` / ``ModelMixin``: the keyword arguments of ``__init__`` are its
configuration (``self.config``, saved as ``config.json``). Only the trainable parts and the pose-token statistics
are saved (``model.safetensors``); the frozen encoders come from installed packages, so the saved folder has this
model's own layout rather than ModelMixin's (whose loader expects every weight in
``diffusion_pytorch_model.safetensors``).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any, ClassVar

import diffusers
import numpy as np
import torch
from diffusers import DDPMScheduler
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from safetensors.torch import load_file, save_file
from torch import nn

from ct1_sim.atomic_files import atomic_write, write_text_atomic
from ct1_sim.clip_spec import NUM_POSES, RATE_HZ
from ct1_sim.config_loading import ConfigError, check_values, field_types
from ct1_sim.devices import resolve_device, resolve_dtype
from ct1_sim.geometry import CameraTrajectory
from ct1_sim.language import Intent, check_instruction_text, refusal_message
from ct1_sim.trajectory.backbones import PreparedFrame, build_backbone, prepare_frame
from ct1_sim.trajectory.configuration_ct1 import POSE_DIM, dit_width, validate_config
from ct1_sim.trajectory.dit import TrajectoryDiT
from ct1_sim.trajectory.fusion import ConditionFusion
from ct1_sim.trajectory.wavelet_loss import AUTHORS_HAAR, WaveletTransform, ct1_loss

log = logging.getLogger(__name__)

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
#: State-dict prefix of the frozen encoders: neither saved nor trained.
FROZEN_PREFIX = "encoder."


#: Parsed instructions kept per model (text -> Intent).
INTENT_CACHE_SIZE = 4096


class UnsupportedInstruction(ValueError):
    """An instruction the model understands but does not do (a U-turn, parking, ...) or does not understand; ``intent``
    says which, why, and the nearest maneuver it supports."""

    def __init__(self, instruction: str, intent: Intent) -> None:
        super().__init__(refusal_message(instruction, intent.as_dict()))
        self.instruction = instruction
        self.intent = intent


#: ``announce_m`` of a model whose config predates the key: the scenario clips start 7-13 m before their junction.
DEFAULT_ANNOUNCE_M = 15.0


class CT1TrajectoryModel(ModelMixin, ConfigMixin):
    """The CT-1 trajectory model. Build it with keyword arguments (its config), or load it with :meth:`from_pretrained`.

    Args:
        num_poses, rate_hz: the trajectory clip spec: ``num_poses`` poses at ``rate_hz`` Hz, the current pose first.
        backbone: frozen encoders, ``"mobilenet_v2+minilm"`` (installed wheels) or ``"hf"`` (a local CLIP/SigLIP-style
            folder at ``hf_path``).
        hidden_size, fusion_layers: the fusion transformer's width and depth (runs once per query).
        dit_hidden_size, dit_layers, dit_heads, mlp_ratio, dit_activation: the DiT (``dit_hidden_size`` None = the
            fusion's width; CT-1's S is 6 x 384, B 12 x 768; ours is small because it runs 10 steps x 2 (CFG) x K
            samples per query on a CPU); ``dit_activation`` ``"gelu_tanh"`` or ``"gelu"`` (exact, 2.5x cheaper on a CPU).
        train_timesteps, beta_schedule: the DDPM training schedule (cosine = ``"squaredcos_cap_v2"``).
        inference_steps, guidance_scale: sampling defaults (DDIM steps, classifier-free guidance; 1 = none).
        cond_dropout, speed_dropout, repeated_diffusion_steps: training: condition / speed dropout, noisings per sample.
        wavelet, wavelet_levels, wavelet_weight: the wavelet regularisation (authors' averaging Haar by default).
        wavelet_x0_clip: x0_hat = (x_t - sqrt(1-a) eps_hat) / sqrt(a) blows up near the last timestep
            (sqrt((1-a)/a) ~ 2000 at t=99 of the cosine schedule), so the wavelet term clamps x0_hat (normalised
            units) to +-this; None = off.
        speed_scale_mps: speed scale of the fusion's Fourier speed features (m/s).
        announce_m: how far before its junction (m) the training data told a maneuver (the scenario clips start 7-13 m
            before theirs: 15; the town drives announce at 60): the closed-loop ``ct1`` policy announces at this distance.
            Metadata for the loop; the network does not use it.
        encoder: an already built frozen encoder to share (tests, several models); not part of the config.

    The pose-token statistics (per pose and dimension mean/std, set from the training set by
    :meth:`set_normalization`) are buffers saved with the weights. No pose dimension is ever thresholded.
    """

    config_name = CONFIG_NAME
    ignore_for_config: ClassVar[list[str]] = ["encoder"]

    @register_to_config
    def __init__(
        self,
        num_poses: int = NUM_POSES,
        rate_hz: float = RATE_HZ,
        backbone: str = "mobilenet_v2+minilm",
        hf_path: str | None = None,
        hidden_size: int = 128,
        fusion_layers: int = 2,
        dit_hidden_size: int | None = None,
        dit_layers: int = 3,
        dit_heads: int = 4,
        mlp_ratio: float = 2.0,
        dit_activation: str = "gelu_tanh",
        train_timesteps: int = 100,
        beta_schedule: str = "squaredcos_cap_v2",
        inference_steps: int = 10,
        guidance_scale: float = 1.5,
        cond_dropout: float = 0.1,
        speed_dropout: float = 0.3,
        repeated_diffusion_steps: int = 8,
        wavelet: str = AUTHORS_HAAR,
        wavelet_levels: int = 3,
        wavelet_weight: float = 0.05,
        wavelet_x0_clip: float | None = 5.0,
        speed_scale_mps: float = 10.0,
        announce_m: float = DEFAULT_ANNOUNCE_M,
        encoder: nn.Module | None = None,
    ) -> None:
        super().__init__()
        validate_config(self.config)
        self.encoder = encoder if encoder is not None else build_backbone(backbone, hf_path)
        self.fusion = ConditionFusion(
            image_dim=self.encoder.image_dim,
            text_dim=self.encoder.text_dim,
            num_image_tokens=self.encoder.num_image_tokens,
            dim=hidden_size,
            layers=fusion_layers,
            heads=dit_heads,
            speed_scale_mps=speed_scale_mps,
        )
        self.dit = TrajectoryDiT(
            POSE_DIM, num_poses, dit_width(self.config), dit_layers, dit_heads, mlp_ratio,
            context_dim=hidden_size, activation=dit_activation,
        )
        self.register_buffer("pose_mean", torch.zeros(num_poses, POSE_DIM))
        self.register_buffer("pose_std", torch.ones(num_poses, POSE_DIM))
        self.noise_scheduler = DDPMScheduler(
            num_train_timesteps=train_timesteps, beta_schedule=beta_schedule, prediction_type="epsilon", clip_sample=False,
        )
        self.wavelet_transform = WaveletTransform(wavelet, wavelet_levels) if wavelet_weight > 0 else None

    @classmethod
    def check_config(cls, values: dict[str, Any], source: str, section: str = "") -> dict[str, Any]:
        """``values`` (a ``config.json``, or the ``section`` of a training YAML) without diffusers' private ``_`` keys,
        checked against this model's configuration: unknown keys, values of the wrong type and bad values are a
        :class:`~ct1_sim.config_loading.ConfigError` naming ``source`` and the key."""
        params = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self" and p.name not in cls.ignore_for_config]
        types = {k: t for k, t in field_types(cls.__init__).items() if k in {p.name for p in params}}
        checked = check_values({k: v for k, v in values.items() if not k.startswith("_")}, types, source, section)
        try:
            validate_config({**{p.name: p.default for p in params}, **checked})
        except ValueError as err:
            raise ConfigError(f"{source}: {err}") from None
        return checked

    # ------------------------------------------------------------------ pieces
    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """Weights that are saved: fusion, DiT and the pose-token statistics (not the frozen encoders)."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith(FROZEN_PREFIX)}

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for n, p in self.named_parameters() if not n.startswith(FROZEN_PREFIX)]

    def set_normalization(self, tokens: np.ndarray) -> None:
        """Set the per-(pose, dim) mean/std buffers from training tokens ``(N,T,9)``; std floored at 0.01."""
        self.pose_mean.copy_(torch.from_numpy(tokens.mean(axis=0)))
        self.pose_std.copy_(torch.from_numpy(np.maximum(tokens.std(axis=0), 1e-2)))

    def normalize(self, tokens: torch.Tensor) -> torch.Tensor:
        return (tokens - self.pose_mean) / self.pose_std

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.pose_std + self.pose_mean

    @property
    def device(self) -> torch.device:
        """Where the trainable parts are (the pose statistics' device)."""
        return self.pose_mean.device

    @property
    def dtype(self) -> torch.dtype:
        """The DiT's dtype (the frozen encoders stay float32 whatever this is)."""
        return self.dit.pos.dtype

    @property
    def instruction_parser(self) -> Any | None:
        """The :class:`~ct1_sim.trajectory.instruction_parser.InstructionParser` saved with this model, or None (a model
        from before it, conditioned on the raw instruction text)."""
        return self.__dict__.get("_instruction_parser")

    def set_instruction_parser(self, parser: Any | None) -> None:
        """Attach (or with None remove) the instruction parser; it is kept out of the module tree, so it is neither
        trained with the DiT nor in ``model.safetensors`` (it is saved beside it)."""
        self.__dict__["_instruction_parser"] = parser.cpu().eval() if parser is not None else None
        self.__dict__["_intent_cache"] = OrderedDict()  # instruction text -> Intent, for this parser

    def interpret(self, instructions: list[str]) -> list[Intent]:
        """What each instruction asks for (:class:`~ct1_sim.language.Intent`); unreadable text (empty, control
        characters, too long, no letters) is an :class:`~ct1_sim.language.InstructionError`. A model without a parser
        takes every readable instruction as supported, conditioned on its own text."""
        from ct1_sim.trajectory.instruction_parser import parse_instructions

        if self.instruction_parser is None:
            legacy = Intent("straight", reason="this model has no instruction parser: it is conditioned on the raw text, read as is",
                            nearest="straight", confidence=0.0)
            return [legacy for _ in (check_instruction_text(t) for t in instructions)]
        # instructions repeat (a drive, a service's clients): a parsed one is a dictionary look-up
        cache: OrderedDict[str, Intent] = self.__dict__.setdefault("_intent_cache", OrderedDict())
        missing = [t for t in dict.fromkeys(instructions) if not (isinstance(t, str) and t in cache)]
        if missing:
            parsed = parse_instructions(self.instruction_parser, lambda texts: self.encoder.text_embedding(texts).cpu().float(), missing)
            for text, intent in zip(missing, parsed, strict=True):
                cache[text] = intent
                if len(cache) > INTENT_CACHE_SIZE:
                    cache.popitem(last=False)
        return [cache[t] for t in instructions]

    def encode_text(self, instructions: list[str]) -> torch.Tensor:
        """Condition embeddings ``(B,D)`` float32: the canonical phrase of each instruction's intent (the raw text for a
        model without a parser). An unsupported request raises :class:`UnsupportedInstruction` with its intent."""
        if self.instruction_parser is None:
            cleaned = [check_instruction_text(t) for t in instructions]
            return self.encoder.text_embedding(cleaned).to(self.device).float()
        intents = self.interpret(list(instructions))
        for text, intent in zip(instructions, intents, strict=True):
            if not intent.supported:
                raise UnsupportedInstruction(text, intent)
        return self.encoder.text_embedding([i.canonical_phrase() for i in intents]).to(self.device).float()

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
        return ct1_loss(eps_hat, noise, x0_hat, x0, transform=self.wavelet_transform, weight=weight)

    # ------------------------------------------------------------------ sampling (the simple API)
    @property
    def pipeline(self) -> Any:
        """This model's own :class:`~ct1_sim.trajectory.pipeline_ct1.CT1TrajectoryPipeline` (DDIM from the training
        schedule), built on first use; :meth:`sample` and :meth:`sample_batch` run it. Its ``runtime`` chooses ONNX
        Runtime or eager PyTorch."""
        pipe = self.__dict__.get("_pipeline")
        if pipe is None:
            from ct1_sim.trajectory.pipeline_ct1 import (
                CT1TrajectoryPipeline,  # the pipeline module imports this one
            )

            pipe = self.__dict__["_pipeline"] = CT1TrajectoryPipeline.for_model(self)
        return pipe

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_pipeline", None)  # rebuilt on first use (its ONNX Runtime sessions do not pickle)
        return state

    def prepare_frame(self, image: Any) -> PreparedFrame:
        """``image`` (RGB uint8 ``(H,W,3)`` or PIL, any size) cropped and resized to the image encoder's input, ready for
        :meth:`sample` / :meth:`sample_batch`: the same samples as the image itself, with this step done beforehand
        (on another thread, say)."""
        return prepare_frame(image, self.encoder.input_size)

    def sample_batch(
        self,
        images: list[Any],
        instructions: list[str],
        speeds_mps: list[float | None] | None = None,
        num_samples: int = 8,
        generator: torch.Generator | list[torch.Generator] | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
    ) -> list[list[CameraTrajectory]]:
        """K trajectories for each of B (image, instruction, speed) queries, in one batched diffusion
        (:class:`~ct1_sim.trajectory.pipeline_ct1.CT1TrajectoryPipeline` with ``output_type="trajectory"``).

        ``generator`` may be one generator for the batch or one per query: a query then gets the same samples
        whether it runs alone or batched with others (up to float rounding)."""
        return self.pipeline(images, instructions, speed=speeds_mps, num_samples=num_samples, generator=generator,
                             num_inference_steps=num_inference_steps, guidance_scale=guidance_scale).trajectories

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
            generator: a ``torch.Generator`` for reproducible samples (None: torch's global generator).
            speed: current ego speed (m/s) when known; without it the model samples plausible speeds.
            num_inference_steps, guidance_scale: DDIM steps and classifier-free guidance (None: the config's).
        """
        return self.sample_batch([image], [instruction], [speed], num_samples, generator, num_inference_steps, guidance_scale)[0]

    # ------------------------------------------------------------------ persistence
    def save_pretrained(self, directory: str | os.PathLike[str]) -> Path:  # type: ignore[override]
        """Write ``config.json`` (``self.config``, unchanged) and ``model.safetensors`` (trainable weights + statistics)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in self.trainable_state_dict().items()}
        with atomic_write(directory / WEIGHTS_NAME) as tmp:
            save_file(state, str(tmp), metadata={"format": "pt", "model": type(self).__name__})
        write_text_atomic(directory / CONFIG_NAME, self.config_json())
        if self.instruction_parser is not None:
            self.instruction_parser.save(directory)
        return directory

    def config_json(self) -> str:
        """``config.json`` text: the config with diffusers' ``_class_name`` and ``_diffusers_version`` (written from a
        copy: diffusers' own ``save_config`` adds them to ``self.config`` in place)."""
        config = {k: v for k, v in self.config.items() if not k.startswith("_")}
        return json.dumps({"_class_name": type(self).__name__, "_diffusers_version": diffusers.__version__, **config},
                          indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_pretrained(  # type: ignore[override]
        cls,
        directory: str | os.PathLike[str],
        device: str | torch.device = "auto",
        dtype: str | torch.dtype = "float32",
        encoder: nn.Module | None = None,
        runtime: str = "auto",
    ) -> CT1TrajectoryModel:
        """Load a saved model (safetensors only, no hub) onto ``device`` (``auto`` = CUDA when present) in ``dtype``
        (the trainable parts; the frozen encoders stay float32); ``runtime`` is its pipeline's (``"auto"``: ONNX
        Runtime for float32 on the CPU, else eager PyTorch; ``"torch"``; ``"onnxruntime"``)."""
        directory = Path(directory)
        if not (directory / CONFIG_NAME).is_file() or not (directory / WEIGHTS_NAME).is_file():
            raise FileNotFoundError(f"{directory} is not a CT-1 trajectory model folder (need {CONFIG_NAME} and {WEIGHTS_NAME})")
        config = cls.check_config(cls.load_config(str(directory)), str(directory / CONFIG_NAME))
        model = cls(**config, encoder=encoder)
        state = load_file(str(directory / WEIGHTS_NAME))
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith(FROZEN_PREFIX)]
        if missing or unexpected:
            raise ValueError(f"{directory / WEIGHTS_NAME} does not match its config: missing {missing[:5]}, unexpected {unexpected[:5]}")
        dev, dt = resolve_device(device), resolve_dtype(dtype)
        model = model.to(dev)
        model.fusion.to(dt)
        model.dit.to(dt)
        model.pose_mean.data = model.pose_mean.to(dt)
        model.pose_std.data = model.pose_std.to(dt)
        model.pipeline.runtime = runtime
        from ct1_sim.trajectory.instruction_parser import InstructionParser

        if InstructionParser.exists(directory):
            model.set_instruction_parser(InstructionParser.load(directory))
        return model.eval()
