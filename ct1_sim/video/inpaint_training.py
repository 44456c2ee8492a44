"""Stage 2 of ``ct1-sim train video``: the generative inpainting denoiser, on warps made with the *true* depth.

Each example is a (source, target) frame pair of a train clip: the source frame is forward-warped with its rendered
depth (sky at ``max_depth_m``) into the target camera, so the warp's holes are exactly what the source does not show
and the target frame is the truth to generate there. Half the pairs use frame 0 as the source (inference from one
frame: large holes late in the clip), half a random earlier frame a few frames back (the autoregressive rollout warps
the frames it already generated: small holes). Half the clips are mirrored left-right. Targets are cropped to
``s.generator_crop`` (the model is fully convolutional; the Plücker rays tell it where the crop sits).

Loss: MSE on the clean frame (x-prediction, see :mod:`ct1_sim.video.inpaint_denoiser`; cosine schedule rescaled to
zero terminal SNR so training covers the pure-noise start of generation), pixels in holes weighted ``1 + HOLE_WEIGHT``.
With ``adversarial.weight > 0`` a patch discriminator also judges the clean-frame estimate's holes, composited into
the truth (:mod:`ct1_sim.video.hole_discriminator`), and trains beside the generator with its own optimiser and
checkpoints (``checkpoints/discriminator``). This stage does not wait for the depth network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import DDIMScheduler
from tqdm import tqdm

from ct1_sim.data import ClipStore
from ct1_sim.geometry import mirror_c2w
from ct1_sim.video.hole_discriminator import (
    HoleDiscriminator,
    adaptive_weight,
    composite,
    discriminator_loss,
    generator_adversarial_loss,
)
from ct1_sim.video.inpaint_denoiser import InpaintDenoiser, generation_scheduler
from ct1_sim.video.samples import refreshed_train_ids
from ct1_sim.video.warp import forward_warp

log = logging.getLogger(__name__)

#: Extra loss weight of pixels the warp has no source for.
HOLE_WEIGHT = 2.0
#: Share of pairs whose source is frame 0; the rest take a source 1..MAX_GAP frames before the target.
FRAME0_SHARE = 0.5
MAX_GAP = 4


@dataclass
class InpaintBatch:
    """``target``/``warped``: ``(B,3,h,w)`` in [-1,1]; ``mask``: ``(B,1,h,w)``; ``plucker``: ``(B,6,h/fold,w/fold)``."""

    target: torch.Tensor
    warped: torch.Tensor
    mask: torch.Tensor
    plucker: torch.Tensor


def source_target_pair(rng: np.random.Generator, num_frames: int) -> tuple[int, int]:
    """(source, target) frame indices, ``source < target`` (see the module docstring for the mix)."""
    if rng.random() < FRAME0_SHARE:
        return 0, int(rng.integers(1, num_frames))
    target = int(rng.integers(1, num_frames))
    return max(0, target - int(rng.integers(1, MAX_GAP + 1))), target


def draw_inpaint_batch(
    store: ClipStore, ids: list[str], rng: np.random.Generator, batch_size: int, crop: tuple[int, int], fold: int,
    plucker_scale_m: float, max_depth_m: float,
) -> InpaintBatch:
    """``batch_size`` true-depth warps with their targets, cropped to ``crop (w,h)`` at offsets on the ``fold`` grid."""
    from ct1_sim.video.rollout_session import relative_plucker

    cw, ch = crop
    targets, warps, masks, pluckers = [], [], [], []
    for _ in range(batch_size):
        cid = ids[int(rng.integers(len(ids)))]
        traj = store.read_trajectory(cid)
        src, tgt = source_target_pair(rng, len(traj))
        frames = store.read_frames(cid, [src, tgt])
        depth = store.read_depth(cid, [src])[0].astype(np.float32)
        rel = np.linalg.inv(traj.c2w[src]) @ traj.c2w[tgt]
        if rng.random() < 0.5:
            frames, depth, rel = frames[:, :, ::-1], depth[:, ::-1], mirror_c2w(rel[None])[0]
        h, w = depth.shape
        depth = np.where(depth <= 0, max_depth_m, np.minimum(depth, max_depth_m))
        img = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0
        K = torch.from_numpy(traj.K).float()
        warp = forward_warp(img[0], torch.from_numpy(np.ascontiguousarray(depth)), K, torch.from_numpy(np.linalg.inv(rel)[None]).float())
        plucker = relative_plucker(rel[None], traj.K, (w, h), h // fold, w // fold, plucker_scale_m)
        x = int(rng.integers(0, (w - cw) // fold + 1)) * fold
        y = int(rng.integers(0, (h - ch) // fold + 1)) * fold
        sl = (slice(None), slice(None), slice(y, y + ch), slice(x, x + cw))
        targets.append(img[1:2][sl] * 2 - 1)
        warps.append(warp.frames[sl] * 2 - 1)
        masks.append(warp.mask[sl])
        pluckers.append(plucker[:, :, y // fold : (y + ch) // fold, x // fold : (x + cw) // fold])
    return InpaintBatch(torch.cat(targets), torch.cat(warps), torch.cat(masks), torch.cat(pluckers))


def inpaint_loss(
    model: torch.nn.Module, denoiser: InpaintDenoiser, scheduler: DDIMScheduler, batch: InpaintBatch, g: torch.Generator
) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted clean-frame MSE of one batch at random timesteps; also the plain MSE in holes and in valid pixels."""
    loss, parts, _ = inpaint_loss_and_estimate(model, denoiser, scheduler, batch, g)
    return loss, parts


def inpaint_loss_and_estimate(
    model: torch.nn.Module, denoiser: InpaintDenoiser, scheduler: DDIMScheduler, batch: InpaintBatch, g: torch.Generator
) -> tuple[torch.Tensor, dict[str, float], torch.Tensor]:
    """:func:`inpaint_loss` and the clean-frame estimate ``(B,3,h,w)`` it scored (for the adversarial term)."""
    n = batch.target.shape[0]
    t = torch.randint(0, scheduler.config.num_train_timesteps, (n,), generator=g)
    noise = torch.randn(batch.target.shape, generator=g)
    noisy = scheduler.add_noise(batch.target, noise, t)
    cond = denoiser.prepare_condition(batch.warped, batch.mask, batch.plucker)
    estimate = model(noisy, t, cond)
    err = (estimate - batch.target).square().mean(dim=1, keepdim=True)  # (B,1,h,w)
    hole = 1 - batch.mask
    weight = 1 + HOLE_WEIGHT * hole
    loss = (err * weight).sum() / weight.sum()
    seen = err.detach()
    parts = {"mse_hole": float((seen * hole).sum() / hole.sum().clamp_min(1)),
             "mse_valid": float((seen * batch.mask).sum() / batch.mask.sum().clamp_min(1))}
    return loss, parts, estimate


def train_generator_stage(
    denoiser: InpaintDenoiser, store: ClipStore, train_ids: list[str], val_ids: list[str], s: Any, out: Path,
    rank: int = 0, world: int = 1, runner_factory: Any = None, max_depth_m: float = 200.0,
) -> list[dict[str, Any]]:
    """Train (or resume) the generator stage; leaves the EMA weights in ``denoiser`` and returns the history.

    ``s``: the video training settings (``s.denoise`` stage settings, ``s.generator_crop``, ``s.seed``, ``s.log_every``,
    ``s.val_every``, ``s.checkpoint_every``, ``s.ema_decay``). Validation: the same loss on fixed val batches at fixed
    timesteps, EMA weights.
    """
    scheduler = generation_scheduler()
    runner = runner_factory("generator", denoiser, s.denoise, out, s.ema_decay, rank, checkpoint_every=s.checkpoint_every)
    model = torch.nn.parallel.DistributedDataParallel(denoiser) if world > 1 else denoiser
    cfg = denoiser.config

    def draw(rng: np.random.Generator, ids: list[str], n: int) -> InpaintBatch:
        return draw_inpaint_batch(store, ids, rng, n, s.generator_crop, cfg.fold, cfg.plucker_scale_m, max_depth_m)

    val_batches = [draw(np.random.default_rng([s.seed, 9, k]), val_ids, s.denoise.batch_size) for k in range(2)] if val_ids else []
    adv = s.adversarial
    disc_runner = None
    if adv.weight > 0 and world > 1:
        raise ValueError("the adversarial fine-tune (adversarial.weight > 0) runs in one process; its discriminator is "
                         "not shared across ranks: run it without torchrun")
    if adv.weight > 0:  # the adversarial fine-tune (ct1_sim.video.hole_discriminator): its own optimiser and checkpoints
        disc = HoleDiscriminator()
        disc_runner = runner_factory("discriminator", disc, replace(s.denoise, lr=adv.lr, warmup_steps=0), out, 0.0, rank,
                                     checkpoint_every=s.checkpoint_every)
        disc.train()
    bar = tqdm(range(runner.start, s.denoise.steps), initial=runner.start, total=s.denoise.steps, desc="train video: generator",
               unit="step", disable=rank != 0)
    running: list[dict[str, float]] = []
    denoiser.train()
    for step in bar:
        rng = np.random.default_rng([s.seed, 2, step, rank])
        g = torch.Generator().manual_seed(int(rng.integers(2**62)))
        batch = draw(rng, train_ids, s.denoise.batch_size)
        loss, parts, estimate = inpaint_loss_and_estimate(model, denoiser, scheduler, batch, g)
        if disc_runner is not None:
            fake = composite(estimate, batch.target, batch.mask)
            if step >= adv.start_step:  # the discriminator trains alone first
                g_adv = generator_adversarial_loss(disc_runner.module, fake, batch.mask)
                weight = adaptive_weight(loss, g_adv, denoiser.unet.conv_out.weight, adv.weight)
                parts.update(g_adv=float(g_adv.detach()), adv_weight=float(weight))
                loss = loss + weight * g_adv
        runner.step(step, loss)
        if disc_runner is not None:
            d_loss, d_parts = discriminator_loss(disc_runner.module, batch.target, fake.detach(), batch.mask)
            disc_runner.step(step, d_loss)
            parts.update(d_loss=float(d_loss.detach()), **d_parts)
        running.append({"loss": float(loss.detach()), **parts})
        done = step + 1
        if done % s.log_every == 0 and rank == 0:
            mean = {k: float(np.mean([r[k] for r in running if k in r])) for k in running[-1]}
            bar.set_postfix(hole=f"{mean['mse_hole']:.3f}", valid=f"{mean['mse_valid']:.3f}")
            runner.history.append({"step": done, **mean})
            running = []
        if rank == 0 and val_batches and (done % s.val_every == 0 or done == s.denoise.steps):
            with runner.ema_weights(), torch.no_grad():
                denoiser.eval()
                vals = [inpaint_loss(denoiser, denoiser, scheduler, b, torch.Generator().manual_seed(k))[1] for k, b in enumerate(val_batches)]
            denoiser.train()
            scores = {k: float(np.mean([v[k] for v in vals])) for k in vals[0]}
            runner.history.append({"step": done, "val": scores})
            log.info("generator step %d validation MSE: holes %.4f, valid %.4f", done, scores["mse_hole"], scores["mse_valid"])
        runner.save_if_due(done)
        if disc_runner is not None:
            disc_runner.save_if_due(done)
        train_ids = refreshed_train_ids(store, train_ids, s.refresh_train_ids_every, done)
    runner.load_ema()
    denoiser.eval()
    return runner.history
