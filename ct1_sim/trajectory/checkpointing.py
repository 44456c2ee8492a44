"""Resumable training checkpoints in safetensors (weights, EMA, optimizer state) + JSON (step, settings)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file


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


def save_checkpoint(
    folder: Path, step: int, weights: dict[str, torch.Tensor], ema: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer, extra: dict[str, Any]
) -> Path:
    """Write ``folder/step_NNNNNNN`` atomically (a temp folder renamed into place) and keep the last two."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"step_{step:07d}"
    tmp = folder / f".tmp_step_{step:07d}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_file({k: v.detach().cpu().contiguous() for k, v in weights.items()}, str(tmp / "weights.safetensors"))
    save_file({k: v.detach().cpu().contiguous() for k, v in ema.items()}, str(tmp / "ema.safetensors"))
    opt_tensors, opt_meta = _flatten_optimizer(optimizer.state_dict())
    save_file(opt_tensors, str(tmp / "optimizer.safetensors"))
    (tmp / "state.json").write_text(json.dumps({"step": step, "optimizer": opt_meta, **extra}, indent=1))
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for old in sorted(folder.glob("step_*"))[:-2]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest complete checkpoint folder, or None."""
    done = sorted(p for p in folder.glob("step_*") if (p / "state.json").is_file())
    return done[-1] if done else None


def load_checkpoint(path: Path) -> tuple[int, dict[str, torch.Tensor], dict[str, torch.Tensor], dict[str, Any], dict[str, Any]]:
    """``(step, weights, ema, optimizer_state_dict, extra)`` of a checkpoint folder."""
    meta = json.loads((path / "state.json").read_text())
    optimizer = _unflatten_optimizer(load_file(str(path / "optimizer.safetensors")), meta.pop("optimizer"))
    step = int(meta.pop("step"))
    return step, load_file(str(path / "weights.safetensors")), load_file(str(path / "ema.safetensors")), optimizer, meta
