"""The generative denoiser: a diffusers ``UNet2DModel`` that generates what the warp does not show.

Per target frame it sees the noisy sample ``x_t``, the warped render with its holes zeroed, the validity mask and a
push-pull fill of the holes (a colour hint), all at full resolution folded ``fold`` x ``fold`` into channels
(pixel-unshuffle and a linear patch embedding, as DiT's patchify: the U-Net runs at 1/``fold`` of the frame, a
space-to-depth "latent" that costs nothing to encode or decode), plus the target camera's Plücker embedding relative
to the source camera (at 1/``fold``, translations divided by ``plucker_scale_m``). It predicts the clean frame
(``prediction_type="sample"``) as a residual over the fill: with 8x8 patches a patch holds 192 values, more than the
network is wide, and a network that must output the noise (eps or v) cannot carry it through — it is what JiT
("Back to Basics: Let Denoising Generative Models Denoise", 2025) shows for large pixel patches; predicting the clean
image needs no such capacity. Generation starts from pure noise and keeps the warp's valid pixels by known-region
replacement at every step (RePaint), so the holes are generated and valid pixels stay the warp's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, UNet2DModel
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

from ct1_sim.video.hole_fill import fill_holes

#: Channels per frame at full resolution: noisy sample (3), warp with holes zeroed (3), mask (1), push-pull fill (3).
FULL_RES_CHANNELS = 10
PLUCKER_CHANNELS = 6


class InpaintDenoiser(ModelMixin, ConfigMixin):
    """``x0_hat = fill + unshuffle^-1(unet(embed(unshuffle([x_t, warp * mask, mask, fill])), plucker, t))``
    (see the module docstring)."""

    @register_to_config
    def __init__(
        self,
        block_out_channels: tuple[int, ...] = (64, 128, 192),
        layers_per_block: int = 1,
        attention_head_dim: int = 32,
        fold: int = 8,
        embed_channels: int = 64,
        plucker_scale_m: float = 10.0,
    ) -> None:
        super().__init__()
        n = len(block_out_channels)
        # a linear patch embedding of the folded pixels (a 1x1 conv on fold x fold patches), as DiT's patchify
        self.embed = torch.nn.Conv2d(FULL_RES_CHANNELS * fold * fold, embed_channels, 1)
        self.unet = UNet2DModel(
            in_channels=embed_channels + PLUCKER_CHANNELS,
            out_channels=3 * fold * fold,
            block_out_channels=tuple(block_out_channels),
            layers_per_block=layers_per_block,
            down_block_types=("DownBlock2D",) * (n - 1) + ("AttnDownBlock2D",),
            up_block_types=("AttnUpBlock2D",) + ("UpBlock2D",) * (n - 1),
            attention_head_dim=attention_head_dim,
            norm_num_groups=16,
            add_attention=True,
        )
        torch.nn.init.zeros_(self.unet.conv_out.weight)  # an untrained model returns the fill
        torch.nn.init.zeros_(self.unet.conv_out.bias)

    @property
    def size_multiple(self) -> int:
        """Frame sides must be multiples of this (px)."""
        return self.config.fold * 2 ** (len(self.config.block_out_channels) - 1)

    def prepare_condition(self, warped: torch.Tensor, mask: torch.Tensor, plucker: torch.Tensor) -> torch.Tensor:
        """The folded condition, computed once per frame and reused at every step.

        ``warped``: ``(N,3,H,W)`` in [-1,1] (values under ``mask == 0`` are ignored); ``mask``: ``(N,1,H,W)`` in {0,1};
        ``plucker``: ``(N,6,H/fold,W/fold)``.
        """
        fold = self.config.fold
        mask = mask.to(warped)
        fill = fill_holes(warped * mask, mask)
        folded = F.pixel_unshuffle(torch.cat([warped * mask, mask * 2 - 1, fill], dim=1), fold)
        return torch.cat([folded, plucker.to(folded)], dim=1)  # (N, 7*fold^2 + 6, H/fold, W/fold)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """Clean-frame estimate ``(N,3,H,W)`` in [-1,1] for the noisy ``sample (N,3,H,W)`` at ``timestep (N,)``."""
        fold = self.config.fold
        condition = condition.to(sample)
        pixels, plucker = condition[:, :-PLUCKER_CHANNELS], condition[:, -PLUCKER_CHANNELS:]
        x = self.embed(torch.cat([F.pixel_unshuffle(sample, fold), pixels], dim=1))
        fill = F.pixel_shuffle(pixels[:, 4 * fold * fold : 7 * fold * fold], fold)  # the fill's channels of the condition
        return fill + F.pixel_shuffle(self.unet(torch.cat([x, plucker], dim=1), timestep).sample, fold)


def generation_scheduler(num_train_timesteps: int = 1000) -> DDIMScheduler:
    """The generator's noise schedule: DDIM, cosine, clean-frame prediction, zero terminal SNR, trailing timesteps."""
    return DDIMScheduler(num_train_timesteps=num_train_timesteps, beta_schedule="squaredcos_cap_v2", prediction_type="sample",
                         rescale_betas_zero_snr=True, timestep_spacing="trailing", clip_sample=False)
