"""``ct1-sim eval trajectory``: the model, its no-wavelet ablation and image-blind baselines on a held-out split.

Every method gets the same test clips and the same current speed. Reported per method: minADE@K, minFDE@K,
ADE/FDE of the first sample, mean ADE over the K samples, L2 at 1/2/3 s (first sample, error at that time),
rotation error (deg, first sample), jerk (m/s^3, mean over samples), instruction compliance (share of
samples whose maneuver, read off the path by ``classify_maneuver``, equals the instructed one) and diversity
(mean pairwise distance between the K endpoints, m).
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
from ct1_sim.geometry import CameraTrajectory
from ct1_sim.metrics import classify_maneuver, jerk, l2_at, rotation_error_deg
from ct1_sim.trajectory.baselines import ManeuverLibrary, constant_velocity
from ct1_sim.trajectory.features import clip_speed
from ct1_sim.trajectory.pipeline_ct1 import CT1TrajectoryPipeline

log = logging.getLogger(__name__)


def _traj(c2w: np.ndarray, like: CameraTrajectory) -> CameraTrajectory:
    return CameraTrajectory(c2w=c2w, K=like.K, image_size=like.image_size, timestamps_us=like.timestamps_us)


def score_samples(samples: list[CameraTrajectory], gt: CameraTrajectory, maneuver: str) -> dict[str, float]:
    """Metrics of K samples against the ground truth (both relative to their first pose)."""
    gt_rel = gt.relative_to_first()
    P = np.stack([s.relative_to_first().positions for s in samples])  # (K,T,3)
    d = np.linalg.norm(P - gt_rel.positions[None], axis=-1)  # (K,T)
    ade, fde = d.mean(1), d[:, -1]
    ends = P[:, -1]
    pair = np.linalg.norm(ends[:, None] - ends[None], axis=-1)
    k = len(samples)
    row = {
        "min_ade": float(ade.min()),
        "min_fde": float(fde.min()),
        "ade": float(ade[0]),
        "fde": float(fde[0]),
        "mean_ade": float(ade.mean()),
        "rot_err_deg": float(rotation_error_deg(samples[0], gt)),
        "jerk": float(np.mean([jerk(s) for s in samples])),
        "compliance": float(np.mean([classify_maneuver(s) == maneuver for s in samples])),
        "diversity": float(pair.sum() / (k * (k - 1))) if k > 1 else 0.0,
    }
    for sec in (1, 2, 3):
        if gt.times_s[-1] >= sec - 1e-9:
            row[f"l2_{sec}s"] = float(l2_at(samples[0], gt, float(sec)))
    return row


def build_library(store: ClipStore, split: str = "train", sources: set[str] | None = None) -> ManeuverLibrary:
    """Baseline library from a split's ground-truth paths; with ``sources``, only clips whose ``meta["source"]`` is
    one of them (the evaluated clips' own kind: a store may also hold town drives, whose labels are the announced
    maneuver rather than the path's)."""
    lib = ManeuverLibrary()
    for clip_id in store.split_ids(split):
        meta = store.meta(clip_id)
        if sources is not None and meta.get("source") not in sources:
            continue
        lib.add(meta["maneuver"], store.read_trajectory(clip_id).relative_to_first().c2w, clip_speed(store, clip_id, meta))
    return lib


def first_clips(ids: list[str], max_clips: int | None, what: str) -> list[str]:
    """The first ``max_clips`` of ``ids`` (all when None); a count that is not a whole number from 1 to ``len(ids)`` is
    a ``ValueError`` naming ``what`` the ids are."""
    if max_clips is None:
        return ids
    if isinstance(max_clips, bool) or not isinstance(max_clips, int) or not 1 <= max_clips <= len(ids):
        raise ValueError(f"max_clips must be a whole number from 1 to {len(ids)} ({what}), got {max_clips!r}")
    return ids[:max_clips]


def evaluate(
    data: str | Path,
    model_dirs: dict[str, Path],
    *,
    num_samples: int = 8,
    seed: int = 0,
    split: str = "test",
    max_clips: int | None = None,
    device: str = "auto",
    batch_size: int = 16,
) -> dict[str, Any]:
    """Mean metrics per method (``model_dirs`` names -> folders, plus the three baselines) and per maneuver, on the
    first ``max_clips`` clips of ``split`` (all when None; more than the split holds, or fewer than 1, is an error)."""
    store = ClipStore.open(data)
    ids = store.split_ids(split)
    if not ids:
        raise ValueError(f"{data} has no clips with split={split!r}")
    ids = first_clips(ids, max_clips, f"the clips of {data}'s {split!r} split")
    library = build_library(store, sources={store.meta(i).get("source") for i in ids})
    rng = np.random.default_rng(seed)
    clips = []
    for clip_id in ids:
        meta = store.meta(clip_id)
        clips.append((clip_id, store.read_frames(clip_id, [0])[0], store.read_trajectory(clip_id), meta["instruction"], meta["maneuver"], clip_speed(store, clip_id, meta)))
    predictions: dict[str, list[list[CameraTrajectory]]] = {}
    for name, folder in model_dirs.items():
        pipe = CT1TrajectoryPipeline.from_pretrained(folder, device=device)
        g = torch.Generator().manual_seed(seed)
        out: list[list[CameraTrajectory]] = []
        for i in tqdm(range(0, len(clips), batch_size), desc=f"sampling {name}", unit="batch"):
            chunk = clips[i : i + batch_size]
            res = pipe([c[1] for c in chunk], [c[3] for c in chunk], speed=[c[5] for c in chunk], num_samples=num_samples, generator=g).trajectories
            out += [[_traj(s.c2w, c[2]) for s in samples] for samples, c in zip(res, chunk, strict=True)]
        predictions[name] = out
    T, rate = len(clips[0][2]), 1e6 / float(np.diff(clips[0][2].timestamps_us).mean())
    predictions["baseline_a_library"] = [[_traj(p, c[2]) for p in library.sample(c[4], c[5], num_samples, rng)] for c in clips]
    predictions["baseline_b_mean_path"] = [[_traj(library.mean(c[4], c[5]), c[2])] * num_samples for c in clips]
    predictions["baseline_c_constant_velocity"] = [[_traj(constant_velocity(c[5], T, rate), c[2])] * num_samples for c in clips]

    results: dict[str, Any] = {"clips": len(clips), "num_samples": num_samples, "split": split, "methods": {}, "per_maneuver": {}}
    for name, preds in predictions.items():
        rows = [score_samples(p, c[2], c[4]) for p, c in zip(preds, clips, strict=True)]
        results["methods"][name] = {k: float(np.mean([r[k] for r in rows if k in r])) for k in rows[0]}
        by_m: dict[str, list[dict[str, float]]] = {}
        for r, c in zip(rows, clips, strict=True):
            by_m.setdefault(c[4], []).append(r)
        results["per_maneuver"][name] = {m: {"clips": len(rs), "min_ade": float(np.mean([r["min_ade"] for r in rs])),
                                             "compliance": float(np.mean([r["compliance"] for r in rs]))} for m, rs in sorted(by_m.items())}
    return results


def write_report(results: dict[str, Any], report_dir: Path) -> Path:
    """``report.md`` + ``metrics.json`` in ``report_dir``."""
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "metrics.json").write_text(json.dumps(results, indent=2))
    keys = ["min_ade", "min_fde", "ade", "fde", "mean_ade", "l2_1s", "l2_2s", "l2_3s", "rot_err_deg", "jerk", "compliance", "diversity"]
    lines = [f"# Trajectory evaluation ({results['split']} split, {results['clips']} clips, K={results['num_samples']})", "",
             "| method | " + " | ".join(keys) + " |", "|" + " --- |" * (len(keys) + 1)]
    for name, m in results["methods"].items():
        lines.append(f"| {name} | " + " | ".join(f"{m[k]:.3f}" if k in m else "-" for k in keys) + " |")
    lines += ["", "Per maneuver (minADE@K m / compliance):", ""]
    for name, per in results["per_maneuver"].items():
        lines.append(f"- **{name}**: " + "; ".join(f"{k} ({v['clips']}): {v['min_ade']:.2f} / {v['compliance']:.2f}" for k, v in per.items()))
    (report_dir / "report.md").write_text("\n".join(lines) + "\n")
    return report_dir / "report.md"
