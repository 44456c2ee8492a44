"""Where a video model's error comes from: the same pipeline with its own depth or the rendered depth for frame 0,
with and without adding generated pixels to the 3D cache, and other DDIM settings, against warp + push-pull fill
with either depth, on held-out clips (PSNR and KID-MobileNetV2 x1000 over frames 1..15). An analysis, not a bar.

Usage: .venv/bin/python tools/video_error_sources.py N_CLIPS MODEL_DIR VARIANTS TAG
VARIANTS: comma-separated names made of parts: ``model`` or ``truedepth`` (frame 0's depth), ``nodensify`` (no
generated pixels join the cache), ``sN`` (N DDIM steps, default 4), ``stX`` (strength X, default 1). Writes
out/diag/variants_TAG.json.
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
from ct1_sim.video.evaluation import select_clips, sky_as_far, warp_videos
from ct1_sim.video.loading import load_video_pipeline
from ct1_sim.video.pipeline_ct1_video import chunk_ranges
from ct1_sim.video.point_cache import PointCache
from ct1_sim.video.rollout_session import VideoSession


def settings(variant: str) -> tuple[int, float]:
    steps, strength = 4, 1.0
    for part in variant.split("_"):
        if part.startswith("st"):
            strength = float(part[2:])
        elif part.startswith("s") and part[1:].isdigit():
            steps = int(part[1:])
    return steps, strength


def generate(pipe, clip, depth0: np.ndarray, variant: str, seed: int) -> np.ndarray:
    traj = clip.trajectory
    h, w = clip.frames.shape[1:3]
    c2w, K = pipe.prepare_trajectory(traj, len(traj), w, h)
    frame0 = pipe.prepare_image(clip.frames[0], w, h, traj.image_size)
    steps, strength = settings(variant)
    session = VideoSession(pipe, frame0, K, pipe.get_timesteps(steps, strength), strength, torch.Generator().manual_seed(seed))
    if variant.startswith("truedepth"):
        session.cache = PointCache(session.K_t, (w, h))
        session.cache.add_frame(frame0, sky_as_far(depth0, pipe.depth_net.config.max_depth_m), torch.eye(4))
    if "nodensify" in variant:
        session.densify = lambda *a, **kw: 0
    out = [frame0[None]] + [session.generate(c2w[list(chunk)]) for chunk in chunk_ranges(len(traj), 4, 4)]
    return (torch.cat(out).clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()


def main(n_clips: str, model: str, variants: str, tag: str) -> None:
    pipe = load_video_pipeline(model, device="cpu")
    store = ClipStore.open("out/data/scenarios-v2.zarr")
    names = variants.split(",")
    videos: dict[str, list[np.ndarray]] = {v: [] for v in [*names, "warp_filled", "warp_filled_true", "truth"]}
    t0 = time.time()
    for k, cid in enumerate(select_clips(store, "test", int(n_clips))):
        clip = store[cid]
        depth0 = store.read_depth(cid, [0])[0].astype(np.float32)
        for v in names:
            videos[v].append(generate(pipe, clip, depth0, v, k))
        h, w = clip.frames.shape[1:3]
        c2w, K = pipe.prepare_trajectory(clip.trajectory, len(clip.trajectory), w, h)
        f0 = torch.from_numpy(np.ascontiguousarray(clip.frames[0])).permute(2, 0, 1)[None].float() / 255
        with torch.no_grad():
            own = pipe.depth_net(f0, torch.from_numpy(K).float())[0]
        videos["warp_filled"].append(warp_videos(clip.frames[0], own, c2w, K)[1])
        videos["warp_filled_true"].append(warp_videos(clip.frames[0], sky_as_far(depth0, pipe.depth_net.config.max_depth_m), c2w, K)[1])
        videos["truth"].append(clip.frames)
        print(k, cid, f"{time.time() - t0:.0f} s", flush=True)
    features = ImageFeatures()
    truth = features(np.concatenate([v[1:] for v in videos["truth"]]))
    results = {}
    for name, vs in videos.items():
        if name == "truth":
            continue
        p = np.mean([psnr(v[j], t[j]) for v, t in zip(vs, videos["truth"], strict=True) for j in range(1, len(v))])
        results[name] = {"PSNR": round(float(p), 3),
                         "KID_x1000": round(1000 * kernel_distance(truth, features(np.concatenate([v[1:] for v in vs]))), 1)}
        print(name, results[name], flush=True)
    Path("out/diag").mkdir(parents=True, exist_ok=True)
    Path(f"out/diag/variants_{tag}.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:5])
