"""Checks of the trajectory model's configuration (the keyword arguments of ``CT1TrajectoryModel.__init__``).

The model carries its configuration the diffusers way (``ConfigMixin`` + ``register_to_config``): the keyword
arguments of its ``__init__`` are the configuration, saved as ``config.json`` beside the weights. This module
holds what is checked about their values, so a bad value is a ``ValueError`` naming it, whether it comes from
Python, a training YAML or a ``config.json`` (whose keys and value types :mod:`ct1_sim.config_loading` checks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pywt

from ct1_sim.trajectory.wavelet_loss import AUTHORS_HAAR

POSE_DIM = 9  # translation (3, metres) + 6D rotation (first two columns of R), relative to the first camera
BACKBONES = ("mobilenet_v2+minilm", "hf")
ACTIVATIONS = ("gelu_tanh", "gelu")
BETA_SCHEDULES = ("squaredcos_cap_v2", "linear", "scaled_linear")


def dit_width(config: Mapping[str, Any]) -> int:
    """The DiT's width: ``dit_hidden_size``, or ``hidden_size`` when unset."""
    return config["dit_hidden_size"] or config["hidden_size"]


def validate_config(c: Mapping[str, Any]) -> None:
    """``ValueError("invalid CT1TrajectoryModel config: ...")`` naming the first bad value of a full configuration."""

    def need(ok: bool, what: str) -> None:
        if not ok:
            raise ValueError(f"invalid CT1TrajectoryModel config: {what}")

    need(c["num_poses"] >= 2, f"num_poses must be >= 2, got {c['num_poses']}")
    need(c["rate_hz"] > 0, f"rate_hz must be > 0, got {c['rate_hz']}")
    need(c["backbone"] in BACKBONES, f"backbone must be one of {BACKBONES}, got {c['backbone']!r}")
    need(c["backbone"] != "hf" or bool(c["hf_path"]), "backbone 'hf' needs hf_path (a local checkpoint folder)")
    need(c["hidden_size"] % c["dit_heads"] == 0, f"hidden_size {c['hidden_size']} must be divisible by dit_heads {c['dit_heads']}")
    need(dit_width(c) % c["dit_heads"] == 0, f"dit_hidden_size {dit_width(c)} must be divisible by dit_heads {c['dit_heads']}")
    need(c["dit_activation"] in ACTIVATIONS, f"dit_activation must be one of {ACTIVATIONS}, got {c['dit_activation']!r}")
    need(c["dit_layers"] >= 1 and c["fusion_layers"] >= 0, "dit_layers must be >= 1 and fusion_layers >= 0")
    need(c["train_timesteps"] >= 2, f"train_timesteps must be >= 2, got {c['train_timesteps']}")
    need(1 <= c["inference_steps"] <= c["train_timesteps"], f"inference_steps must be in [1, train_timesteps], got {c['inference_steps']}")
    need(c["beta_schedule"] in BETA_SCHEDULES, f"beta_schedule must be one of {BETA_SCHEDULES}, got {c['beta_schedule']!r}")
    need(c["guidance_scale"] >= 0, f"guidance_scale must be >= 0, got {c['guidance_scale']}")
    need(0 <= c["cond_dropout"] < 1 and 0 <= c["speed_dropout"] <= 1, "cond_dropout must be in [0,1) and speed_dropout in [0,1]")
    need(c["repeated_diffusion_steps"] >= 1, "repeated_diffusion_steps must be >= 1")
    need(c["wavelet"] == AUTHORS_HAAR or c["wavelet"] in pywt.wavelist(kind="discrete"), f"unknown wavelet {c['wavelet']!r}")
    need(c["wavelet_levels"] >= 1 and 2 ** c["wavelet_levels"] <= c["num_poses"],
         f"wavelet_levels {c['wavelet_levels']} too many for {c['num_poses']} poses")
    need(c["wavelet_weight"] >= 0, f"wavelet_weight must be >= 0, got {c['wavelet_weight']}")
