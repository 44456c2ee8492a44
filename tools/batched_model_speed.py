"""The batched trajectory model's speed call by call (16 queries per call, K=8): ms per query of each of N calls in one
process, to see the state some processes settle into (~18.5 ms instead of ~11 on the 2-core host; cause not found).

Usage: .venv/bin/python tools/batched_model_speed.py [CALLS]   (run it several times: the state differs per process)
"""

import sys
import time

from ct1_sim.data.samples import load_samples
from ct1_sim.world import WorldModel


def main(calls: str = "30") -> None:
    sample = load_samples()[0]
    world = WorldModel(WorldModel.from_pretrained(device="cpu").trajectory_model, None)
    world.warm_up(batched=True)
    images = [world.prepare_image(sample.image)] * 16
    ms = []
    for _ in range(int(calls)):
        t0 = time.perf_counter()
        world.predict_batch(images, [sample.instruction] * 16, 8, list(range(16)), [6.0] * 16)
        ms.append((time.perf_counter() - t0) / 16 * 1e3)
    print(" ".join(f"{m:.1f}" for m in ms))


if __name__ == "__main__":
    main(*sys.argv[1:2])
