"""Write ``MODEL_CARD.md`` for a trained trajectory model from its training log and evaluation metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _row(name: str, m: dict[str, float]) -> str:
    keys = ("min_ade", "min_fde", "mean_ade", "ade", "l2_1s", "l2_2s", "l2_3s", "rot_err_deg", "jerk", "compliance", "diversity")
    return f"| {name} | " + " | ".join(f"{m[k]:.3f}" if k in m else "-" for k in keys) + " |"


def write_model_card(model_dir: Path, metrics: dict[str, Any], commands: dict[str, str], notes: list[str]) -> Path:
    """Model card with the config, the data, measured metrics of every method and the reproducing commands."""
    config = json.loads((model_dir / "config.json").read_text())
    log = json.loads((model_dir / "training_log.json").read_text()) if (model_dir / "training_log.json").is_file() else {}
    size_mb = (model_dir / "model.safetensors").stat().st_size / 1e6
    s = log.get("settings", {})
    lines = [
        "# ct1-tiny — CT-1 trajectory model (CPU-trained)", "",
        "Image + instruction (+ ego speed) -> K camera trajectories (16 poses, 5 Hz, metres, relative to the current OpenCV camera).",
        "", "## Model", "",
        f"- Frozen backbones: ImageNet MobileNetV2 (224x128 input, 4x7 tokens) + all-MiniLM-L6-v2, from installed wheels (not in this file).",
        f"- Trainable: fusion transformer ({config['fusion_layers']} layers x {config['hidden_size']}) + trajectory DiT ({config['dit_layers']} layers x "
        f"{config.get('dit_hidden_size') or config['hidden_size']}, {config['dit_heads']} heads, MLP x{config['mlp_ratio']} "
        f"{config.get('dit_activation', 'gelu_tanh')}, adaLN-Zero, cross-attention); `model.safetensors` {size_mb:.1f} MB.",
        f"- Diffusion: DDPM {config['beta_schedule']} {config['train_timesteps']} steps, {config['repeated_diffusion_steps']} noisings per sample, "
        f"condition dropout {config['cond_dropout']}, speed dropout {config['speed_dropout']}; inference DDIM {config['inference_steps']} steps, "
        f"CFG {config['guidance_scale']}.",
        f"- Wavelet loss: {config['wavelet']}, {config['wavelet_levels']} levels, weight {config['wavelet_weight']} (x0_hat clamped to "
        f"+-{config.get('wavelet_x0_clip')} in normalised units).",
        "", "## Training data", "",
        f"- {log.get('train_clips', '?')} clips of the scenario generator's train split (`{log.get('data', '?')}`), "
        f"{s.get('augment_variants', '?')} augmentation variants each (flip with mirrored path and swapped left/right, colour jitter, crop).",
        f"- {s.get('steps', '?')} steps, batch {s.get('batch_size', '?')}, AdamW lr {s.get('lr', '?')}, EMA {s.get('ema_decay', '?')}, seed {s.get('seed', '?')}, on 2 CPU cores.",
        "", f"## Held-out evaluation ({metrics['split']} split: unseen seeds and layouts, {metrics['clips']} clips, K={metrics['num_samples']}, speed given)", "",
        "| method | minADE@K | minFDE@K | mean ADE (K) | ADE (1st) | L2@1s | L2@2s | L2@3s | rot err (deg) | jerk (m/s^3) | compliance | diversity (m) |",
        "|" + " --- |" * 12,
    ]
    lines += [_row(name, m) for name, m in metrics["methods"].items()]
    lines += ["", "Per maneuver (minADE@K m / compliance):", ""]
    for name, per in metrics["per_maneuver"].items():
        lines.append(f"- {name}: " + "; ".join(f"{k} ({v['clips']}): {v['min_ade']:.2f} / {v['compliance']:.2f}" for k, v in per.items()))
    lines += ["", "## Reproduce", ""] + [f"- {what}: `{cmd}`" for what, cmd in commands.items()]
    lines += ["", "## Notes", ""] + [f"- {n}" for n in notes] + [""]
    path = model_dir / "MODEL_CARD.md"
    path.write_text("\n".join(lines))
    return path
