"""A small monocular depth network for driving frames, with the ground-plane prior as an extra input.

Input: RGB in [0,1] ``(B,3,H,W)`` plus pixel intrinsics; the network runs at ``work_size`` and predicts log depth as a
residual over the log of the ground-plane prior (camera ``camera_height_m`` above flat ground, pitched down by
``camera_pitch_deg``), so on an empty road
it only has to learn to keep the prior. Output: depth ``(B,H,W)`` in metres along the optical axis, clamped to
``[min_depth_m, max_depth_m]`` (sky and far objects get ``max_depth_m``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from ct1_sim.video.ground_prior import ground_plane_depth


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    groups = min(8, cout // 4)
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.GroupNorm(groups, cout), nn.SiLU(),
        nn.Conv2d(cout, cout, 3, padding=1), nn.GroupNorm(groups, cout), nn.SiLU(),
    )


class DepthNet(ModelMixin, ConfigMixin):
    """U-shaped conv net: RGB + log ground prior -> log-depth residual (see module docstring)."""

    @register_to_config
    def __init__(
        self,
        channels: tuple[int, ...] = (24, 48, 96, 128),
        work_size: tuple[int, int] = (224, 128),
        camera_height_m: float = 1.5,
        camera_pitch_deg: float = 2.0,
        min_depth_m: float = 0.5,
        max_depth_m: float = 200.0,
    ) -> None:
        super().__init__()
        self.stem = _block(4, channels[0], 1)
        self.down = nn.ModuleList(_block(a, b, 2) for a, b in zip(channels[:-1], channels[1:], strict=False))
        self.up = nn.ModuleList(_block(b + a, a, 1) for a, b in zip(channels[:-1], channels[1:], strict=False))
        self.head = nn.Conv2d(channels[0], 1, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def log_prior(self, K: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """log of the ground-plane prior ``(H,W)`` at ``size (W,H)`` for ``K`` given at that size."""
        w, h = size
        cfg = self.config
        prior = ground_plane_depth(K.to(torch.float32), h, w, cfg.camera_height_m, cfg.max_depth_m, cfg.camera_pitch_deg)
        prior = prior.clamp_min(cfg.min_depth_m)
        return prior.log()

    def forward(self, rgb: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        """Depth ``(B,H,W)`` (m) for ``rgb (B,3,H,W)`` in [0,1] whose pixel intrinsics are ``K (3,3)``."""
        cfg = self.config
        b, _, h, w = rgb.shape
        ww, wh = cfg.work_size
        Kw = K.to(torch.float32).clone()
        Kw[0] *= ww / w
        Kw[1] *= wh / h
        Kw[2, 2] = 1.0
        x = F.interpolate(rgb.float(), size=(wh, ww), mode="bilinear", align_corners=False, antialias=True)
        log_prior = self.log_prior(Kw, (ww, wh)).to(x)
        x = torch.cat([x * 2 - 1, (log_prior / math.log(cfg.max_depth_m)).expand(b, 1, wh, ww)], dim=1)
        skips = [self.stem(x)]
        for down in self.down:
            skips.append(down(skips[-1]))
        y = skips.pop()
        for up in reversed(self.up):
            skip = skips.pop()
            y = up(torch.cat([F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False), skip], dim=1))
        log_depth = log_prior + self.head(y)[:, 0]  # (B,wh,ww)
        log_depth = F.interpolate(log_depth[:, None], size=(h, w), mode="bilinear", align_corners=False)[:, 0]
        return log_depth.exp().clamp(cfg.min_depth_m, cfg.max_depth_m)


def depth_target(depth_m: torch.Tensor, max_depth_m: float) -> torch.Tensor:
    """Rendered depth as a training target: sky (0) and anything farther becomes ``max_depth_m``."""
    return torch.where(depth_m <= 0, torch.full_like(depth_m, max_depth_m), depth_m).clamp(max=max_depth_m)
