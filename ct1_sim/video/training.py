"""``ct1-sim train video``: resumable two-stage training of the camera-controlled video model on a clip store.

Stage 1 fits the depth network to the renderer's depth (L1 on log depth). Stage 2 freezes it and trains the
denoiser: the current frame is forward-warped with the *predicted* depth into a random future camera of the clip
(as at inference), noised targets are cropped to ``crop`` (the denoiser is fully convolutional) and the denoiser
learns the clean future frame (MSE, x0-prediction). Seeded, EMA of the denoiser, periodic validation PSNR of the
whole pipeline against warp-only, checkpoints in safetensors; running the same command again resumes. Runs unchanged
under ``torchrun --nproc-per-node N`` (DistributedDataParallel; each rank draws its own batches).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from ct1_sim.config_loading import load_yaml_config
from ct1_sim.data import ClipStore
from ct1_sim.devices import init_distributed, resolve_device
from ct1_sim.metrics.image_fidelity import psnr
from ct1_sim.training_loop import TrainingRun, latest_checkpoint
from ct1_sim.video.denoiser import WarpDenoiser
from ct1_sim.video.depth_net import DepthNet, depth_target
from ct1_sim.video.evaluation import warp_baselines
from ct1_sim.video.pipeline_ct1_video import CameraControlledVideoPipeline, build_pipeline, relative_plucker, to_uint8_frames
from ct1_sim.video.samples import draw_pairs
from ct1_sim.video.warp import forward_warp

log = logging.getLogger(__name__)


@dataclass
class StageSettings:
    """Optimisation settings of one stage."""

    steps: int = 1000
    batch_size: int = 8
    lr: float = 1e-3
    warmup_steps: int = 50

    def check(self, name: str) -> None:
        for key in ("steps", "batch_size"):
            if getattr(self, key) < 1:
                raise ValueError(f"{name}.{key} must be >= 1, got {getattr(self, key)}")
        if not 0 < self.lr < 1:
            raise ValueError(f"{name}.lr must be in (0, 1), got {self.lr}")


@dataclass
class VideoTrainSettings:
    """The training YAML: ``depth_net`` / ``denoiser`` model configs, ``depth`` / ``denoise`` stages, shared keys."""

    depth_net: dict[str, Any] = field(default_factory=dict)
    denoiser: dict[str, Any] = field(default_factory=dict)
    depth: StageSettings = field(default_factory=lambda: StageSettings(steps=800, batch_size=8, lr=1e-3))
    denoise: StageSettings = field(default_factory=lambda: StageSettings(steps=2500, batch_size=8, lr=5e-4))
    crop: tuple[int, int] = (224, 128)  # (W, H) of denoiser training crops, px
    futures_per_clip: int = 4  # future frames drawn per clip read (they share the depth prediction)
    ema_decay: float = 0.995
    seed: int = 0
    val_clips: int = 4
    val_every: int = 500
    val_steps: int = 3
    checkpoint_every: int = 100
    log_every: int = 25

    def __post_init__(self) -> None:
        self.depth.check("depth")
        self.denoise.check("denoise")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")


def load_video_config(path: str | Path) -> VideoTrainSettings:
    """Read a video training YAML strictly (:mod:`ct1_sim.config_loading`): unknown keys (also inside ``depth`` and
    ``denoise``) and values of the wrong type are a ``ValueError`` naming the file and the key."""
    return load_yaml_config(VideoTrainSettings, path, example="model/configs/ct1-video-tiny.yaml")


def _crop_offsets(rng: np.random.Generator, size: tuple[int, int], crop: tuple[int, int], fold: int) -> tuple[int, int]:
    w, h = size
    cw, ch = crop
    x = int(rng.integers(0, (w - cw) // fold + 1)) * fold
    y = int(rng.integers(0, (h - ch) // fold + 1)) * fold
    return x, y


class _StageRunner(TrainingRun):
    """The :class:`~ct1_sim.training_loop.TrainingRun` of one stage (optimiser, lr, EMA, checkpoints in
    ``out/checkpoints/<name>``, resume); ``param_groups``: optional AdamW groups, each with an ``lr_scale`` (its share
    of the stage's lr)."""

    def __init__(self, name: str, module: torch.nn.Module, s: StageSettings, out: Path, ema_decay: float, rank: int,
                 param_groups: list[dict[str, Any]] | None = None) -> None:
        super().__init__(module, out / "checkpoints" / name, lr=s.lr, total_steps=s.steps, warmup_steps=s.warmup_steps,
                         ema_decay=ema_decay, param_groups=param_groups, rank=rank)
        self.name = name


def _train_depth(depth_net: DepthNet, store: ClipStore, ids: list[str], s: VideoTrainSettings, out: Path, rank: int, world: int) -> None:
    runner = _StageRunner("depth", depth_net, s.depth, out, s.ema_decay, rank)
    model = torch.nn.parallel.DistributedDataParallel(depth_net) if world > 1 else depth_net
    max_d = depth_net.config.max_depth_m
    bar = tqdm(range(runner.start, s.depth.steps), initial=runner.start, total=s.depth.steps, desc="train video: depth",
               unit="step", disable=rank != 0)
    running: list[float] = []
    for step in bar:
        rng = np.random.default_rng([s.seed, 1, step, rank])
        batch = draw_pairs(store, ids, rng, s.depth.batch_size)
        K = torch.from_numpy(batch.K).float()
        pred = model(batch.current, K)
        target = depth_target(batch.depth, max_d)
        loss = (pred.log() - target.log()).abs().mean()
        runner.step(step, loss)
        running.append(loss.item())
        done = step + 1
        if done % s.log_every == 0 and rank == 0:
            bar.set_postfix(l1_log=f"{np.mean(running):.3f}")
            runner.history.append({"step": done, "l1_log_depth": float(np.mean(running))})
            running = []
        if done % s.checkpoint_every == 0 or done == s.depth.steps:
            runner.checkpoint(done)
    depth_net.load_state_dict(runner.ema)


@torch.no_grad()
def _denoise_batch(pipe: CameraControlledVideoPipeline, batch: Any, s: VideoTrainSettings, rng: np.random.Generator) -> tuple[torch.Tensor, ...]:
    """Warp each current frame with the predicted depth into its future camera and crop: returns
    ``(target, condition, base)`` for the denoiser, all at the crop size."""
    den = pipe.denoiser
    fold = den.config.fold
    _, _, h, w = batch.current.shape
    K = torch.from_numpy(batch.K.copy()).float()
    # items drawn from the same clip (draw_pairs' futures_per_clip) share one depth prediction
    first = np.flatnonzero(np.r_[True, batch.clip_index[1:] != batch.clip_index[:-1]])
    owner = np.searchsorted(first, np.arange(len(batch.current)), side="right") - 1
    depth = pipe.depth_net(batch.current[first], K)[owner]
    targets, conds, bases = [], [], []
    for i in range(batch.current.shape[0]):
        c2w = torch.from_numpy(batch.c2w_rel[i : i + 1]).float()
        warp = forward_warp(batch.current[i], depth[i], K, torch.linalg.inv(c2w))
        plucker = relative_plucker(batch.c2w_rel[i : i + 1], batch.K, (w, h), h // fold, w // fold, den.config.plucker_scale_m)
        x, y = _crop_offsets(rng, (w, h), s.crop, fold)
        cw, ch = s.crop
        sl = (slice(None), slice(None), slice(y, y + ch), slice(x, x + cw))
        slp = (slice(None), slice(None), slice(y // fold, (y + ch) // fold), slice(x // fold, (x + cw) // fold))
        cond, base = den.prepare_condition(warp.frames[sl] * 2 - 1, warp.mask[sl], plucker[slp])
        targets.append(batch.future[i : i + 1][sl] * 2 - 1)
        conds.append(cond)
        bases.append(base)
    return torch.cat(targets), torch.cat(conds), torch.cat(bases)


def validate(pipe: CameraControlledVideoPipeline, store: ClipStore, ids: list[str], steps: int, seed: int) -> dict[str, float]:
    """Mean PSNR (dB) over frames 1.. of the pipeline and of warp-only output (holes black) on ``ids``."""
    gen_psnr, warp_psnr = [], []
    for k, cid in enumerate(ids):
        clip = store[cid]
        out = pipe(clip.frames[0], clip.trajectory, num_frames=len(clip.trajectory), height=clip.frames.shape[1],
                   width=clip.frames.shape[2], num_inference_steps=steps, generator=torch.Generator().manual_seed(seed + k),
                   output_type="np").frames
        gen = to_uint8_frames(out)
        wo = warp_baselines(pipe, clip.frames[0], clip.trajectory)["warp_only"]
        gen_psnr.append(np.mean([psnr(gen[j], clip.frames[j]) for j in range(1, len(gen))]))
        warp_psnr.append(np.mean([psnr(wo[j], clip.frames[j]) for j in range(1, len(wo))]))
    return {"psnr": float(np.mean(gen_psnr)), "psnr_warp_only": float(np.mean(warp_psnr))}


def train_video_model(
    data: str | Path, config_path: str | Path, out: str | Path, *, device: str = "cpu",
    depth_steps: int | None = None, denoise_steps: int | None = None, seed: int | None = None,
) -> CameraControlledVideoPipeline:
    """Train (or resume) both stages; saves the pipeline (EMA denoiser) to ``out`` and returns it."""
    rank, world = init_distributed()
    s = load_video_config(config_path)
    if depth_steps is not None:
        s.depth.steps = depth_steps
    if denoise_steps is not None:
        s.denoise.steps = denoise_steps
    if seed is not None:
        s.seed = seed
    out = Path(out)
    dev = resolve_device(device)
    if dev.type != "cpu":
        log.warning("video training moves batches to %s per step; the data loader stays on the CPU", dev)
    store = ClipStore.open(data)
    train_ids, val_ids = store.split_ids("train"), store.split_ids("val", s.val_clips)
    if not train_ids:
        raise ValueError(f"{data} has no clips with meta split='train'; render some with `ct1-sim scenarios render`")
    torch.manual_seed(s.seed)
    depth_net, denoiser = DepthNet(**s.depth_net), WarpDenoiser(**s.denoiser)
    pipe = build_pipeline(depth_net, denoiser)
    log.info("video training on %d clips (%d val): depth net %.2fM, denoiser %.2fM parameters", len(train_ids),
             len(val_ids), sum(p.numel() for p in depth_net.parameters()) / 1e6, sum(p.numel() for p in denoiser.parameters()) / 1e6)
    t0 = time.perf_counter()

    # stage 1: depth
    _train_depth(depth_net, store, train_ids, s, out, rank, world)
    depth_net.eval().requires_grad_(False)

    # stage 2: denoiser
    runner = _StageRunner("denoise", denoiser, s.denoise, out, s.ema_decay, rank)
    model = torch.nn.parallel.DistributedDataParallel(denoiser) if world > 1 else denoiser
    sched = pipe.scheduler
    bar = tqdm(range(runner.start, s.denoise.steps), initial=runner.start, total=s.denoise.steps,
               desc="train video: denoiser", unit="step", disable=rank != 0)
    running: list[float] = []
    for step in bar:
        rng = np.random.default_rng([s.seed, 2, step, rank])
        g = torch.Generator().manual_seed(int(rng.integers(2**62)))
        target, cond, base = _denoise_batch(pipe, draw_pairs(store, train_ids, rng, s.denoise.batch_size, s.futures_per_clip), s, rng)
        t = torch.randint(0, sched.config.num_train_timesteps, (target.shape[0],), generator=g)
        noisy = sched.add_noise(target, torch.randn(target.shape, generator=g), t)
        loss = F.mse_loss(model(noisy, t, cond, base), target)
        runner.step(step, loss)
        running.append(loss.item())
        done = step + 1
        if done % s.log_every == 0 and rank == 0:
            bar.set_postfix(mse=f"{np.mean(running):.4f}")
            runner.history.append({"step": done, "mse": float(np.mean(running)), "seconds": time.perf_counter() - t0})
            running = []
        if rank == 0 and val_ids and (done % s.val_every == 0 or done == s.denoise.steps):
            live = {k: v.clone() for k, v in denoiser.state_dict().items()}
            denoiser.load_state_dict(runner.ema)
            denoiser.eval()
            metrics = validate(pipe, store, val_ids, s.val_steps, s.seed)
            denoiser.load_state_dict(live)
            denoiser.train()
            runner.history.append({"step": done, "val": metrics})
            log.info("step %d validation %s", done, json.dumps({k: round(v, 3) for k, v in metrics.items()}))
        if done % s.checkpoint_every == 0 or done == s.denoise.steps:
            runner.checkpoint(done)
    denoiser.load_state_dict(runner.ema)
    denoiser.eval().requires_grad_(False)
    if rank == 0:
        pipe.save_pretrained(out)
        depth_hist = json.loads((latest_checkpoint(out / "checkpoints" / "depth") / "state.json").read_text()).get("history", [])
        (out / "training_log.json").write_text(json.dumps(
            {"settings": asdict(s), "data": str(data), "train_clips": len(train_ids), "depth_history": depth_hist,
             "denoise_history": runner.history}, indent=1, default=list))
        log.info("saved the video pipeline to %s", out)
    if world > 1:
        dist.barrier()
    return pipe
