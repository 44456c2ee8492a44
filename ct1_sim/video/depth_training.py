"""Stage 1 of ``ct1-sim train video``: fit the depth network to the renderer's depth, resumably.

Batches are random frames of the train clips (any of a clip's frames; all have rendered depth), cropped at full pixel
scale and mirrored half the time (:func:`ct1_sim.video.samples.draw_depth_frames`). Loss: L1 on log depth over
surface pixels + a sky BCE (:func:`ct1_sim.video.depth_mobilenet.depth_loss`). The encoder starts from ImageNet
MobileNetV2 with its BatchNorm statistics frozen (batches of 8 are too small to re-estimate them) and a lower learning
rate than the decoder. Every ``val_every`` steps the EMA weights are scored on whole val frames (AbsRel, delta<1.25).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from ct1_sim.data import ClipStore
from ct1_sim.video.depth_mobilenet import MobileNetDepth, depth_loss, object_pixels
from ct1_sim.video.samples import draw_depth_frames, refreshed_train_ids

log = logging.getLogger(__name__)

#: Encoder learning rate as a fraction of the decoder's.
ENCODER_LR_SCALE = 0.3


def freeze_batch_norm(module: torch.nn.Module) -> None:
    """Put every BatchNorm of ``module`` in eval mode (running statistics kept as they are)."""
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()


@torch.no_grad()
def depth_scores(depth_net: torch.nn.Module, store: ClipStore, ids: list[str], frames: tuple[int, ...] = (0,)) -> dict[str, float]:
    """Depth network on whole frames of ``ids`` vs the rendered depth, surface pixels only (sky and anything beyond
    ``max_depth_m`` excluded): AbsRel, RMSE (m), share with max(pred/true, true/pred) < 1.25, and sky accuracy;
    ``abs_rel_objects``: AbsRel over the object pixels alone (:func:`~ct1_sim.video.depth_mobilenet.object_pixels`)."""
    max_d = depth_net.config.max_depth_m
    rel = sq = good = n = 0.0
    obj_rel = obj_n = 0.0
    sky_right = sky_n = 0.0
    for cid in ids:
        K = torch.from_numpy(store.read_trajectory(cid).K).float()
        for j in frames:
            frame = store.read_frames(cid, [j])[0]
            truth = torch.from_numpy(store.read_depth(cid, [j])[0].astype(np.float32))
            pred = depth_net(torch.from_numpy(frame.copy()).permute(2, 0, 1)[None].float() / 255.0, K)[0]
            valid = (truth > 0) & (truth < max_d)
            p, t = pred[valid], truth[valid]
            rel += float((torch.abs(p - t) / t).sum())
            sq += float(((p - t) ** 2).sum())
            good += float((torch.maximum(p / t, t / p) < 1.25).sum())
            n += int(valid.sum())
            prior = depth_net.log_prior(K, truth.shape[0], truth.shape[1]).exp()[0, 0]
            objects = object_pixels(truth, prior) & valid
            obj_rel += float((torch.abs(pred[objects] - truth[objects]) / truth[objects]).sum())
            obj_n += int(objects.sum())
            sky_right += float(((pred >= max_d) == (truth <= 0)).sum())
            sky_n += truth.numel()
    return {"abs_rel": rel / max(n, 1), "rmse_m": (sq / max(n, 1)) ** 0.5, "delta_1.25": good / max(n, 1),
            "sky_accuracy": sky_right / max(sky_n, 1), "abs_rel_objects": obj_rel / max(obj_n, 1)}


def train_depth_stage(
    depth_net: MobileNetDepth, store: ClipStore, train_ids: list[str], val_ids: list[str], s: Any, out: Path,
    rank: int = 0, world: int = 1, runner_factory: Any = None,
) -> list[dict[str, Any]]:
    """Train (or resume) the depth stage; leaves the EMA weights in ``depth_net`` and returns the history.

    ``s``: the video training settings (``s.depth`` stage settings, ``s.depth_crop`` (w,h), ``s.seed``, ``s.log_every``,
    ``s.checkpoint_every``, ``s.depth_val_every``, ``s.ema_decay``). ``runner_factory(name, module, stage, out,
    ema_decay, rank, param_groups)`` builds the optimiser/EMA/checkpoint runner.
    """
    if not getattr(s, "init_from", None):
        depth_net.load_imagenet_encoder()  # a resumed run's checkpoint overwrites it below
    groups = [{"params": list(depth_net.encoder.parameters()), "lr_scale": ENCODER_LR_SCALE},
              {"params": [p for n, p in depth_net.named_parameters() if not n.startswith("encoder.")], "lr_scale": 1.0}]
    runner = runner_factory("depth", depth_net, s.depth, out, s.ema_decay, rank, groups, checkpoint_every=s.checkpoint_every)
    model = torch.nn.parallel.DistributedDataParallel(depth_net) if world > 1 else depth_net
    max_d = depth_net.config.max_depth_m
    bar = tqdm(range(runner.start, s.depth.steps), initial=runner.start, total=s.depth.steps, desc="train video: depth",
               unit="step", disable=rank != 0)
    running: list[float] = []
    depth_net.train()
    freeze_batch_norm(depth_net.encoder)
    for step in bar:
        rng = np.random.default_rng([s.seed, 1, step, rank])
        batch = draw_depth_frames(store, train_ids, rng, s.depth.batch_size, s.depth_crop)
        prior = depth_net.log_prior(batch.K, batch.depth.shape[-2], batch.depth.shape[-1]).exp()[:, 0]
        loss, parts = depth_loss(model(batch.rgb, batch.K, return_all=True), batch.depth, max_d, prior_m=prior,
                                 object_weight=s.depth_object_weight, gradient_weight=s.depth_gradient_weight)
        runner.step(step, loss)
        running.append(parts["l1_log"])
        done = step + 1
        if done % s.log_every == 0 and rank == 0:
            bar.set_postfix(l1_log=f"{np.mean(running):.3f}")
            runner.history.append({"step": done, "l1_log_depth": float(np.mean(running)), **{k: v for k, v in parts.items() if k != "l1_log"}})
            running = []
        if rank == 0 and val_ids and (done % s.depth_val_every == 0 or done == s.depth.steps):
            with runner.ema_weights():
                depth_net.eval()
                scores = depth_scores(depth_net, store, val_ids)
            depth_net.train()
            freeze_batch_norm(depth_net.encoder)
            runner.history.append({"step": done, "val": scores})
            log.info("depth step %d validation: AbsRel %.3f (objects %.3f), delta<1.25 %.1f %%, sky acc %.1f %%", done,
                     scores["abs_rel"], scores["abs_rel_objects"],
                     100 * scores["delta_1.25"], 100 * scores["sky_accuracy"])
        runner.save_if_due(done)
        train_ids = refreshed_train_ids(store, train_ids, s.refresh_train_ids_every, done)
    runner.load_ema()
    depth_net.eval()
    return runner.history
