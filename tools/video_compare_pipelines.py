"""Video pipelines side by side on the same clips and seeds: PSNR and KID-MobileNetV2 x1000 over frames 1..15 (e.g. a
training candidate against the shipped release, on validation clips before any test-split evaluation).

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


def main(split: str, n_clips: str, out: str, *models: str) -> None:
    store = ClipStore.open("out/data/scenarios-v2.zarr")
    ids = select_clips(store, split, int(n_clips))
    truth = [store[cid].frames for cid in ids]
    features = ImageFeatures()
    truth_features = features(np.concatenate([v[1:] for v in truth]))
    results = {}
    for model in models:
        pipe = load_video_pipeline(model, device="cpu")
        videos = []
        for k, cid in enumerate(ids):
            clip = store[cid]
            frames = pipe(image=clip.frames[0], trajectory=clip.trajectory, generator=torch.Generator().manual_seed(k), output_type="np").frames[0]
            videos.append((np.clip(np.asarray(frames), 0, 1) * 255).round().astype(np.uint8))
        p = np.mean([psnr(v[j], t[j]) for v, t in zip(videos, truth, strict=True) for j in range(1, len(v))])
        results[model] = {"PSNR": round(float(p), 2),
                          "KID_x1000": round(1000 * kernel_distance(truth_features, features(np.concatenate([v[1:] for v in videos]))), 1)}
        print(model, results[model], flush=True)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps({"split": split, "clips": ids, "models": results}, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:])
