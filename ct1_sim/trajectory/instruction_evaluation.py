"""``ct1-sim eval instructions``: how the model follows phrasings it never saw, refuses what the road cannot allow,
and changes speed when told, on a held-out split of scenario clips.

For every clip of the split (unseen seeds and layouts) and every model:

- **compliance by phrasing**: the clip's own request phrased three ways: the scenario's recorded instruction, a
  random *train* phrasing of the paraphrase bank, a random held-out *test* phrasing (templates never trained on);
  compliance = share of the K samples whose maneuver, read off the path, is the clip's label;
- **off-road**: each of the six maneuvers, in a test phrasing, on the same image (the true one and five that the
  scene may not allow); share of sampled paths that leave the drivable area the layout records exactly
  (:mod:`ct1_sim.metrics.drivable_area`);
- **speed words**: "slow down", "speed up", "keep your speed", "stop" (test phrasings) against a neutral test
  phrasing of "keep following the road" on the same image and seed: the share of clips where the K samples' mean
  distance travelled moves the instructed way (slow down: shorter; speed up: longer), most samples stop (stop), or
  the mean end speed stays within max(1 m/s, 20 %) of the start speed (keep your speed). Reported over all clips and
  over the clips whose road allows it (not a stop scenario, a way straight on). The same again in the canonical
  phrasings: what the trajectory model does once the words are read right, apart from the parser.

The parser is measured on the whole bank too: accuracy on the train and on the held-out test phrasings.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from ct1_sim.data import ClipStore
from ct1_sim.data.scenarios.intent_paths import feasible_reference, own_intent
from ct1_sim.language import MANEUVERS, Intent, held_out_phrasing, paraphrase_bank
from ct1_sim.language.paraphrases import probe_phrases
from ct1_sim.metrics import classify_maneuver, classify_speed_behaviour, leaves_drivable_area
from ct1_sim.trajectory.evaluation import first_clips
from ct1_sim.trajectory.features import clip_speed
from ct1_sim.trajectory.instruction_parser import parse_instructions
from ct1_sim.trajectory.modeling_ct1 import CT1TrajectoryModel

log = logging.getLogger(__name__)

SPEED_WORDS = ("slow_down", "speed_up", "keep_speed", "stop")
#: recorded / train / test phrasing, six maneuvers, neutral + four speed words in held-out and in canonical phrasings
QUERIES_PER_CLIP = 3 + 6 + 2 * (1 + len(SPEED_WORDS))


def parser_accuracy(model: CT1TrajectoryModel) -> dict[str, Any]:
    """Accuracy of the model's parser on the bank's train and test phrasings: whole intent and maneuver alone."""
    if model.instruction_parser is None:
        raise ValueError("this model has no instruction parser (a model from before it): retrain with `ct1-sim train trajectory`")
    out: dict[str, Any] = {}
    for split in ("train", "test", "probe", "probe_speed"):
        bank = probe_phrases(split) if split.startswith("probe") else paraphrase_bank(split)
        intents = parse_instructions(model.instruction_parser, lambda t: model.encoder.text_embedding(t).cpu().float(), [p.text for p in bank])
        right_m = [i.maneuver == p.maneuver for p, i in zip(bank, intents, strict=True)]
        right = [m and (i.speed == p.speed or p.maneuver == "stop") for m, p, i in zip(right_m, bank, intents, strict=True)]
        out[split] = {"phrases": len(bank), "accuracy": float(np.mean(right)), "maneuver_accuracy": float(np.mean(right_m))}
    return out


def _queries(clips: list[dict[str, Any]], rng: np.random.Generator) -> list[tuple[int, str, str]]:
    """``(clip index, tag, instruction)`` for every measurement of every clip."""
    out = []
    for i, clip in enumerate(clips):
        maneuver, speed = clip["own"]
        out.append((i, "recorded", clip["instruction"]))
        out.append((i, "train_phrasing", held_out_phrasing(maneuver, speed, rng, split="train")))
        out.append((i, "test_phrasing", held_out_phrasing(maneuver, speed, rng, split="test")))
        for m in MANEUVERS:
            out.append((i, f"offroad:{m}", held_out_phrasing(m, "none", rng)))
        out.append((i, "speed:neutral", held_out_phrasing("straight", "none", rng)))
        for word in SPEED_WORDS:
            out.append((i, f"speed:{word}", held_out_phrasing("stop" if word == "stop" else "straight", "none" if word == "stop" else word, rng)))
        # the same in the canonical phrasing: what the trajectory model does once the words are read right
        out.append((i, "canonical:neutral", Intent.of("straight").canonical_phrase()))
        for word in SPEED_WORDS:
            out.append((i, f"canonical:{word}", Intent.of("stop").canonical_phrase() if word == "stop" else Intent.of("straight", word).canonical_phrase()))
    return out


def evaluate_instructions(
    data: str | Path,
    model_dirs: dict[str, Path],
    *,
    num_samples: int = 8,
    seed: int = 0,
    split: str = "test",
    max_clips: int | None = None,
    device: str = "auto",
    batch_size: int = 32,
) -> dict[str, Any]:
    """The measurements of the module docstring for each model in ``model_dirs`` (name -> folder)."""
    store = ClipStore.open(data)
    ids = [cid for cid in store.split_ids(split) if store.meta(cid).get("drivable")]
    if not ids:
        raise ValueError(f"{data} has no {split!r} scenario clips with a drivable area in their meta: render them with "
                         "`ct1-sim scenarios render` (stores from before it lack it)")
    ids = first_clips(ids, max_clips, f"the scenario clips of {data}'s {split!r} split")
    clips = []
    for cid in ids:
        meta = store.meta(cid)
        traj = store.read_trajectory(cid)
        clips.append({"id": cid, "frame": store.read_frames(cid, [0])[0], "c2w0": traj.c2w[0], "meta": meta, "own": own_intent(meta),
                      "label": meta["maneuver"], "instruction": meta["instruction"], "speed": clip_speed(store, cid, meta),
                      "road_allows_speed": meta.get("family") != "stop" and feasible_reference(meta, "straight")[0] == "straight"})
    queries = _queries(clips, np.random.default_rng(seed))
    results: dict[str, Any] = {"clips": len(clips), "num_samples": num_samples, "split": split, "queries_per_model": len(queries), "models": {}}
    for name, folder in model_dirs.items():
        model = CT1TrajectoryModel.from_pretrained(folder, device=device)
        pipe = model.pipeline
        g = torch.Generator().manual_seed(seed)
        samples: dict[tuple[int, str], np.ndarray | None] = {}  # (clip, tag) -> (K,T,4,4) relative c2w; None: refused
        for start in tqdm(range(0, len(queries), batch_size), desc=f"instructions {name}", unit="batch"):
            chunk = queries[start : start + batch_size]
            intents = model.interpret([text for _, _, text in chunk])
            asked = [q for q, intent in zip(chunk, intents, strict=True) if intent.supported]
            for (i, tag, _), intent in zip(chunk, intents, strict=True):
                if not intent.supported:  # a misread phrasing: no paths, so it complies with nothing and moves no speed
                    samples[(i, tag)] = None
            if not asked:
                continue
            out = pipe([clips[i]["frame"] for i, _, _ in asked], [text for _, _, text in asked],
                       speed=[clips[i]["speed"] for i, _, _ in asked], num_samples=num_samples, generator=g).trajectories
            for (i, tag, _), trajs in zip(asked, out, strict=True):
                samples[(i, tag)] = np.stack([t.relative_to_first().c2w for t in trajs])
        refused = sum(v is None for v in samples.values())
        results["models"][name] = _score(clips, samples, num_samples) | {"parser": parser_accuracy(model), "refused_queries": refused}
    results["examples"] = [{"clip": clips[i]["id"], "tag": tag, "instruction": text} for i, tag, text in queries[: 2 * QUERIES_PER_CLIP]]
    return results


def _score(clips: list[dict[str, Any]], samples: dict[tuple[int, str], np.ndarray | None], k: int) -> dict[str, Any]:
    dt = 1.0 / 5.0

    def comply(i: int, tag: str) -> float:
        paths = samples[(i, tag)]
        return 0.0 if paths is None else float(np.mean([classify_maneuver(p, dt) == clips[i]["label"] for p in paths]))

    compliance = {tag: float(np.mean([comply(i, tag) for i in range(len(clips))])) for tag in ("recorded", "train_phrasing", "test_phrasing")}
    by_label: dict[str, list[float]] = {}
    for i, clip in enumerate(clips):
        by_label.setdefault(clip["label"], []).append(comply(i, "test_phrasing"))
    offroad: dict[str, list[float]] = {m: [] for m in MANEUVERS}
    offroad_true, offroad_other = [], []
    for i, clip in enumerate(clips):
        for m in MANEUVERS:
            paths = samples[(i, f"offroad:{m}")]
            if paths is None:  # refused: no path drives off the road
                share = 0.0
            else:
                share = float(np.mean([leaves_drivable_area(p, clip["meta"]["drivable"]) for p in clip["c2w0"][None] @ paths]))
            offroad[m].append(share)
            (offroad_true if m == clip["own"][0] else offroad_other).append(share)
    return {
        "compliance": compliance,
        "test_phrasing_compliance_by_maneuver": {m: {"clips": len(v), "compliance": float(np.mean(v))} for m, v in sorted(by_label.items())},
        "offroad_by_instruction": {m: float(np.mean(v)) for m, v in offroad.items()},
        "offroad_true_instruction": float(np.mean(offroad_true)),
        "offroad_other_instructions": float(np.mean(offroad_other)),
        "offroad_worst_instruction": float(max(np.mean(v) for v in offroad.values())),
        "speed_words": _speed_words(clips, samples, "speed"),
        "speed_words_canonical": _speed_words(clips, samples, "canonical"),
    }


def _speed_words(clips: list[dict[str, Any]], samples: dict[tuple[int, str], np.ndarray | None], prefix: str) -> dict[str, dict[str, float]]:
    """Per speed word, the share of clips where the samples moved the instructed way (see the module docstring)."""
    dt = 1.0 / 5.0
    speed: dict[str, dict[str, float]] = {}
    for word in SPEED_WORDS:
        hits, allowed = [], []
        for i, clip in enumerate(clips):
            told, neutral = samples[(i, f"{prefix}:{word}")], samples[(i, f"{prefix}:neutral")]
            if told is None or neutral is None:
                hits.append(False)
                if clip["road_allows_speed"]:
                    allowed.append(False)
                continue
            dist_told = np.linalg.norm(told[:, -1, :3, 3], axis=-1).mean()
            dist_neutral = np.linalg.norm(neutral[:, -1, :3, 3], axis=-1).mean()
            if word == "slow_down":
                hit = dist_told < dist_neutral
            elif word == "speed_up":
                hit = dist_told > dist_neutral
            elif word == "stop":
                hit = np.mean([classify_speed_behaviour(p, dt) == "stop" for p in told]) > 0.5
            else:
                v_end = np.linalg.norm(told[:, -1, :3, 3] - told[:, -2, :3, 3], axis=-1).mean() / dt
                hit = abs(v_end - clip["speed"]) <= max(1.0, 0.2 * clip["speed"])
            hits.append(bool(hit))
            if clip["road_allows_speed"]:
                allowed.append(bool(hit))
        speed[word] = {"all_clips": float(np.mean(hits)), "clips_whose_road_allows_it": float(np.mean(allowed)) if allowed else float("nan"),
                       "allowed_clips": len(allowed)}
    return speed


def write_instruction_report(results: dict[str, Any], report_dir: Path) -> Path:
    """``report.md`` + ``metrics.json`` in ``report_dir``."""
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "metrics.json").write_text(json.dumps(results, indent=2))
    lines = [f"# Instruction following ({results['split']} split, {results['clips']} clips, K={results['num_samples']})", ""]
    for name, r in results["models"].items():
        p = r["parser"]
        lines += [f"## {name}", "",
                  (f"- parser accuracy: train phrasings {p['train']['accuracy']:.3f} ({p['train']['phrases']}), held-out test phrasings "
                   f"{p['test']['accuracy']:.3f} ({p['test']['phrases']}), probe phrasings {p['probe']['accuracy']:.3f} ({p['probe']['phrases']}), "
                   f"speed-idiom probe {p['probe_speed']['accuracy']:.3f} ({p['probe_speed']['phrases']}); "
                   f"maneuver alone {p['train']['maneuver_accuracy']:.3f} / {p['test']['maneuver_accuracy']:.3f} / {p['probe']['maneuver_accuracy']:.3f}"),
                  "- compliance: " + ", ".join(f"{k} {v:.3f}" for k, v in r["compliance"].items()),
                  "- held-out phrasing compliance by maneuver: " + "; ".join(
                      f"{m} ({v['clips']}): {v['compliance']:.2f}" for m, v in r["test_phrasing_compliance_by_maneuver"].items()),
                  f"- queries refused as unsupported (misread phrasings): {r['refused_queries']} of {results['queries_per_model']}",
                  (f"- off-road share of sampled paths: true instruction {r['offroad_true_instruction']:.4f}, other instructions "
                   f"{r['offroad_other_instructions']:.4f}, worst instruction {r['offroad_worst_instruction']:.4f}"),
                  "- off-road by instruction: " + ", ".join(f"{m} {v:.4f}" for m, v in r["offroad_by_instruction"].items()),
                  "- speed words, held-out phrasings (share of clips moved the instructed way; all / where the road allows it): " + ", ".join(
                      f"{w} {v['all_clips']:.3f} / {v['clips_whose_road_allows_it']:.3f}" for w, v in r["speed_words"].items()),
                  "- speed words, canonical phrasings (the model alone): " + ", ".join(
                      f"{w} {v['all_clips']:.3f} / {v['clips_whose_road_allows_it']:.3f}" for w, v in r["speed_words_canonical"].items()), ""]
    (report_dir / "report.md").write_text("\n".join(lines) + "\n")
    return report_dir / "report.md"

