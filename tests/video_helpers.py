"""Tiny video pipelines and rendered clips for video tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ct1_sim.clip_spec import CLIP_SPEC, ClipSpec
from ct1_sim.data import Clip, ClipStore
from ct1_sim.data.scenarios.generate import make_clip
from ct1_sim.data.scenarios.renderer import SceneRenderer
from ct1_sim.video import InpaintDenoiser, MobileNetDepth, build_pipeline


def tiny_pipeline(seed: int = 0, perturb: bool = True):
    """A randomly initialised pipeline with small components (seeded), like diffusers' dummy components.

    ``perturb=False`` keeps the denoiser's zero-initialised output layer: it then returns the push-pull fill."""
    torch.manual_seed(seed)
    depth = MobileNetDepth(decoder_channels=(16, 16, 8, 8))
    denoiser = InpaintDenoiser(block_out_channels=(16, 32), attention_head_dim=8, embed_channels=16)
    for p in denoiser.parameters() if perturb else []:  # a zero output layer would make every hole the same fill
        if not p.abs().sum():
            torch.nn.init.normal_(p, std=0.05)
    pipe = build_pipeline(depth, denoiser)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def render_clips(path: Path, families: list[tuple[str, str]], split: str = "train", spec: ClipSpec = CLIP_SPEC) -> ClipStore:
    """A store with one rendered clip per ``(spec_name, family)``, all in ``split``."""
    store = ClipStore.create(path)
    renderer = SceneRenderer(spec.width, spec.height)
    for i, (name, family) in enumerate(families):
        clip: Clip = make_clip(renderer, name, family, {}, split, i, clip_spec=spec)
        store.append(clip)
    return store


def frames_u8(video: torch.Tensor | np.ndarray) -> np.ndarray:
    """``(T,H,W,3)`` uint8 from a ``(1,T,H,W,3)`` float video in [0,1]."""
    return (np.clip(np.asarray(video)[0], 0, 1) * 255).round().astype(np.uint8)


def read_video(path: Path) -> list[np.ndarray]:
    """Decoded RGB frames of a video file (OpenCV's FFmpeg backend)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame[:, :, ::-1])
    cap.release()
    return frames
