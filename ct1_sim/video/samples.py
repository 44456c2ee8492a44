"""Depth training examples drawn from a clip store: cropped frames with their rendered depth and intrinsics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ct1_sim.data import ClipStore


@dataclass
class DepthFrames:
    """A batch of ``B`` frames with their rendered depth, cropped: ``rgb (B,3,h,w)`` in [0,1], ``depth (B,h,w)`` (m along
    the optical axis, 0 = sky) and per-item pixel intrinsics ``K (B,3,3)`` of the crop."""

    rgb: torch.Tensor
    depth: torch.Tensor
    K: torch.Tensor


def draw_depth_frames(
    store: ClipStore, ids: list[str], rng: np.random.Generator, batch_size: int, crop: tuple[int, int], flip: bool = True
) -> DepthFrames:
    """``batch_size`` random frames (any frame of a random clip) cropped to ``crop (w,h)`` px at a random place, half of
    them mirrored left-right. The crop keeps the pixel scale, so intrinsics shift by the crop's offset (and mirror
    about the image centre, as the scenario cameras have the principal point there)."""
    cw, ch = crop
    rgbs, depths, Ks = [], [], []
    for _ in range(batch_size):
        cid = ids[int(rng.integers(len(ids)))]
        traj = store.read_trajectory(cid)
        j = int(rng.integers(len(traj)))
        frame = store.read_frames(cid, [j])[0]
        depth = store.read_depth(cid, [j])[0].astype(np.float32)
        h, w = depth.shape
        if cw > w or ch > h:
            raise ValueError(f"crop {cw}x{ch} is larger than the store's frames {w}x{h}")
        K = traj.K.astype(np.float64).copy()
        if flip and rng.random() < 0.5:
            frame, depth = frame[:, ::-1], depth[:, ::-1]
            K[0, 2] = w - K[0, 2]
        x0, y0 = int(rng.integers(w - cw + 1)), int(rng.integers(h - ch + 1))
        K[0, 2] -= x0
        K[1, 2] -= y0
        rgbs.append(frame[y0 : y0 + ch, x0 : x0 + cw])
        depths.append(depth[y0 : y0 + ch, x0 : x0 + cw])
        Ks.append(K)
    rgb = torch.from_numpy(np.ascontiguousarray(np.stack(rgbs))).permute(0, 3, 1, 2).float() / 255.0
    return DepthFrames(rgb, torch.from_numpy(np.ascontiguousarray(np.stack(depths))), torch.from_numpy(np.stack(Ks)).float())


def refreshed_train_ids(store: ClipStore, ids: list[str], every: int, done: int) -> list[str]:
    """The store's train clips re-listed every ``every`` steps (0: never), for a store still being rendered: a run
    then trains on what has landed; ``ids`` otherwise."""
    return store.split_ids("train") if every and done % every == 0 else ids
