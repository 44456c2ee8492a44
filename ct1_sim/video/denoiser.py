"""The conditional denoiser: a small diffusers ``UNet2DModel`` that turns a warped frame into a finished one.

Per target frame it sees the noisy sample ``x_t``, the forward-warped current frame, the warp's validity mask (all at
full resolution, folded ``fold`` x ``fold`` into channels by pixel-unshuffle) and the target camera's Plücker
embedding relative to the current camera (at 1/``fold`` resolution, translations divided by ``plucker_scale_m``). It predicts the clean frame (``prediction_type="sample"``) as a residual
over the hole-filled warp, so where the warp is valid it only has to keep it, and it spends its capacity on
disocclusions and new content at the horizon.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers import UNet2DModel
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

#: Channels per frame at full resolution: noisy sample (3), hole-filled warp (3), validity mask (1).
FULL_RES_CHANNELS = 7
PLUCKER_CHANNELS = 6


def fill_holes(warped: torch.Tensor, mask: torch.Tensor, levels: int = 6) -> torch.Tensor:
    """Fill pixels where ``mask`` is 0 with a pyramid average of valid neighbours (push-pull), ``(N,3,H,W)``."""
    filled, weight = warped * mask, mask
    pyramid = [(filled, weight)]
    for _ in range(levels):
        filled = F.avg_pool2d(filled, 2, ceil_mode=True)
        weight = F.avg_pool2d(weight, 2, ceil_mode=True)
        pyramid.append((filled, weight))
    out = pyramid[-1][0] / pyramid[-1][1].clamp_min(1e-6)
    for filled, weight in reversed(pyramid[:-1]):
        up = F.interpolate(out, size=filled.shape[-2:], mode="bilinear", align_corners=False)
        out = torch.where(weight > 1e-6, filled / weight.clamp_min(1e-6), up)
        out = out * (weight > 0.999) + (filled + (1 - weight) * up) * (weight <= 0.999)
    return out


class WarpDenoiser(ModelMixin, ConfigMixin):
    """``x0_hat = fill_holes(warped) + unet(...)`` with pixel-unshuffle in and pixel-shuffle out."""

    @register_to_config
    def __init__(
        self,
        block_out_channels: tuple[int, ...] = (32, 48, 96),
        layers_per_block: int = 1,
        attention_head_dim: int = 32,
        fold: int = 4,
        plucker_scale_m: float = 10.0,
    ) -> None:
        super().__init__()
        n = len(block_out_channels)
        self.unet = UNet2DModel(
            in_channels=FULL_RES_CHANNELS * fold * fold + PLUCKER_CHANNELS,
            out_channels=3 * fold * fold,
            block_out_channels=tuple(block_out_channels),
            layers_per_block=layers_per_block,
            down_block_types=("DownBlock2D",) * n,
            up_block_types=("UpBlock2D",) * n,
            attention_head_dim=attention_head_dim,
            norm_num_groups=16,
            add_attention=True,
        )
        last = self.unet.conv_out
        torch.nn.init.zeros_(last.weight)
        torch.nn.init.zeros_(last.bias)

    def prepare_condition(
        self, warped: torch.Tensor, mask: torch.Tensor, plucker: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(condition, base)`` computed once per video and reused at every denoising step.

        ``warped``: ``(N,3,H,W)`` in [-1,1]; ``mask``: ``(N,1,H,W)``; ``plucker``: ``(N,6,H/fold,W/fold)``.
        ``base`` is the hole-filled warp ``(N,3,H,W)``; ``condition`` the folded channels ``(N,22+6,H/fold,W/fold)``.
        """
        fold = self.config.fold
        base = fill_holes(warped, mask)
        folded = F.pixel_unshuffle(torch.cat([base, mask * 2 - 1], dim=1), fold)  # (N,4*fold^2,H/fold,W/fold)
        return torch.cat([folded, plucker.to(folded)], dim=1), base

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, condition: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
        """Clean-frame estimate ``(N,3,H,W)`` in [-1,1] from the noisy ``sample (N,3,H,W)`` at ``timestep (N,)``.

        H and W must be multiples of ``fold * 2 ** (len(block_out_channels) - 1)``.
        """
        fold = self.config.fold
        x = torch.cat([F.pixel_unshuffle(sample, fold), condition.to(sample)], dim=1)
        residual = F.pixel_shuffle(self.unet(x, timestep).sample, fold)  # (N,3,H,W)
        return base + residual
