"""The neural world's generator settings against its procedural twin: speed and fidelity (an analysis, not a test).

Usage: .venv/bin/python tools/neural_world_fidelity.py EPISODES STEPS:MIN_HOLE_PIXELS[,...] OUT.json
(e.g. ``3 4:0,2:0,2:1200,4:1200 out/neural_fidelity.json``). The expert drives test towns 0..EPISODES-1 for 16 s at
5 Hz in :class:`~ct1_sim.sim.neural.NeuralWorld` with ``twin_frames``; every generated frame is scored against the
procedural render at the same pose: mean PSNR and KID-MobileNetV2 over all frames, and ms per env step (the twin's
render included, which a plain neural run does not pay).
"""

import json
import sys
import time

import numpy as np

from ct1_sim.metrics import kernel_distance, psnr
from ct1_sim.pretrained.image_features import ImageFeatures
from ct1_sim.sim.env import DrivingEnv
from ct1_sim.sim.neural import NEURAL_DT_S, NeuralWorld, load_world_video
from ct1_sim.sim.policies import ExpertPolicy


def main(episodes: int, settings: list[tuple[int, int]], out: str) -> None:
    pipe, features, results = load_world_video(device="cpu"), ImageFeatures(), {}
    for steps, min_hole in settings:
        world = NeuralWorld(video_pipeline=pipe, num_inference_steps=steps, twin_frames=True, min_hole_pixels=min_hole)
        policy = ExpertPolicy()
        env = DrivingEnv(world=world, dt=NEURAL_DT_S, action_type=policy.action_type, num_towns=50)
        generated, true, scores, wall = [], [], [], 0.0
        for episode in range(episodes):
            obs, _ = env.reset(seed=episode, options={"seconds": 16.0})
            policy.reset(env)
            done = False
            while not done:
                t0 = time.perf_counter()
                obs, _, terminated, truncated, _ = env.step(policy.act(obs))
                wall += time.perf_counter() - t0
                generated.append(obs["camera"])
                true.append(world.truth_frame)
                scores.append(psnr(obs["camera"], world.truth_frame))
                done = terminated or truncated
        env.close()
        name = f"steps{steps}_min_hole{min_hole}"
        results[name] = {"frames": len(scores), "ms_per_step": 1e3 * wall / len(scores), "PSNR": float(np.mean(scores)),
                         "KID_x1000": 1000 * kernel_distance(features(np.stack(true)), features(np.stack(generated)))}
        print(json.dumps({name: results[name]}), flush=True)
    with open(out, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main(int(sys.argv[1]), [tuple(int(x) for x in item.split(":")) for item in sys.argv[2].split(",")], sys.argv[3])
