"""The trainer loop's bookkeeping, shared by every model: AdamW, warm-up + cosine learning rate, gradient clipping, an
EMA of the weights, periodic checkpoints in safetensors, resume, and a data-set fingerprint.

A :class:`TrainingRun` holds one optimisation (a model, or one stage of a model). The caller draws batches and
computes the loss; ``run.step(step, loss)`` does the rest::

    run = TrainingRun(model, out / "checkpoints", lr=5e-4, total_steps=4000, warmup_steps=100, ema_decay=0.998,
                      checkpoint_every=250, fingerprint=DataFingerprint.of("my.zarr (18 train clips)", records))
    for step in range(run.start, 4000):          # run.start > 0 when it resumed from a checkpoint in that folder
        run.step(step, loss_of(model, step))
        run.save_if_due(step + 1)
    run.load_ema()                               # the EMA weights are what a trainer saves

Resuming a checkpoint that was made on other data is refused (``ValueError`` naming both data sets): the fingerprint
of the data a run trains on is stored in every checkpoint. Checkpoint layout (``FOLDER/step_NNNNNNN/``):
``weights.safetensors``, ``ema.safetensors``, ``optimizer.safetensors`` (tensors) and ``state.json`` (step,
optimizer scalars and parameter groups, ``history``, ``data`` fingerprint and the caller's extra keys); each is
written to a staging folder and renamed into place, and only the newest ``keep`` are kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ct1_sim.atomic_files import clean_dead_staging, staged_folder

log = logging.getLogger(__name__)

_STAGING = ".staging"


def warmup_cosine_lr(step: int, lr: float, warmup_steps: int, total_steps: int, floor: float = 0.05) -> float:
    """Linear warm-up over ``warmup_steps``, then cosine decay to ``floor * lr`` at ``total_steps`` (``step`` from 0)."""
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


@dataclass(frozen=True)
class DataFingerprint:
    """What a run trains on: ``description`` for people (e.g. ``"out/data/x.zarr (2160 train clips)"``) and
    ``digest``, the SHA-256 of the training items, which decides whether two data sets are the same."""

    description: str
    digest: str

    @classmethod
    def of(cls, description: str, items: Iterable[Any]) -> DataFingerprint:
        """Fingerprint of JSON-serialisable ``items`` in order (e.g. ``(clip id, clip metadata)`` pairs)."""
        h = hashlib.sha256()
        for item in items:
            h.update(json.dumps(item, sort_keys=True, default=str).encode())
            h.update(b"\n")
        return cls(description, h.hexdigest())

    def __str__(self) -> str:
        return f"{self.description}, fingerprint {self.digest[:12]}"


def latest_checkpoint(folder: str | Path) -> Path | None:
    """The newest complete checkpoint folder in ``folder`` (``step_NNNNNNN`` with a ``state.json``), or None."""
    done = sorted(p for p in Path(folder).glob("step_*") if (p / "state.json").is_file())
    return done[-1] if done else None


def read_checkpoint_state(path: str | Path) -> dict[str, Any]:
    """A checkpoint's ``state.json``: ``step``, ``history``, ``data`` (its fingerprint, or None) and extra keys."""
    return json.loads((Path(path) / "state.json").read_text())


class Checkpoint(NamedTuple):
    """One checkpoint folder, read back: what :meth:`TrainingRun.checkpoint` wrote."""

    step: int
    weights: dict[str, torch.Tensor]  # the trained state after ``step`` steps (CPU)
    ema: dict[str, torch.Tensor]  # its EMA (CPU)
    optimizer: dict[str, Any]  # the optimizer's state dict
    extra: dict[str, Any]  # the rest of state.json: ``history``, ``data`` (fingerprint or None), the trainer's keys


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read the checkpoint folder ``path`` (e.g. :func:`latest_checkpoint`'s)."""
    path = Path(path)
    meta = read_checkpoint_state(path)
    optimizer = _unflatten_optimizer(load_file(str(path / "optimizer.safetensors")), meta.pop("optimizer"))
    step = int(meta.pop("step"))
    return Checkpoint(step, load_file(str(path / "weights.safetensors")), load_file(str(path / "ema.safetensors")), optimizer, meta)


def check_resume(folder: str | Path, fingerprint: DataFingerprint | None) -> Path | None:
    """The checkpoint a run in ``folder`` would resume from (None: it starts afresh), after checking that it was made
    on the data of ``fingerprint`` (``ValueError`` naming both data sets otherwise). Cheap: call it before slow
    set-up work. A checkpoint that records no fingerprint (written before they were recorded) resumes with a warning."""
    ckpt = latest_checkpoint(folder)
    if ckpt is None or fingerprint is None:
        return ckpt
    saved = read_checkpoint_state(ckpt).get("data")
    if saved is None:
        log.warning("%s records no data-set fingerprint; resuming it on %s without checking", ckpt, fingerprint)
    elif saved["digest"] != fingerprint.digest:
        old = DataFingerprint(saved["description"], saved["digest"])
        raise ValueError(f"{ckpt} was trained on {old}, but this run trains on {fingerprint}: a resumed run must "
                         f"use the data it started on; give a new output folder to train afresh (or delete {Path(folder)})")
    return ckpt


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {}
    for pid, pstate in state["state"].items():
        for key, value in pstate.items():
            name = f"{pid}.{key}"
            if isinstance(value, torch.Tensor):
                tensors[name] = value.detach().cpu().contiguous()
            else:
                scalars[name] = value
    return tensors, {"scalars": scalars, "param_groups": state["param_groups"]}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in list(tensors.items()) + list(meta["scalars"].items()):
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def _cpu(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in tensors.items()}


class TrainingRun:
    """Optimiser, learning rate, EMA, checkpoints and resume of one optimisation (see the module docstring).

    Args:
        module: the model (or stage) being trained; not a DistributedDataParallel wrapper (wrap it for the forward).
        folder: where checkpoints go; the newest complete one there is resumed (weights, EMA, optimizer, history).
        lr, total_steps, warmup_steps: :func:`warmup_cosine_lr`; each parameter group's lr is that times its
            ``lr_scale`` (1 when absent).
        ema_decay: per step, ``ema = decay * ema + (1 - decay) * weights`` over the floating-point state (other
            entries are copied).
        ema_warmup: use ``min(ema_decay, (1 + step) / (10 + step))`` instead (as diffusers' ``EMAModel``), so the
            average forgets the initial weights within the first few hundred steps; off: the plain decay.
        weight_decay: AdamW's.
        grad_clip: largest gradient norm (None: no clipping).
        checkpoint_every: :meth:`save_if_due` saves every this many steps and at ``total_steps``.
        param_groups: AdamW groups (dicts with ``params`` and optionally ``lr_scale``); default one group of every
            trained parameter.
        frozen_prefix: state-dict keys (and parameters) starting with it are frozen: not optimised, averaged or saved
            (e.g. pretrained encoders that come from installed packages).
        fingerprint: the data this run trains on; resuming a checkpoint made on other data is a ``ValueError``.
        rank: the process's rank; only rank 0 writes checkpoints.
        keep: how many checkpoints to keep.
    """

    def __init__(
        self,
        module: nn.Module,
        folder: str | Path,
        *,
        lr: float,
        total_steps: int,
        warmup_steps: int,
        ema_decay: float,
        ema_warmup: bool = False,
        weight_decay: float = 0.0,
        grad_clip: float | None = 1.0,
        checkpoint_every: int | None = None,
        param_groups: list[dict[str, Any]] | None = None,
        frozen_prefix: str | None = None,
        fingerprint: DataFingerprint | None = None,
        rank: int = 0,
        keep: int = 2,
    ) -> None:
        if not 0 <= ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {ema_decay}")
        self.module, self.folder = module, Path(folder)
        self.lr, self.total_steps, self.warmup_steps = lr, total_steps, warmup_steps
        self.ema_decay, self.ema_warmup, self.grad_clip, self.checkpoint_every = ema_decay, ema_warmup, grad_clip, checkpoint_every
        self.frozen_prefix, self.fingerprint, self.rank, self.keep = frozen_prefix, fingerprint, rank, keep
        groups = param_groups or [{"params": [p for n, p in module.named_parameters() if not self._frozen(n)]}]
        self.optimizer = torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)
        self.params = [p for g in self.optimizer.param_groups for p in g["params"]]
        self.ema = {k: v.detach().clone() for k, v in self.state().items()}
        self.start, self.history, self.extra = 0, [], {}
        self.resumed_from = check_resume(self.folder, fingerprint)
        if self.resumed_from is not None:
            self._resume(self.resumed_from)

    def _frozen(self, name: str) -> bool:
        return self.frozen_prefix is not None and name.startswith(self.frozen_prefix)

    def state(self) -> dict[str, torch.Tensor]:
        """The trained state (the module's state dict without frozen entries)."""
        return {k: v for k, v in self.module.state_dict().items() if not self._frozen(k)}

    def _load(self, weights: dict[str, torch.Tensor], what: str) -> None:
        hint = "was it made with another model config? Train into a new folder"
        try:
            missing, unexpected = self.module.load_state_dict(weights, strict=False)
        except RuntimeError as err:  # tensors of other shapes
            detail = " ".join(str(err).split())
            raise ValueError(f"{what} does not fit the {type(self.module).__name__} being trained ({detail}): {hint}") from None
        missing = [k for k in missing if not self._frozen(k)]
        if missing or unexpected:
            raise ValueError(f"{what} does not fit the {type(self.module).__name__} being trained (missing {missing[:5]}, "
                             f"unexpected {unexpected[:5]}): {hint}")

    def _resume(self, path: Path) -> None:
        saved = load_checkpoint(path)
        self._load(saved.weights, str(path))
        device = next(iter(self.ema.values())).device if self.ema else torch.device("cpu")
        self.ema = {k: v.to(device) for k, v in saved.ema.items()}
        self.optimizer.load_state_dict(saved.optimizer)
        self.start = saved.step
        self.history = saved.extra.get("history", [])
        self.extra = {k: v for k, v in saved.extra.items() if k not in ("history", "data")}
        log.info("resumed from %s (step %d)", path, self.start)

    # ------------------------------------------------------------------ per step
    def lr_at(self, step: int) -> float:
        """The base learning rate at ``step`` (from 0)."""
        return warmup_cosine_lr(step, self.lr, self.warmup_steps, self.total_steps)

    def step(self, step: int, loss: torch.Tensor) -> None:
        """One optimiser step on ``loss`` at ``step`` (from 0): learning rate, backward, clipping, AdamW, EMA."""
        lr = self.lr_at(step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        self.optimizer.step()
        decay = min(self.ema_decay, (1 + step) / (10 + step)) if self.ema_warmup else self.ema_decay
        with torch.no_grad():
            for k, v in self.state().items():
                if v.dtype.is_floating_point:
                    self.ema[k].mul_(decay).add_(v.detach(), alpha=1 - decay)
                else:
                    self.ema[k].copy_(v)

    # ------------------------------------------------------------------ EMA
    def load_ema(self) -> None:
        """Put the EMA weights into the module (what a finished run saves)."""
        self._load(self.ema, "the EMA weights")

    @contextmanager
    def ema_weights(self) -> Iterator[nn.Module]:
        """The module with the EMA weights inside the block (for validation); its own weights come back after."""
        live = {k: v.clone() for k, v in self.state().items()}
        self.load_ema()
        try:
            yield self.module
        finally:
            self._load(live, "the live weights")

    # ------------------------------------------------------------------ checkpoints
    def save_if_due(self, done: int, **extra: Any) -> Path | None:
        """:meth:`checkpoint` when ``done`` steps are a multiple of ``checkpoint_every`` or all ``total_steps``."""
        due = done == self.total_steps or (self.checkpoint_every is not None and done % self.checkpoint_every == 0)
        return self.checkpoint(done, **extra) if due else None

    def checkpoint(self, done: int, **extra: Any) -> Path | None:
        """Write ``folder/step_NNNNNNN`` after ``done`` steps (rank 0 only; JSON-serialisable ``extra`` keys go to its
        ``state.json``), keep the newest ``keep``; returns its path (None on other ranks)."""
        if self.rank != 0:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = self.folder / _STAGING
        clean_dead_staging(staging)
        final = self.folder / f"step_{done:07d}"
        opt_tensors, opt_meta = _flatten_optimizer(self.optimizer.state_dict())
        data = None if self.fingerprint is None else {"description": self.fingerprint.description, "digest": self.fingerprint.digest}
        with staged_folder(final, staging, replace=True) as tmp:
            save_file(_cpu(self.state()), str(tmp / "weights.safetensors"))
            save_file(_cpu(self.ema), str(tmp / "ema.safetensors"))
            save_file(opt_tensors, str(tmp / "optimizer.safetensors"))
            state = {**extra, "step": done, "optimizer": opt_meta, "history": self.history, "data": data}
            (tmp / "state.json").write_text(json.dumps(state, indent=1))
        for old in sorted(self.folder.glob("step_*"))[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)
        return final
