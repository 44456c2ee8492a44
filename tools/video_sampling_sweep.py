"""How the video pipeline's sampling settings change PSNR and KID-MobileNetV2 on test clips (an analysis, not a test).

Usage: .venv/bin/python tools/video_sampling_sweep.py N_CLIPS STEPS:CHUNK[,STEPS:CHUNK...] MODEL_DIR OUT.json
(e.g. ``12 4:4,8:4,4:16,4:1 model/ct1-video-small out.json``: DDIM steps and frames per chunk; a chunk's last frame is
depth-estimated and its generated pixels join the 3D cache, so chunk 16 keeps only frame 0 in the cache.)
"""

import json
import sys

import numpy as np
import torch
from video_depth_noise import scores  # tools/: the same PSNR / KID-MobileNetV2 scoring as the depth analysis

from ct1_sim.data import ClipStore
from ct1_sim.pretrained.image_features import ImageFeatures
from ct1_sim.video.evaluation import LATE_FRAMES, select_clips
from ct1_sim.video.loading import load_video_pipeline
from ct1_sim.video.pipeline_ct1_video import to_uint8_frames


def main(n: str, variants: str, model_dir: str, out: str, data: str = "out/data/scenarios-v2.zarr") -> None:
    pipe = load_video_pipeline(model_dir, device="cpu")
    store = ClipStore.open(data)
    clips = [store[c] for c in select_clips(store, "test", int(n))]
    feat, (first, last) = ImageFeatures(), LATE_FRAMES
    truth = [c.frames for c in clips]
    true_all = feat(np.concatenate([t[1:] for t in truth]))
    true_late = feat(np.concatenate([t[first:last + 1] for t in truth]))
    res = {}
    for v in variants.split(","):
        steps, chunk = (int(x) for x in v.split(":"))
        vids = []
        for k, clip in enumerate(clips):
            h, w = clip.frames.shape[1:3]
            frames = pipe(clip.frames[0], clip.trajectory, num_frames=len(clip.trajectory), height=h, width=w,
                          num_inference_steps=steps, chunk_size=chunk, generator=torch.Generator().manual_seed(k), output_type="np").frames
            vids.append(to_uint8_frames(frames))
        res[v] = scores(vids, truth, feat, true_all, true_late)
        print(v, res[v], flush=True)
    with open(out, "w") as f:
        json.dump({"clips": int(n), "model": model_dir, "steps:chunk": res}, f, indent=1)


if __name__ == "__main__":
    torch.set_num_threads(2)
    main(*sys.argv[1:])
