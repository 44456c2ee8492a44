"""Training examples for the video model drawn from a clip store: (current frame, future frame, relative pose, depth)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ct1_sim.data import ClipStore
from ct1_sim.geometry import mirror_c2w

@dataclass
class FramePairs:
    """A batch of ``B`` examples at the store's resolution.

    ``current``/``future``: ``(B,3,H,W)`` float in [0,1]; ``depth``: ``(B,H,W)`` rendered depth of the current frame
    (m, 0 = sky); ``c2w_rel``: ``(B,4,4)`` the future camera relative to the current one; ``K``: ``(3,3)`` pixel
    intrinsics (shared by the store's clips); ``clip_index``: ``(B,)`` which draw each item came from (items of one
    draw share their current frame).
    """

    current: torch.Tensor
    future: torch.Tensor
    depth: torch.Tensor
    c2w_rel: np.ndarray
    K: np.ndarray
    clip_index: np.ndarray


def draw_pairs(
    store: ClipStore, ids: list[str], rng: np.random.Generator, batch_size: int, futures_per_clip: int = 1, flip: bool = True
) -> FramePairs:
    """``batch_size`` random (clip, future frame) pairs, ``futures_per_clip`` distinct future frames per drawn clip
    (consecutive items share a current frame); with ``flip`` half the clips are mirrored left-right (poses too).

    Mirroring assumes the principal point is at the image centre (true of the scenario renderer's cameras).
    """
    cur, fut, dep, rel, owner, K = [], [], [], [], [], None
    draw = 0
    while len(cur) < batch_size:
        cid = ids[int(rng.integers(len(ids)))]
        traj = store.read_trajectory(cid)
        count = min(futures_per_clip, batch_size - len(cur), len(traj) - 1)
        picks = sorted(int(j) for j in rng.choice(np.arange(1, len(traj)), size=count, replace=False))
        frames = store.read_frames(cid, [0, *picks])
        depth = store.read_depth(cid, [0])[0].astype(np.float32)
        c2w = np.linalg.inv(traj.c2w[0]) @ traj.c2w[picks]
        if flip and rng.random() < 0.5:
            frames, depth = frames[:, :, ::-1], depth[:, ::-1]
            c2w = mirror_c2w(c2w)
        K = traj.K if K is None else K
        for k in range(len(picks)):
            cur.append(frames[0])
            fut.append(frames[k + 1])
            dep.append(depth)
            rel.append(c2w[k])
            owner.append(draw)
        draw += 1
    to_t = lambda x: torch.from_numpy(np.ascontiguousarray(np.stack(x))).permute(0, 3, 1, 2).float() / 255.0  # noqa: E731
    return FramePairs(to_t(cur), to_t(fut), torch.from_numpy(np.ascontiguousarray(np.stack(dep))), np.stack(rel), np.asarray(K),
                      np.asarray(owner))
