"""Which depth errors cost the video its KID, and what a median filter of the depth buys: on held-out clips, frame 0
warped + push-pull filled with the model's own depth, the rendered depth, and the own depth with one part (objects,
sky, road, the pixels near the rendered depth's edges) replaced by the rendered depth; then the own depth
median-filtered (``separable_median``) at several windows, for the warp and for the whole pipeline. PSNR and
KID-MobileNetV2 x1000 over frames 1..15 (and 8..15). An analysis, not a bar.

Usage: .venv/bin/python tools/video_depth_noise.py N_CLIPS MODEL_DIR OUT_JSON [WINDOWS [SPLIT]]
(MODEL_DIR's own ``median_px`` is set to 0 first, so the rows start from the unfiltered network; WINDOWS:
comma-separated odd sizes, default 5,9,15,21; the pipeline rows use 9, 15 and 21 where given; SPLIT: default test.)
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch

from ct1_sim.data import ClipStore
from ct1_sim.metrics import kernel_distance, psnr
from ct1_sim.pretrained.image_features import ImageFeatures
from ct1_sim.video.depth_mobilenet import object_pixels, separable_median
from ct1_sim.video.evaluation import LATE_FRAMES, select_clips, sky_as_far, warp_videos
from ct1_sim.video.loading import load_video_pipeline
from ct1_sim.video.pipeline_ct1_video import to_uint8_frames

EDGE_LOG_RATIO = 0.4  # a rendered-depth edge: the 7x7 neighbourhood spans more than e^0.4 = 1.5x in depth
PIPELINE_WINDOWS = (9, 15, 21)


def depth_variants(own: torch.Tensor, true: torch.Tensor, rendered: np.ndarray, prior: torch.Tensor,
                   windows: list[int]) -> dict[str, torch.Tensor]:
    """The depths to warp with (see the module docstring), ``(H,W)`` m each."""
    objects = object_pixels(torch.from_numpy(rendered)[None], prior[None])[0]
    sky = torch.from_numpy(rendered <= 0)
    road = ~objects & ~sky
    log_true = true.log()[None, None]
    hi = torch.nn.functional.max_pool2d(log_true, 7, 1, 3)[0, 0]
    lo = -torch.nn.functional.max_pool2d(-log_true, 7, 1, 3)[0, 0]
    edges = (hi - lo) > EDGE_LOG_RATIO
    out = {"own": own, "true": true, "own, true objects": torch.where(objects, true, own),
           "own, true sky": torch.where(sky, true, own), "own, true road": torch.where(road, true, own),
           "own, true near edges": torch.where(edges, true, own)}
    for k in windows:
        out[f"own, median {k}"] = separable_median(own.log()[None], k)[0].exp()
    return out


def scores(videos: list[np.ndarray], truth: list[np.ndarray], features: ImageFeatures, truth_all: np.ndarray,
           truth_late: np.ndarray) -> dict[str, float]:
    first, last = LATE_FRAMES
    p = np.mean([psnr(v[j], t[j]) for v, t in zip(videos, truth, strict=True) for j in range(1, len(v))])
    return {"PSNR": round(float(p), 3),
            "KID_x1000": round(1000 * kernel_distance(truth_all, features(np.concatenate([v[1:] for v in videos]))), 1),
            "KID_late_x1000": round(1000 * kernel_distance(truth_late, features(np.concatenate([v[first:last + 1] for v in videos]))), 1)}


def main(n_clips: str, model: str, out_json: str, windows: str = "5,9,15,21", split: str = "test") -> None:
    torch.manual_seed(0)
    sizes = [int(k) for k in windows.split(",")]
    pipe = load_video_pipeline(model, device="cpu")
    net = pipe.depth_net
    net.register_to_config(median_px=0)
    store = ClipStore.open("out/data/scenarios-v2.zarr")
    ids = select_clips(store, split, int(n_clips))
    clips = [store[c] for c in ids]
    warps: dict[str, list[np.ndarray]] = {}
    holes: dict[str, list[float]] = {}
    for cid, clip in zip(ids, clips, strict=True):
        rendered = store.read_depth(cid, [0])[0].astype(np.float32)
        h, w = clip.frames.shape[1:3]
        c2w, K = pipe.prepare_trajectory(clip.trajectory, len(clip.trajectory), w, h)
        Kt = torch.from_numpy(K).float()
        frame0 = torch.from_numpy(np.ascontiguousarray(clip.frames[0])).permute(2, 0, 1)[None].float() / 255
        with torch.no_grad():
            own = net(frame0, Kt)[0]
            prior = net.log_prior(Kt, h, w)[0, 0].exp()
        true = sky_as_far(rendered, net.config.max_depth_m)
        for name, depth in depth_variants(own, true, rendered, prior, sizes).items():
            _, filled, reached = warp_videos(clip.frames[0], depth, c2w, K)
            warps.setdefault(name, []).append(filled)
            holes.setdefault(name, []).append(float(1 - reached[1:].mean()))
    truth = [c.frames for c in clips]
    features = ImageFeatures()
    first, last = LATE_FRAMES
    truth_all = features(np.concatenate([t[1:] for t in truth]))
    truth_late = features(np.concatenate([t[first:last + 1] for t in truth]))
    results: dict[str, dict] = {"clips": len(clips), "split": split, "warp_filled": {}, "pipeline": {}}
    for name, videos in warps.items():
        results["warp_filled"][name] = {**scores(videos, truth, features, truth_all, truth_late),
                                        "hole_share": round(float(np.mean(holes[name])), 4)}
        print("warp + fill,", name, results["warp_filled"][name], flush=True)
    for k in [0, *[k for k in PIPELINE_WINDOWS if k in sizes]]:
        net.register_to_config(median_px=k)
        videos = []
        for i, clip in enumerate(clips):
            h, w = clip.frames.shape[1:3]
            out = pipe(clip.frames[0], clip.trajectory, num_frames=len(clip.trajectory), height=h, width=w,
                       num_inference_steps=4, generator=torch.Generator().manual_seed(i), output_type="np").frames
            videos.append(to_uint8_frames(out))
        name = f"median {k}" if k else "own (no filter)"
        results["pipeline"][name] = scores(videos, truth, features, truth_all, truth_late)
        print("pipeline,", name, results["pipeline"][name], flush=True)
    Path(out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(out_json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5, 6):
        sys.exit(__doc__)
    main(*sys.argv[1:])
