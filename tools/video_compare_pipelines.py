"""Video pipelines side by side on the same clips and seeds: PSNR and KID-MobileNetV2 x1000 over frames 1..15 (e.g. a
training candidate against the shipped release, on validation clips before any test-split evaluation).

With a few clips a KID difference is noisy, so each model after the first is also compared with the first on
random halves of the clips (the same halves for both, 200 of them): the median KID difference and the share of
halves where it is lower than the first model's.

Usage: .venv/bin/python tools/video_compare_pipelines.py SPLIT N_CLIPS OUT.json MODEL_DIR [MODEL_DIR ...]
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch

from ct1_sim.data import ClipStore
from ct1_sim.metrics import kernel_distance, psnr
from ct1_sim.pretrained.image_features import ImageFeatures
from ct1_sim.video.evaluation import select_clips
from ct1_sim.video.loading import load_video_pipeline


def paired_halves(truth: list[np.ndarray], first: list[np.ndarray], other: list[np.ndarray], draws: int = 200,
                  seed: int = 0) -> dict[str, float]:
    """KID x1000 of ``other`` minus ``first`` on random halves of the clips (per-clip feature arrays, the same half
    for the truth and both models): the median difference and the share of halves where ``other`` is lower."""
    rng = np.random.default_rng(seed)
    n = len(truth)
    diffs = []
    for _ in range(draws):
        half = rng.choice(n, size=max(2, n // 2), replace=False)
        real = np.concatenate([truth[i] for i in half])
        diffs.append(1000 * (kernel_distance(real, np.concatenate([other[i] for i in half]))
                             - kernel_distance(real, np.concatenate([first[i] for i in half]))))
    return {"median_kid_difference": round(float(np.median(diffs)), 1), "share_lower": round(float(np.mean(np.array(diffs) < 0)), 3)}


def main(split: str, n_clips: str, out: str, *models: str) -> None:
    store = ClipStore.open("out/data/scenarios-v2.zarr")
    ids = select_clips(store, split, int(n_clips))
    truth = [store[cid].frames for cid in ids]
    features = ImageFeatures()
    truth_per_clip = [features(v[1:]) for v in truth]
    truth_features = np.concatenate(truth_per_clip)
    results, per_clip = {}, {}
    for model in models:
        pipe = load_video_pipeline(model, device="cpu")
        videos = []
        for k, cid in enumerate(ids):
            clip = store[cid]
            frames = pipe(image=clip.frames[0], trajectory=clip.trajectory, generator=torch.Generator().manual_seed(k), output_type="np").frames[0]
            videos.append((np.clip(np.asarray(frames), 0, 1) * 255).round().astype(np.uint8))
        p = np.mean([psnr(v[j], t[j]) for v, t in zip(videos, truth, strict=True) for j in range(1, len(v))])
        per_clip[model] = [features(v[1:]) for v in videos]
        results[model] = {"PSNR": round(float(p), 2),
                          "KID_x1000": round(1000 * kernel_distance(truth_features, np.concatenate(per_clip[model])), 1)}
        if model != models[0]:
            results[model]["vs_first_on_halves"] = paired_halves(truth_per_clip, per_clip[models[0]], per_clip[model])
        print(model, results[model], flush=True)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps({"split": split, "clips": ids, "models": results}, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:])
