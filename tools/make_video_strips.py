"""Frame strips of the shipped video model on held-out clips (a left turn, a right turn, a lane change), for its card.

Usage: .venv/bin/python tools/make_video_strips.py MODEL_DIR DATA_STORE OUT_DIR
Each strip: top row the rendered truth at frames 0, 4, 8, 12, 15; bottom row the model's video from frame 0 along
the clip's true camera path (seed 0, default settings), at half size.
"""

import sys
from pathlib import Path

import numpy as np
import PIL.Image
import torch

from ct1_sim.data import ClipStore
from ct1_sim.video.loading import load_video_pipeline

FRAMES = (0, 4, 8, 12, 15)
WANTED = ("turn_left", "turn_right", "lane_change")


def held_out_highway_lane_change():
    """A test-split highway lane-change clip rendered by the scenario generator (for stores without one)."""
    from ct1_sim.data.scenarios import SceneRenderer, load_spec, make_clip

    spec = load_spec("scenarios/highway.yaml")
    index = next(i for i in range(10_000) if spec.assign(i) == ("lane_change", "test"))
    return make_clip(SceneRenderer(448, 256), spec.name, "lane_change", spec.params("lane_change"), "test", index)


def main(model: str, data: str, out: str) -> None:
    pipe = load_video_pipeline(model, device="cpu")
    store = ClipStore.open(data)
    Path(out).mkdir(parents=True, exist_ok=True)
    test = store.split_ids("test")
    for maneuver in WANTED:
        cid = next((i for i in test if store.meta(i).get("maneuver", "").startswith(maneuver)), None)
        clip = store[cid] if cid is not None else held_out_highway_lane_change()
        cid = cid or "highway lane change, test split (rendered here: none in the store)"
        video = pipe(clip.frames[0], clip.trajectory, generator=torch.Generator().manual_seed(0), output_type="np").frames[0]
        gen = (np.clip(video, 0, 1) * 255).round().astype(np.uint8)
        strip = np.concatenate([np.concatenate([clip.frames[j] for j in FRAMES], 1), np.concatenate([gen[j] for j in FRAMES], 1)], 0)
        path = Path(out) / f"{maneuver}.png"
        PIL.Image.fromarray(strip).resize((strip.shape[1] // 2, strip.shape[0] // 2), PIL.Image.BILINEAR).save(path)
        print(path, cid)


if __name__ == "__main__":
    main(*sys.argv[1:4])
