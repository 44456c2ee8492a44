"""``ct1-sim train trajectory``: resumable, seeded training of the CT-1 trajectory model on a clip store.

Frozen encoders embed each training clip's conditioning frame once per augmentation variant
(:mod:`ct1_sim.trajectory.features`); the fusion and the DiT are then trained on the cached tokens with
the CT-1 loss, through :class:`ct1_sim.training_loop.TrainingRun` (AdamW, warm-up + cosine learning rate, an EMA
of the weights, which is what is saved, checkpoints, resume; resuming on other data is refused).
Runs unchanged under ``torchrun --nproc-per-node N`` (DistributedDataParallel, gloo on CPU / nccl on GPU):
each rank draws its own batches, gradients are averaged, rank 0 writes checkpoints.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from ct1_sim.atomic_files import write_text_atomic
from ct1_sim.clip_spec import IMAGE_SIZE
from ct1_sim.config_loading import check_keys, from_dict, read_yaml
from ct1_sim.data import ClipStore
from ct1_sim.devices import init_distributed, resolve_device
from ct1_sim.training_loop import DataFingerprint, TrainingRun, check_resume
from ct1_sim.trajectory.features import ClipFeatures, extract_features
from ct1_sim.trajectory.instruction_parser import train_instruction_parser
from ct1_sim.trajectory.modeling_ct1 import FROZEN_PREFIX, CT1TrajectoryModel
from ct1_sim.trajectory.pose_tokens import tokens_to_trajectories

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
    #: share of samples conditioned on the recorded drive's own intent; the rest on a random intent of the bank, whose
    #: target is what the scene allows for it (:mod:`ct1_sim.data.scenarios.intent_paths`)
    own_intent_share: float = 0.5
    #: share of each batch drawn from each clip source (``meta["source"]``: ``scenario``, ``town``, ``town-dagger``);
    #: ``None`` draws clips uniformly. Sources present in the data but not named are not drawn; a named source with no
    #: clips is an error.
    source_weights: dict[str, float] | None = None

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "augment_variants", "val_every", "checkpoint_every", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"train.{name} must be >= 1, got {getattr(self, name)}")
        if not 0 < self.lr < 1:
            raise ValueError(f"train.lr must be in (0, 1), got {self.lr}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"train.ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.source_weights is not None:
            bad = {k: v for k, v in self.source_weights.items() if not (isinstance(v, (int, float)) and v >= 0)}
            if bad or not sum(self.source_weights.values()) > 0:
                raise ValueError(f"train.source_weights must map sources to weights >= 0 with a positive sum, got {self.source_weights}")


def clip_draw_probabilities(sources: list[str], weights: dict[str, float] | None) -> torch.Tensor | None:
    """Per-clip probabilities that give each source its share of the batch (``None``: uniform draws)."""
    if weights is None:
        return None
    counts = {src: sources.count(src) for src in weights}
    empty = sorted(src for src, n in counts.items() if n == 0 and weights[src] > 0)
    if empty:
        raise ValueError(f"train.source_weights names {empty}, which no train clip comes from (sources: {sorted(set(sources))}); "
                         "remove them or add those clips")
    total = sum(weights.values())
    return torch.tensor([weights.get(src, 0.0) / total / counts[src] if src in counts else 0.0 for src in sources], dtype=torch.float64)


def draw_clip_indices(num_clips: int, batch_size: int, probabilities: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
    """A batch's clip indices: uniform over the clips, or by :func:`clip_draw_probabilities` when given."""
    if probabilities is None:
        return torch.randint(0, num_clips, (batch_size,), generator=generator)
    return torch.multinomial(probabilities, batch_size, replacement=True, generator=generator)


def load_training_config(path: str | Path) -> tuple[dict[str, Any], TrainSettings]:
    """Read a training YAML with ``model:`` (``CT1TrajectoryModel`` config keys) and ``train:`` (TrainSettings keys),
    strictly (:mod:`ct1_sim.config_loading`): the model config (checked) and the settings."""
    data = read_yaml(path, example="model/configs/ct1-tiny.yaml")
    check_keys(data, ["model", "train"], str(path))
    model = CT1TrajectoryModel.check_config(data.get("model") or {}, str(path), "model")
    return model, from_dict(TrainSettings, data.get("train") or {}, str(path), "train")


def _batch(
    feats: ClipFeatures, idx: torch.Tensor, var: torch.Tensor, device: torch.device, own_share: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, ...]:
    """A training batch: image tokens, the condition's text embedding, speeds and targets. With ``own_share`` < 1 a
    share of the samples is told a random intent instead of its own, and drives what the scene allows for it."""
    text, target = feats.text[idx, var], feats.targets[idx, var]
    if own_share < 1.0 and feats.intent_targets is not None and feats.intent_targets.numel():
        n_intents = feats.intent_text.shape[0]
        asked = torch.randint(0, n_intents, (len(idx),), generator=generator)
        other = (torch.rand(len(idx), generator=generator) >= own_share) & feats.intent_valid[idx, asked]
        k = torch.where(other, asked, feats.own_intent[idx, var])
        text = torch.where(other[:, None], feats.intent_text[k], text)
        target = torch.where(other[:, None, None], feats.intent_targets[idx, var, k], target)
    return (
        feats.image_tokens[idx, var].to(device, torch.float32),
        text.to(device),
        feats.speeds[idx].to(device),
        target.to(device),
    )


def validate(model: CT1TrajectoryModel, feats: ClipFeatures, num_samples: int, seed: int) -> dict[str, float]:
    """minADE@K, mean ADE over K, ADE/FDE of sample 0 (m) and compliance on variant 0 of validation clips."""
    if len(feats) == 0:
        return {}
    from ct1_sim.metrics import classify_maneuver

    model.eval()
    pipe, dev = model.pipeline, model.device
    noise = pipe.prepare_noise(len(feats), num_samples, torch.Generator().manual_seed(seed))
    with torch.inference_mode():
        tokens = pipe.denoise(feats.image_tokens[:, 0].to(dev, torch.float32), feats.text[:, 0].to(dev), feats.speeds.to(dev),
                              noise.to(dev), *pipe.check_sampling(None, None))
    pred = tokens[..., :3].cpu().numpy()  # (N,K,T,3)
    true = feats.targets[:, 0, :, :3].numpy()[:, None]  # (N,1,T,3)
    dist_ = np.linalg.norm(pred - true, axis=-1)  # (N,K,T)
    ade = dist_.mean(-1)
    paths = tokens_to_trajectories(tokens, [IMAGE_SIZE] * len(feats), model.config.rate_hz)
    comply = [classify_maneuver(t) == feats.maneuvers[i][0] for i, samples in enumerate(paths) for t in samples]
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
    device: str = "auto",
    steps: int | None = None,
    wavelet_weight: float | None = None,
    seed: int | None = None,
    cache_dir: str | Path | None = None,
) -> CT1TrajectoryModel:
    """Train (or resume), save the EMA model to ``out`` and return it (EMA weights loaded).

    ``steps``, ``wavelet_weight`` and ``seed`` override the YAML; ``device`` ``auto`` = CUDA when present.
    Checkpoints go to ``out/checkpoints``; running the same command again resumes from the newest one, and is refused
    when the data differs from the data the checkpoint was trained on (``ValueError`` naming both). Frozen-encoder
    features are cached in ``cache_dir`` (default ``out/cache``); runs on the same data and seed can share it.
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
        model_cfg["wavelet_weight"] = s.wavelet_weight
    out = Path(out)
    store = ClipStore.open(data)
    dev = resolve_device(device)
    train_ids = store.split_ids("train", s.max_train_clips)
    val_ids = store.split_ids("val", s.val_clips)
    if not train_ids:
        raise ValueError(f"{data} has no clips with meta split='train'; render some with `ct1-sim scenarios render`")
    metas = {cid: store.meta(cid) for cid in train_ids}
    fingerprint = DataFingerprint.of(f"{data} ({len(train_ids)} train clips)", metas.items())
    check_resume(out / "checkpoints", fingerprint)  # refuse other data before the slow feature extraction
    torch.manual_seed(s.seed)
    model = CT1TrajectoryModel(**model_cfg).to(dev)

    cache = Path(cache_dir) if cache_dir is not None else out / "cache"
    feats = extract_features(store, train_ids, model.encoder, s.augment_variants, s.seed, cache / f"train-r{rank}.safetensors")
    val = extract_features(store, val_ids, model.encoder, 1, s.seed, cache / f"val-r{rank}.safetensors")
    model.set_normalization(feats.targets.flatten(0, 1).numpy())
    model.fusion.set_text_statistics(feats.intent_text)
    log.info("training on %d clips x %d variants (%d val clips), %d trainable parameters, %d process(es)",
             len(feats), s.augment_variants, len(val), sum(p.numel() for p in model.trainable_parameters()), world)

    draw_p = clip_draw_probabilities([str(metas[cid].get("source", "scenario")) for cid in feats.ids], s.source_weights)
    run = TrainingRun(model, out / "checkpoints", lr=s.lr, total_steps=s.steps, warmup_steps=s.warmup_steps, ema_decay=s.ema_decay,
                      weight_decay=s.weight_decay, checkpoint_every=s.checkpoint_every, frozen_prefix=FROZEN_PREFIX,
                      fingerprint=fingerprint, rank=rank)
    history = run.history
    ddp = torch.nn.parallel.DistributedDataParallel(model, broadcast_buffers=False) if world > 1 else model
    bar = tqdm(range(run.start, s.steps), initial=run.start, total=s.steps, desc="train trajectory", unit="step", disable=rank != 0)
    t0, running = time.perf_counter(), []
    for step in bar:
        model.train()
        g = torch.Generator().manual_seed(s.seed * 1_000_003 + step * 101 + rank)
        idx = draw_clip_indices(len(feats), s.batch_size, draw_p, g)
        var = torch.randint(0, s.augment_variants, (s.batch_size,), generator=g)
        loss, parts = ddp(*_batch(feats, idx, var, dev, s.own_intent_share, g), generator=g)
        run.step(step, loss)
        running.append(parts)
        done = step + 1
        if done % s.log_every == 0 and rank == 0:
            mean = {k: float(np.mean([r[k] for r in running])) for k in running[0]}
            bar.set_postfix(loss=f"{mean['mse']:.4f}", wav=f"{mean['wavelet']:.3f}")
            history.append({"step": done, **mean, "lr": run.lr_at(step), "seconds": time.perf_counter() - t0})
            running = []
        if rank == 0 and (done % s.val_every == 0 or done == s.steps):
            with run.ema_weights():
                metrics = validate(model, val, s.val_samples, s.seed)
            history.append({"step": done, "val": metrics})
            log.info("step %d validation %s", done, json.dumps({k: round(v, 4) for k, v in metrics.items()}))
        run.save_if_due(done, settings=asdict(s))
    run.load_ema()
    parser_metrics: dict[str, float] = {}
    if rank == 0:
        parser, parser_metrics = train_instruction_parser(model.encoder.text_embedding)
        model.set_instruction_parser(parser)
        model.save_pretrained(out)
        write_text_atomic(out / "training_log.json", json.dumps({"settings": asdict(s), "history": history, "data": str(data),
                                                                "train_clips": len(feats), "processes": world,
                                                                "instruction_parser": parser_metrics}, indent=1))
        log.info("saved EMA model to %s", out)
    if world > 1:
        dist.barrier()
    return model
