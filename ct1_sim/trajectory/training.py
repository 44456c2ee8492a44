"""``ct1-sim train trajectory``: resumable, seeded training of the CT-1 trajectory model on a clip store.

Frozen backbones encode each training clip's conditioning frame once per augmentation variant
(:mod:`ct1_sim.trajectory.features`); the fusion and the DiT are then trained on the cached tokens with
the CT-1 loss, AdamW, warm-up + cosine learning rate, and an EMA of the weights (what is saved).
Runs unchanged under ``torchrun --nproc-per-node N`` (DistributedDataParallel, gloo on CPU / nccl on GPU):
each rank draws its own batches, gradients are averaged, rank 0 writes checkpoints.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from ct1_sim.data import ClipStore
from ct1_sim.devices import init_distributed, resolve_device
from ct1_sim.schedules import warmup_cosine_lr
from ct1_sim.trajectory.checkpointing import latest_checkpoint, load_checkpoint, save_checkpoint
from ct1_sim.trajectory.configuration_ct1 import CT1TrajectoryConfig
from ct1_sim.trajectory.features import ClipFeatures, extract_features, split_ids
from ct1_sim.trajectory.modeling_ct1 import CT1TrajectoryModel

log = logging.getLogger(__name__)


@dataclass
class TrainSettings:
    """Optimisation settings (the ``train:`` block of a training YAML)."""

    steps: int = 3000
    batch_size: int = 64
    lr: float = 5e-4
    weight_decay: float = 0.01
    warmup_steps: int = 100
    ema_decay: float = 0.998
    seed: int = 0
    augment_variants: int = 4
    val_every: int = 500
    val_clips: int = 64
    val_samples: int = 8
    checkpoint_every: int = 250
    log_every: int = 50
    max_train_clips: int | None = None
    wavelet_weight: float | None = None  # overrides the model config (0 = the no-wavelet ablation)

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "augment_variants", "val_every", "checkpoint_every", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"train.{name} must be >= 1, got {getattr(self, name)}")
        if not 0 < self.lr < 1:
            raise ValueError(f"train.lr must be in (0, 1), got {self.lr}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"train.ema_decay must be in [0, 1), got {self.ema_decay}")


def load_training_config(path: str | Path) -> tuple[CT1TrajectoryConfig, TrainSettings]:
    """Read a training YAML with ``model:`` (CT1TrajectoryConfig keys) and ``train:`` (TrainSettings keys)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no training config at {path}; see model/configs/ct1-tiny.yaml")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not a valid YAML text file: {err}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected 'model:' and 'train:' sections (see model/configs/ct1-tiny.yaml)")
    unknown = sorted(set(data) - {"model", "train"})
    if unknown:
        raise ValueError(f"{path}: unknown top-level keys {unknown}; use 'model' and 'train'")
    train = data.get("train") or {}
    known = {f.name for f in fields(TrainSettings)}
    bad = sorted(set(train) - known)
    if bad:
        raise ValueError(f"{path}: unknown train keys {bad}; known: {sorted(known)}")
    _check_value_types(path, "train", train, TrainSettings())
    return CT1TrajectoryConfig.from_dict(data.get("model") or {}), TrainSettings(**train)


def _check_value_types(path: Path, section: str, values: dict, defaults: object) -> None:
    """``ValueError`` naming the key when a YAML value's kind does not match its default's (number, text, list)."""
    for key, value in values.items():
        default = getattr(defaults, key, None)
        if default is None or value is None:
            continue
        number = isinstance(default, int | float) and not isinstance(default, bool)
        if number and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"{path}: {section}.{key} must be a number, got {value!r}")
        if isinstance(default, str) and not isinstance(value, str):
            raise ValueError(f"{path}: {section}.{key} must be text, got {value!r}")


def _lr_at(step: int, s: TrainSettings) -> float:
    return warmup_cosine_lr(step, s.lr, s.warmup_steps, s.steps)


def _batch(feats: ClipFeatures, idx: torch.Tensor, var: torch.Tensor, device: torch.device) -> tuple[torch.Tensor, ...]:
    return (
        feats.image_tokens[idx, var].to(device, torch.float32),
        feats.text[idx, var].to(device),
        feats.speeds[idx].to(device),
        feats.targets[idx, var].to(device),
    )


def validate(model: CT1TrajectoryModel, feats: ClipFeatures, num_samples: int, seed: int) -> dict[str, float]:
    """minADE@K, mean ADE over K, ADE/FDE of sample 0 (m) and compliance on variant 0 of validation clips."""
    if len(feats) == 0:
        return {}
    from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov
    from ct1_sim.metrics import classify_maneuver
    from ct1_sim.trajectory.pose_tokens import tokens_to_c2w

    model.eval()
    g = torch.Generator().manual_seed(seed)
    dev = model.device
    tokens = model.sample_tokens(feats.image_tokens[:, 0].to(dev, torch.float32), feats.text[:, 0].to(dev), feats.speeds.to(dev), num_samples, g)
    pred = tokens[..., :3].cpu().numpy()  # (N,K,T,3)
    true = feats.targets[:, 0, :, :3].numpy()[:, None]  # (N,1,T,3)
    dist_ = np.linalg.norm(pred - true, axis=-1)  # (N,K,T)
    ade = dist_.mean(-1)
    c2w = tokens_to_c2w(tokens.double()).numpy()
    K = intrinsics_from_fov(448, 256, 64.0)
    ts = np.arange(model.config.num_poses, dtype=np.int64) * round(1e6 / model.config.rate_hz)
    comply = [
        classify_maneuver(CameraTrajectory(c2w=c2w[i, k], K=K, image_size=(448, 256), timestamps_us=ts)) == feats.maneuvers[i][0]
        for i in range(len(feats)) for k in range(num_samples)
    ]
    return {
        "min_ade": float(ade.min(1).mean()),
        "mean_ade": float(ade.mean()),
        "ade_sample0": float(ade[:, 0].mean()),
        "fde_sample0": float(dist_[:, 0, -1].mean()),
        "compliance": float(np.mean(comply)),
    }


def train_trajectory_model(
    data: str | Path,
    config_path: str | Path,
    out: str | Path,
    *,
    device: str = "cpu",
    steps: int | None = None,
    wavelet_weight: float | None = None,
    seed: int | None = None,
    cache_dir: str | Path | None = None,
) -> CT1TrajectoryModel:
    """Train (or resume), save the EMA model to ``out`` and return it (EMA weights loaded).

    ``steps``, ``wavelet_weight`` and ``seed`` override the YAML. Checkpoints go to ``out/checkpoints``; running the
    same command again resumes from the newest one. Frozen-backbone features are cached in ``cache_dir``
    (default ``out/cache``); runs on the same data and seed can share it.
    """
    rank, world = init_distributed()
    model_cfg, s = load_training_config(config_path)
    if steps is not None:
        s.steps = steps
    if wavelet_weight is not None:
        s.wavelet_weight = wavelet_weight
    if seed is not None:
        s.seed = seed
    if s.wavelet_weight is not None:
        model_cfg.wavelet_weight = s.wavelet_weight
    out = Path(out)
    store = ClipStore.open(data)
    dev = resolve_device(device)
    torch.manual_seed(s.seed)
    model = CT1TrajectoryModel(model_cfg).to(dev)

    train_ids = split_ids(store, "train", s.max_train_clips)
    val_ids = split_ids(store, "val", s.val_clips)
    if not train_ids:
        raise ValueError(f"{data} has no clips with meta split='train'; render some with `ct1-sim scenarios render`")
    cache = Path(cache_dir) if cache_dir is not None else out / "cache"
    feats = extract_features(store, train_ids, model.backbone, s.augment_variants, s.seed, cache / f"train-r{rank}.safetensors")
    val = extract_features(store, val_ids, model.backbone, 1, s.seed, cache / f"val-r{rank}.safetensors")
    model.set_normalization(feats.targets.flatten(0, 1).numpy())
    model.fusion.set_text_statistics(torch.unique(feats.text.flatten(0, 1), dim=0))
    log.info("training on %d clips x %d variants (%d val clips), %d trainable parameters, %d process(es)",
             len(feats), s.augment_variants, len(val), sum(p.numel() for p in model.trainable_parameters()), world)

    params = model.trainable_parameters()
    optimizer = torch.optim.AdamW(params, lr=s.lr, weight_decay=s.weight_decay)
    ema = {k: v.detach().clone() for k, v in model.trainable_state_dict().items()}
    start, history = 0, []
    ckpt = latest_checkpoint(out / "checkpoints")
    if ckpt is not None:
        start, weights, ema_state, opt_state, extra = load_checkpoint(ckpt)
        model.load_state_dict(weights, strict=False)
        ema = {k: v.to(dev) for k, v in ema_state.items()}
        optimizer.load_state_dict(opt_state)
        history = extra.get("history", [])
        log.info("resumed from %s (step %d)", ckpt, start)

    ddp = torch.nn.parallel.DistributedDataParallel(model, broadcast_buffers=False) if world > 1 else model
    bar = tqdm(range(start, s.steps), initial=start, total=s.steps, desc="train trajectory", unit="step", disable=rank != 0)
    t0, running = time.perf_counter(), []
    for step in bar:
        model.train()
        g = torch.Generator().manual_seed(s.seed * 1_000_003 + step * 101 + rank)
        idx = torch.randint(0, len(feats), (s.batch_size,), generator=g)
        var = torch.randint(0, s.augment_variants, (s.batch_size,), generator=g)
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(step, s)
        loss, parts = ddp(*_batch(feats, idx, var, dev), generator=g)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        with torch.no_grad():
            for k, v in model.trainable_state_dict().items():
                ema[k].mul_(s.ema_decay).add_(v.detach(), alpha=1 - s.ema_decay) if v.dtype.is_floating_point else ema[k].copy_(v)
        running.append(parts)
        done = step + 1
        if done % s.log_every == 0 and rank == 0:
            mean = {k: float(np.mean([r[k] for r in running])) for k in running[0]}
            bar.set_postfix(loss=f"{mean['mse']:.4f}", wav=f"{mean['wavelet']:.3f}")
            history.append({"step": done, **mean, "lr": _lr_at(step, s), "seconds": time.perf_counter() - t0})
            running = []
        if rank == 0 and (done % s.val_every == 0 or done == s.steps):
            live = {k: v.clone() for k, v in model.trainable_state_dict().items()}
            model.load_state_dict(ema, strict=False)
            metrics = validate(model, val, s.val_samples, s.seed)
            model.load_state_dict(live, strict=False)
            history.append({"step": done, "val": metrics})
            log.info("step %d validation %s", done, json.dumps({k: round(v, 4) for k, v in metrics.items()}))
        if rank == 0 and (done % s.checkpoint_every == 0 or done == s.steps):
            save_checkpoint(out / "checkpoints", done, model.trainable_state_dict(), ema, optimizer,
                            {"history": history, "settings": asdict(s)})
    model.load_state_dict(ema, strict=False)
    if rank == 0:
        model.save_pretrained(out)
        (out / "training_log.json").write_text(json.dumps({"settings": asdict(s), "history": history,
                                                           "data": str(data), "train_clips": len(feats),
                                                           "processes": world}, indent=1))
        log.info("saved EMA model to %s", out)
    if world > 1:
        dist.barrier()
    return model


def model_summary(model: CT1TrajectoryModel) -> dict[str, Any]:
    """Parameter counts by part (trainable and frozen)."""
    def count(prefix: str) -> int:
        return sum(p.numel() for n, p in model.named_parameters() if n.startswith(prefix))

    return {"fusion": count("fusion."), "dit": count("dit."), "backbone_frozen": count("backbone.")}
