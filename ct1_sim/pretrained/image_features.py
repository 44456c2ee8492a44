"""Pooled ImageNet MobileNetV2 features of frames, the embedding behind the KID-MobileNetV2 metric."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ct1_sim.pretrained.mobilenet_v2 import (
    FEATURE_CHANNELS,
    IMAGENET_MEAN,
    IMAGENET_STD,
    fold_batch_norms,
    load_pretrained_mobilenet_v2,
)

#: Frames are resized to this (W, H) before the network (the scenario frames' aspect at ImageNet-like scale).
FEATURE_INPUT_SIZE = (384, 224)


class ImageFeatures:
    """``features(frames)``: ``(N,1280)`` global-average-pooled MobileNetV2 features of uint8 frames ``(N,H,W,3)``."""

    def __init__(self, batch_size: int = 16) -> None:
        self.net = fold_batch_norms(load_pretrained_mobilenet_v2()).eval()
        self.batch_size = batch_size
        self.mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)

    @torch.no_grad()
    def __call__(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"frames must be (N,H,W,3) uint8, got {frames.shape} {frames.dtype}")
        out = np.zeros((len(frames), FEATURE_CHANNELS), np.float32)
        w, h = FEATURE_INPUT_SIZE
        for i in range(0, len(frames), self.batch_size):
            x = torch.from_numpy(np.ascontiguousarray(frames[i : i + self.batch_size])).permute(0, 3, 1, 2).float() / 255.0
            x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
            out[i : i + len(x)] = self.net((x - self.mean) / self.std).mean(dim=(2, 3)).numpy()
        return out
