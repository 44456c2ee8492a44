"""A CameraCtrl-style pose encoder: per-frame Plücker embeddings -> one feature map per UNet down-block level.

The ``(B*F,6,H,W)`` Plücker maps are folded to the latent resolution by pixel-unshuffle (``downscale`` = the VAE's
scale factor), then a small conv stack per level produces ``(B*F,C_i,h_i,w_i)`` features matching the channels and
sizes of a diffusers video UNet's down blocks. :func:`inject_pose_features` adds them to the output of each down
block's first resnet through forward hooks, so any ``UNetSpatioTemporalConditionModel`` (e.g. a Stable Video
Diffusion checkpoint) is camera-conditioned without editing its code. Output convs start at zero: a fresh encoder
leaves a pretrained UNet unchanged until it is trained.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn


class PluckerPoseEncoder(ModelMixin, ConfigMixin):
    """Plücker ``(N,6,H,W)`` -> ``[(N,C_i,H/(downscale*2^i),W/(downscale*2^i))]`` for each ``C_i`` in ``block_out_channels``."""

    @register_to_config
    def __init__(self, block_out_channels: Sequence[int] = (320, 640, 1280, 1280), downscale: int = 8, hidden: int = 64) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(6 * downscale * downscale, hidden, 3, padding=1), nn.SiLU(),
                                  nn.Conv2d(hidden, hidden, 3, padding=1), nn.SiLU())
        self.levels = nn.ModuleList()
        self.outs = nn.ModuleList()
        for i, channels in enumerate(block_out_channels):
            self.levels.append(nn.Sequential(nn.Conv2d(hidden, hidden, 3, stride=1 if i == 0 else 2, padding=1), nn.SiLU()))
            out = nn.Conv2d(hidden, channels, 1)
            nn.init.zeros_(out.weight)
            nn.init.zeros_(out.bias)
            self.outs.append(out)

    def forward(self, plucker: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(F.pixel_unshuffle(plucker, self.config.downscale))  # (N,hidden,H/d,W/d)
        features = []
        for level, out in zip(self.levels, self.outs, strict=True):
            x = level(x)
            features.append(out(x))
        return features


@contextmanager
def inject_pose_features(unet: nn.Module, features: list[torch.Tensor]) -> Iterator[None]:
    """While active, add ``features[i]`` to the output of ``unet.down_blocks[i].resnets[0]``.

    A call whose batch is a multiple of the features' (classifier-free guidance doubles it) gets them repeated.
    """
    handles = []
    if len(features) != len(unet.down_blocks):
        raise ValueError(f"pose encoder gives {len(features)} levels but the UNet has {len(unet.down_blocks)} down blocks")

    def hook_for(feat: torch.Tensor):
        def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> torch.Tensor:
            if output.shape[1:] != feat.shape[1:]:
                raise ValueError(f"pose features {tuple(feat.shape)} do not fit the UNet block output {tuple(output.shape)}")
            reps = output.shape[0] // feat.shape[0]
            return output + feat.to(output).repeat(reps, 1, 1, 1)

        return hook

    try:
        for block, feat in zip(unet.down_blocks, features, strict=True):
            handles.append(block.resnets[0].register_forward_hook(hook_for(feat)))
        yield
    finally:
        for handle in handles:
            handle.remove()
