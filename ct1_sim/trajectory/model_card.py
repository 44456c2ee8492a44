"""Write ``MODEL_CARD.md`` for a trained trajectory model from its training log and evaluation metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _row(name: str, m: dict[str, float]) -> str:
    keys = ("min_ade", "min_fde", "mean_ade", "ade", "l2_1s", "l2_2s", "l2_3s", "rot_err_deg", "jerk", "compliance", "diversity")
    return f"| {name} | " + " | ".join(f"{m[k]:.3f}" if k in m else "-" for k in keys) + " |"


def instruction_section(results: dict[str, Any]) -> list[str]:
    """Card lines for ``ct1-sim eval instructions`` results: parser accuracy, compliance by phrasing, off-road, speed words."""
    lines = [(f"## Instructions ({results['split']} split, {results['clips']} clips, K={results['num_samples']}, "
              f"{results['queries_per_model']} queries per model)"), "",
             ("| model | parser: train / test / probe / speed-idiom probe phrasings | compliance: recorded / train / held-out phrasing | off-road: true / other / worst "
              "instruction | slow down | speed up | keep speed | stop |"), "|" + " --- |" * 8]
    for name, r in results["models"].items():
        p, c, sw = r["parser"], r["compliance"], r["speed_words"]
        lines.append(
            f"| {name} | {p['train']['accuracy']:.3f} / {p['test']['accuracy']:.3f} / {p['probe']['accuracy']:.3f} / {p.get('probe_speed', {}).get('accuracy', float('nan')):.3f} | "
            f"{c['recorded']:.3f} / {c['train_phrasing']:.3f} / {c['test_phrasing']:.3f} | {100 * r['offroad_true_instruction']:.2f} % / "
            f"{100 * r['offroad_other_instructions']:.2f} % / {100 * r['offroad_worst_instruction']:.2f} % | "
            + " | ".join(f"{sw[w]['all_clips']:.3f} ({sw[w]['clips_whose_road_allows_it']:.3f})" for w in ("slow_down", "speed_up", "keep_speed", "stop")) + " |")
    lines += ["", "Off-road share of sampled paths per instruction (held-out phrasings, every instruction on every image): "]
    for name, r in results["models"].items():
        lines.append(f"- {name}: " + ", ".join(f"{m} {100 * v:.2f} %" for m, v in r["offroad_by_instruction"].items())
                     + f"; parser maneuver accuracy train / test / probe {r['parser']['train']['maneuver_accuracy']:.3f} / "
                     f"{r['parser']['test']['maneuver_accuracy']:.3f} / {r['parser']['probe']['maneuver_accuracy']:.3f}; "
                     f"held-out phrasing compliance by maneuver: " + "; ".join(
                         f"{m} ({v['clips']}) {v['compliance']:.2f}" for m, v in r["test_phrasing_compliance_by_maneuver"].items()))
    lines += ["", ("Speed words: share of clips where the K samples moved the instructed way against a neutral phrasing on the same "
              "image (all clips, and in brackets the clips whose road allows it: not a stop scenario, a way straight on)."), ""]
    return lines


def write_model_card(model_dir: Path, metrics: dict[str, Any], commands: dict[str, str], notes: list[str],
                     instructions: dict[str, Any] | None = None, data_line: str | None = None,
                     sections: list[str] | None = None) -> Path:
    """Model card with the config, the data (``data_line`` says what the training clips were, when the scenario
    generator's train split alone does not), measured metrics of every method, the instruction measurements (when
    given), extra ``sections`` (markdown lines) and the reproducing commands."""
    config = json.loads((model_dir / "config.json").read_text())
    log = json.loads((model_dir / "training_log.json").read_text()) if (model_dir / "training_log.json").is_file() else {}
    size_mb = (model_dir / "model.safetensors").stat().st_size / 1e6
    parser = json.loads((model_dir / "instruction_parser.json").read_text()) if (model_dir / "instruction_parser.json").is_file() else {}
    s = log.get("settings", {})
    data = data_line or f"{log.get('train_clips', '?')} clips of the scenario generator's train split"
    lines = [
        "# ct1-tiny — CT-1 trajectory model (CPU-trained)", "",
        "Image + instruction (+ ego speed) -> K camera trajectories (16 poses, 5 Hz, metres, relative to the current OpenCV camera).",
        "", "## Model", "",
        "- Frozen backbones: ImageNet MobileNetV2 (224x128 input, 4x7 tokens) + all-MiniLM-L6-v2, from installed wheels (not in this file).",
        (f"- Trainable: fusion transformer ({config['fusion_layers']} layers x {config['hidden_size']}) + trajectory DiT ({config['dit_layers']} layers x "
         f"{config.get('dit_hidden_size') or config['hidden_size']}, {config['dit_heads']} heads, MLP x{config['mlp_ratio']} "
         f"{config.get('dit_activation', 'gelu_tanh')}, adaLN-Zero, cross-attention); `model.safetensors` {size_mb:.1f} MB."),
        (f"- Diffusion: DDPM {config['beta_schedule']} {config['train_timesteps']} steps, {config['repeated_diffusion_steps']} noisings per sample, "
         f"condition dropout {config['cond_dropout']}, speed dropout {config['speed_dropout']}; inference DDIM {config['inference_steps']} steps, "
         f"CFG {config['guidance_scale']}."),
        (f"- Wavelet loss: {config['wavelet']}, {config['wavelet_levels']} levels, weight {config['wavelet_weight']} (x0_hat clamped to "
         f"+-{config.get('wavelet_x0_clip')} in normalised units)."),
        *([(f"- Instruction parser (`instruction_parser.safetensors`, trained after the DiT on the paraphrase bank's train phrasings in "
            f"seconds): MiniLM embedding of the side-neutral text -> MLP {parser.get('hidden', '?')} wide -> maneuver class (6 maneuvers, "
            "6 kinds of unsupported request) and speed behaviour; the side from the words. The DiT is conditioned on the parsed intent's "
            "canonical phrase.")] if parser else []),
        "", "## Training data", "",
        (f"- {data} (`{log.get('data', '?')}`), "
         f"{s.get('augment_variants', '?')} augmentation variants each (flip with mirrored path and swapped left/right, colour jitter, crop); "
         f"{100 * (1 - s.get('own_intent_share', 1.0)):.0f} % of the samples told a random intent and driven to what the scene allows for it."),
        f"- {s.get('steps', '?')} steps, batch {s.get('batch_size', '?')}, AdamW lr {s.get('lr', '?')}, EMA {s.get('ema_decay', '?')}, seed {s.get('seed', '?')}, on 2 CPU cores.",
        "", f"## Held-out evaluation ({metrics['split']} split: unseen seeds and layouts, {metrics['clips']} clips, K={metrics['num_samples']}, speed given)", "",
        "| method | minADE@K | minFDE@K | mean ADE (K) | ADE (1st) | L2@1s | L2@2s | L2@3s | rot err (deg) | jerk (m/s^3) | compliance | diversity (m) |",
        "|" + " --- |" * 12,
    ]
    lines += [_row(name, m) for name, m in metrics["methods"].items()]
    lines += ["", "Per maneuver (minADE@K m / compliance):", ""]
    for name, per in metrics["per_maneuver"].items():
        lines.append(f"- {name}: " + "; ".join(f"{k} ({v['clips']}): {v['min_ade']:.2f} / {v['compliance']:.2f}" for k, v in per.items()))
    if instructions is not None:
        lines += [""] + instruction_section(instructions)
    if sections:
        lines += [""] + sections
    lines += ["", "## Reproduce", ""] + [f"- {what}: `{cmd}`" for what, cmd in commands.items()]
    lines += ["", "## Notes", ""] + [f"- {n}" for n in notes] + [""]
    path = model_dir / "MODEL_CARD.md"
    path.write_text("\n".join(lines))
    return path
