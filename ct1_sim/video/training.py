"""``ct1-sim train video``: resumable training of the camera-controlled video model on a clip store, in two stages.

``depth`` fits the MobileNetV2 depth network to the renderer's depth (:mod:`ct1_sim.video.depth_training`);
``generator`` trains the generative inpainting denoiser on warps made with the *true* depth
(:mod:`ct1_sim.video.inpaint_training`), so the two stages are independent and can run side by side in two
processes (``stages=``). Seeded, EMA weights, checkpoints in safetensors; running the same command again resumes;
once both stages are done the pipeline is saved to ``out``. Runs under ``torchrun --nproc-per-node N``
(DistributedDataParallel; each rank draws its own batches).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from ct1_sim.config_loading import load_yaml_config
from ct1_sim.data import ClipStore
from ct1_sim.devices import init_distributed, resolve_device
from ct1_sim.training_loop import TrainingRun, latest_checkpoint, load_checkpoint
from ct1_sim.video.depth_mobilenet import MobileNetDepth
from ct1_sim.video.depth_training import train_depth_stage
from ct1_sim.video.inpaint_denoiser import InpaintDenoiser
from ct1_sim.video.inpaint_training import train_generator_stage
from ct1_sim.video.pipeline_ct1_video import CameraControlledVideoPipeline, build_pipeline

log = logging.getLogger(__name__)


@dataclass
class StageSettings:
    """Optimisation settings of one stage."""

    steps: int = 1000
    batch_size: int = 8
    lr: float = 1e-3
    warmup_steps: int = 50

    def check(self, name: str, allow_zero_steps: bool = False) -> None:
        if self.steps < (0 if allow_zero_steps else 1):
            raise ValueError(f"{name}.steps must be >= {0 if allow_zero_steps else 1}, got {self.steps}"
                             + ("" if allow_zero_steps else " (0, to keep a stage as it is, needs init_from)"))
        if self.batch_size < 1:
            raise ValueError(f"{name}.batch_size must be >= 1, got {self.batch_size}")
        if not 0 < self.lr < 1:
            raise ValueError(f"{name}.lr must be in (0, 1), got {self.lr}")


@dataclass
class AdversarialSettings:
    """The generator's adversarial fine-tune (:mod:`ct1_sim.video.hole_discriminator`): ``weight`` scales VQGAN's
    adaptive balance of the adversarial and the MSE terms (0: off); the discriminator trains alone for the first
    ``start_step`` steps, with AdamW at ``lr``."""

    weight: float = 0.0
    start_step: int = 100
    lr: float = 2e-4

    def check(self) -> None:
        if self.weight < 0 or self.start_step < 0 or not 0 < self.lr < 1:
            raise ValueError(f"adversarial: weight >= 0, start_step >= 0 and 0 < lr < 1 are needed, got {self}")


@dataclass
class VideoTrainSettings:
    """The training YAML: ``depth_net`` / ``denoiser`` model configs, ``depth`` / ``denoise`` stages, shared keys."""

    depth_net: dict[str, Any] = field(default_factory=dict)
    denoiser: dict[str, Any] = field(default_factory=dict)
    depth: StageSettings = field(default_factory=lambda: StageSettings(steps=800, batch_size=8, lr=1e-3))
    denoise: StageSettings = field(default_factory=lambda: StageSettings(steps=2500, batch_size=8, lr=5e-4))
    adversarial: AdversarialSettings = field(default_factory=AdversarialSettings)
    generator_crop: tuple[int, int] = (224, 256)  # (W, H) of generator training crops, px (full pixel scale)
    depth_crop: tuple[int, int] = (224, 256)  # (W, H) of depth training crops, px (full pixel scale)
    depth_val_every: int = 250
    depth_object_weight: float = 0.0  # extra L1 weight of object pixels in the depth loss (see depth_mobilenet.depth_loss)
    depth_gradient_weight: float = 0.0  # weight of the multi-scale gradient matching loss on log depth (sharper edges)
    init_from: str | None = None  # a saved video pipeline folder whose weights a fresh run starts from (fine-tuning)
    refresh_train_ids_every: int = 0  # > 0: re-list the store's train clips every N steps (a store still being filled)
    ema_decay: float = 0.995
    seed: int = 0
    val_clips: int = 4
    val_every: int = 500
    val_steps: int = 3
    checkpoint_every: int = 100
    log_every: int = 25

    def __post_init__(self) -> None:
        self.depth.check("depth", allow_zero_steps=self.init_from is not None)
        self.denoise.check("denoise", allow_zero_steps=self.init_from is not None)
        self.adversarial.check()
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")


def load_video_config(path: str | Path) -> VideoTrainSettings:
    """Read a video training YAML strictly (:mod:`ct1_sim.config_loading`): unknown keys (also inside ``depth`` and
    ``denoise``) and values of the wrong type are a ``ValueError`` naming the file and the key."""
    return load_yaml_config(VideoTrainSettings, path, example="model/configs/ct1-video-v2.yaml")


class _StageRunner(TrainingRun):
    """The :class:`~ct1_sim.training_loop.TrainingRun` of one stage (optimiser, lr, EMA, checkpoints in
    ``out/checkpoints/<name>``, resume); ``param_groups``: optional AdamW groups, each with an ``lr_scale`` (its share
    of the stage's lr)."""

    def __init__(self, name: str, module: torch.nn.Module, s: StageSettings, out: Path, ema_decay: float, rank: int,
                 param_groups: list[dict[str, Any]] | None = None, checkpoint_every: int | None = None) -> None:
        super().__init__(module, out / "checkpoints" / name, lr=s.lr, total_steps=s.steps, warmup_steps=s.warmup_steps,
                         ema_decay=ema_decay, ema_warmup=True, param_groups=param_groups, rank=rank,
                         checkpoint_every=checkpoint_every)
        self.name = name


#: The stages of ``ct1-sim train video``, in order; each can run alone (``stages=``), the generator does not need the depth.
STAGES = ("depth", "generator")


def init_from_pipeline(depth_net: MobileNetDepth, denoiser: InpaintDenoiser, folder: Path) -> None:
    """Load a saved pipeline's weights into fresh components (a checkpoint of a resumed run overrides them). Parameters
    the new configs add (e.g. the depth refinement head, zero-initialised) keep their initial values; any other
    mismatch is a ``ValueError`` naming the keys."""
    from safetensors.torch import load_file

    for name, module in (("depth_net", depth_net), ("denoiser", denoiser)):
        path = folder / name / "diffusion_pytorch_model.safetensors"
        if not path.is_file():
            raise ValueError(f"init_from: {path} not found; give a folder saved by `ct1-sim train video` (e.g. model/ct1-video-small)")
        result = module.load_state_dict(load_file(str(path)), strict=False)
        if result.unexpected_keys or any(not k.startswith("refine.") for k in result.missing_keys):
            raise ValueError(f"init_from: {path} does not fit the config's {name}: missing {result.missing_keys[:5]}, "
                             f"unexpected {result.unexpected_keys[:5]}")
    log.info("started from the weights of %s", folder)


def train_video_model(
    data: str | Path, config_path: str | Path, out: str | Path, *, device: str = "cpu",
    depth_steps: int | None = None, denoise_steps: int | None = None, seed: int | None = None,
    stages: tuple[str, ...] = STAGES,
) -> CameraControlledVideoPipeline | None:
    """Train (or resume) the given stages; after the last stage with both trained, saves the pipeline (EMA weights)
    to ``out`` and returns it (None when a stage is still missing)."""
    unknown = sorted(set(stages) - set(STAGES))
    if unknown or not stages:
        raise ValueError(f"unknown video training stages {unknown}; choose from {list(STAGES)}")
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
        log.warning("video training runs on the CPU; %s is not used by it yet", dev)
    store = ClipStore.open(data)
    train_ids, val_ids = store.split_ids("train"), store.split_ids("val", s.val_clips)
    if not train_ids:
        raise ValueError(f"{data} has no clips with meta split='train'; render some with `ct1-sim scenarios render`")
    torch.manual_seed(s.seed)
    depth_net, denoiser = MobileNetDepth(**s.depth_net), InpaintDenoiser(**s.denoiser)
    if s.init_from:
        init_from_pipeline(depth_net, denoiser, Path(s.init_from))
    log.info("video training on %d clips (%d val): depth net %.2fM, generator %.2fM parameters; stages %s", len(train_ids),
             len(val_ids), sum(p.numel() for p in depth_net.parameters()) / 1e6, sum(p.numel() for p in denoiser.parameters()) / 1e6,
             ", ".join(stages))
    if "depth" in stages and s.depth.steps > 0:
        train_depth_stage(depth_net, store, train_ids, val_ids, s, out, rank, world, _StageRunner)
    if "generator" in stages and s.denoise.steps > 0:
        train_generator_stage(denoiser, store, train_ids, val_ids, s, out, rank, world, _StageRunner,
                              max_depth_m=depth_net.config.max_depth_m)
    if world > 1:
        dist.barrier()  # rank 0 writes the checkpoints the check below reads
    missing, history = [], {}
    for name, module, stage in (("depth", depth_net, s.depth), ("generator", denoiser, s.denoise)):
        if stage.steps == 0:  # kept as init_from gave it
            module.eval().requires_grad_(False)
            continue
        ckpt = latest_checkpoint(out / "checkpoints" / name)
        step, _, ema, _, extra = load_checkpoint(ckpt) if ckpt is not None else (0, None, None, None, {})
        if step < stage.steps:
            missing.append(name)
            continue
        module.load_state_dict(ema)
        module.eval().requires_grad_(False)
        history[name] = extra.get("history", [])
    if missing:
        log.info("stages still to train: %s (run the command again with them)", ", ".join(missing))
        return None
    pipe = build_pipeline(depth_net, denoiser)
    if rank == 0:
        pipe.save_pretrained(out)
        record: dict[str, Any] = {"settings": asdict(s), "data": str(data), "train_clips": len(train_ids), "history": history}
        base_log = Path(s.init_from) / "training_log.json" if s.init_from else None
        if base_log is not None and base_log.is_file():
            record["init_from_log"] = json.loads(base_log.read_text())  # how the weights it started from were trained
        (out / "training_log.json").write_text(json.dumps(record, indent=1, default=list))
        log.info("saved the video pipeline to %s", out)
    if world > 1:
        dist.barrier()
    return pipe
