"""The batched trajectory model's speed call by call (K=8): ms per query of each of N calls in one process, to watch the
slow state the 2-core benchmark host moves in and out of (~18.5 ms per query at 16 queries a call instead of ~11).

What it showed (2026-12-08): the state changes at random times inside one process, the lanes' CPU time grows with
their wall time (no lane waits for a core), a 1024x1024 float32 matmul timed between the calls (--matmul) loses 0-20 %
of its speed where the model loses 40-70 %, and in one slow phase calls of 2 queries (one per lane) kept their speed:
the host slows working sets beyond a core's 2 MiB L2 far more than arithmetic (its 32 MiB L3 and memory are shared).

Usage: .venv/bin/python tools/batched_model_speed.py [CALLS] [--batch B] [--matmul]
  --batch B   queries per call (default 16)
  --matmul    after each call, the matmul's GFLOP/s (benchmarks/harness.py's matmul_flops, 10 products)
Each line: call number, ms per query[, matmul GFLOP/s].
"""

import argparse
import sys
import time
from pathlib import Path

from ct1_sim.data.samples import load_samples
from ct1_sim.world import WorldModel


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("calls", nargs="?", type=int, default=30)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--matmul", action="store_true")
    args = parser.parse_args(argv)
    if args.matmul:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
        from harness import matmul_flops
    sample = load_samples()[0]
    world = WorldModel(WorldModel.from_pretrained(device="cpu").trajectory_model, None)
    world.warm_up(batched=True)
    b = args.batch
    images = [world.prepare_image(sample.image)] * b
    for call in range(args.calls):
        t0 = time.perf_counter()
        world.predict_batch(images, [sample.instruction] * b, 8, list(range(b)), [6.0] * b)
        line = f"{call} {(time.perf_counter() - t0) / b * 1e3:.1f}"
        if args.matmul:
            line += f" {matmul_flops(repeat=10) / 1e9:.0f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
