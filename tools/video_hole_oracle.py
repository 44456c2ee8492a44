"""How much of a video model's KID its new content costs: the pipeline's frames, and the same frames with the truth
pasted into the regions frame 0 does not show (no point of frame 0 reaches them under the rendered depth), against
warp + push-pull fill and warp + truth in the warp's holes, with the model's depth and with the rendered one, on
held-out clips (PSNR and KID-MobileNetV2 x1000 over frames 1..15). An analysis, not a bar: the truth-pasted rows
are what a perfect generator of new content would score with the same geometry.

Usage: .venv/bin/python tools/video_hole_oracle.py N_CLIPS MODEL_DIR OUT.json [SPLIT]
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ct1_sim.data import ClipStore
from ct1_sim.metrics import kernel_distance, psnr
from ct1_sim.pretrained.image_features import ImageFeatures
from ct1_sim.video.evaluation import select_clips, sky_as_far, true_depth_holes, warp_videos
from ct1_sim.video.loading import load_video_pipeline

METHODS = ("pipeline", "pipeline_truth_in_new_regions", "warp_own_fill", "warp_own_truth_in_holes", "warp_true_fill",
           "warp_true_truth_in_holes")


def main(n_clips: str, model: str, out: str, split: str = "test") -> None:
    pipe = load_video_pipeline(model, device="cpu")
    store = ClipStore.open("out/data/scenarios-v2.zarr")
    videos: dict[str, list[np.ndarray]] = {m: [] for m in (*METHODS, "truth")}
    t0 = time.time()
    for k, cid in enumerate(select_clips(store, split, int(n_clips))):
        clip = store[cid]
        truth, depth0 = clip.frames, store.read_depth(cid, [0])[0].astype(np.float32)
        h, w = truth.shape[1:3]
        c2w, K = pipe.prepare_trajectory(clip.trajectory, len(clip.trajectory), w, h)
        frames = pipe(image=truth[0], trajectory=clip.trajectory, generator=torch.Generator().manual_seed(k), output_type="np").frames[0]
        video = (np.clip(np.asarray(frames), 0, 1) * 255).round().astype(np.uint8)
        new = true_depth_holes(truth[0], depth0, c2w, K)
        f0 = torch.from_numpy(np.ascontiguousarray(truth[0])).permute(2, 0, 1)[None].float() / 255
        with torch.no_grad():
            own = pipe.depth_net(f0, torch.from_numpy(K).float())[0]
        _, own_fill, own_mask = warp_videos(truth[0], own, c2w, K)
        _, true_fill, true_mask = warp_videos(truth[0], sky_as_far(depth0, pipe.depth_net.config.max_depth_m), c2w, K)
        for name, v in zip(METHODS, (video, np.where(new[..., None], truth, video), own_fill, np.where(own_mask[..., None], own_fill, truth),
                                     true_fill, np.where(true_mask[..., None], true_fill, truth)), strict=True):
            videos[name].append(v)
        videos["truth"].append(truth)
        print(k, cid, f"{time.time() - t0:.0f} s, new content {new[1:].mean():.1%}", flush=True)
    features = ImageFeatures()
    truth_features = features(np.concatenate([v[1:] for v in videos["truth"]]))
    results = {}
    for name in METHODS:
        vs = videos[name]
        p = np.mean([psnr(v[j], t[j]) for v, t in zip(vs, videos["truth"], strict=True) for j in range(1, len(v))])
        results[name] = {"PSNR": round(float(p), 2),
                         "KID_x1000": round(1000 * kernel_distance(truth_features, features(np.concatenate([v[1:] for v in vs]))), 1)}
        print(name, results[name], flush=True)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps({"model": model, "split": split, "clips": int(n_clips), "methods": results}, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:5])
