"""A patch discriminator for the generator's new content, and the hinge losses of its adversarial fine-tune.

Trained with clean-frame MSE alone, the generator fills a large hole (the side street of a turn) with its
conditional mean: a grey, cloudy blur. Frames whose regions frame 0 does not show are replaced by the truth score
KID-MobileNetV2 x1000 ~90 instead of the pipeline's ~162 on 12 test clips, so that content is where the realism goes.
Adversarial Diffusion Distillation (Sauer et al., 2023) makes a few-step diffusion model's clean-frame estimates sharp
by adding an adversarial loss on them at every timestep it samples; this does the same for the holes.

The discriminator sees a frame and the warp's validity mask (full resolution, [-1,1] pixels): the truth, or the
truth with its holes replaced by the generator's estimate (as known-region replacement leaves them at inference),
and scores 8x8-pixel-stride patches (PatchGAN, spectral-normalised convolutions). Only patches that hold hole pixels
count, weighted by their hole share: elsewhere real and generated frames are the same pixels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

#: Pixels per discriminator output patch along each side (three stride-2 convolutions).
PATCH_STRIDE = 8


class HoleDiscriminator(nn.Module):
    """``(N,3,H,W)`` frame + ``(N,1,H,W)`` mask -> ``(N,1,H/8,W/8)`` realness logits (H, W multiples of 8)."""

    def __init__(self, channels: tuple[int, ...] = (32, 64, 128, 128)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 4
        for i, c in enumerate(channels):
            layers += [spectral_norm(nn.Conv2d(c_in, c, 4 if i < 3 else 3, stride=2 if i < 3 else 1, padding=1)), nn.LeakyReLU(0.2)]
            c_in = c
        layers.append(spectral_norm(nn.Conv2d(c_in, 1, 3, padding=1)))
        self.net = nn.Sequential(*layers)

    def forward(self, frame: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([frame, mask * 2 - 1], dim=1))


def hole_patch_weights(mask: torch.Tensor) -> torch.Tensor:
    """Share of hole pixels in each discriminator patch, ``(N,1,H/8,W/8)``, for a validity ``mask (N,1,H,W)``."""
    return F.avg_pool2d(1 - mask, PATCH_STRIDE)


def composite(estimate: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The frame the discriminator judges: ``estimate`` in the holes, ``target`` where the warp is valid."""
    return mask * target + (1 - mask) * estimate


def _weighted_mean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return (values * weights).sum() / weights.sum().clamp_min(1e-6)


def discriminator_loss(disc: HoleDiscriminator, real: torch.Tensor, fake: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Hinge loss of the discriminator over the hole patches (``fake`` detached by the caller); also the mean
    logits on real and generated patches."""
    w = hole_patch_weights(mask)
    real_logits, fake_logits = disc(real, mask), disc(fake, mask)
    loss = _weighted_mean(F.relu(1 - real_logits), w) + _weighted_mean(F.relu(1 + fake_logits), w)
    return loss, {"d_real": float(_weighted_mean(real_logits.detach(), w)), "d_fake": float(_weighted_mean(fake_logits.detach(), w))}


def generator_adversarial_loss(disc: HoleDiscriminator, fake: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The generator's hinge loss: minus the discriminator's mean logit over the hole patches."""
    return -_weighted_mean(disc(fake, mask), hole_patch_weights(mask))


def adaptive_weight(reconstruction: torch.Tensor, adversarial: torch.Tensor, last_layer: torch.Tensor, scale: float,
                    max_weight: float = 1e4) -> torch.Tensor:
    """VQGAN's balance of the two losses (Esser et al., 2021): ``scale`` x the ratio of their gradient norms at the
    generator's ``last_layer`` weight, so the adversarial term moves the output as much as the reconstruction does
    whatever their magnitudes (detached, clamped to ``max_weight``)."""
    g_rec = torch.autograd.grad(reconstruction, last_layer, retain_graph=True)[0]
    g_adv = torch.autograd.grad(adversarial, last_layer, retain_graph=True)[0]
    return (scale * g_rec.norm() / (g_adv.norm() + 1e-4)).clamp(0.0, max_weight).detach()
