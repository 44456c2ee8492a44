"""Open-loop scores of trajectory models on clips cut from drives through held-out towns (the states the closed loop
meets), with the metrics of ``ct1-sim eval trajectory``, per announced maneuver and overall:

    python tools/town_open_loop.py STORE OUT.json NAME=MODEL_DIR [NAME=MODEL_DIR ...]

STORE: e.g. ``ct1-sim scenarios town-drives --split test --towns 4 --seconds 60 --out out/data/town-test.zarr``. Every
clip is asked with its own instruction and speed, K=8, seed 0.
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch

from ct1_sim.data import ClipStore
from ct1_sim.trajectory.evaluation import _traj, score_samples
from ct1_sim.trajectory.pipeline_ct1 import CT1TrajectoryPipeline

if len(sys.argv) < 4:
    sys.exit(__doc__)
store, out = ClipStore.open(sys.argv[1]), Path(sys.argv[2])
ids = store.ids()
clips = [(store.read_frames(i, [0])[0], store.read_trajectory(i), store[i].instruction, store.meta(i)) for i in ids]
results = {"store": sys.argv[1], "clips": len(ids), "towns": len({c[3]["scene"] for c in clips}), "models": {}}
for arg in sys.argv[3:]:
    name, folder = arg.split("=", 1)
    pipe = CT1TrajectoryPipeline.from_pretrained(folder, device="cpu")
    g = torch.Generator().manual_seed(0)
    rows, by = [], {}
    for k in range(0, len(clips), 16):
        chunk = clips[k : k + 16]
        res = pipe([c[0] for c in chunk], [c[2] for c in chunk], speed=[c[3]["speed_mps"] for c in chunk], num_samples=8, generator=g)
        for samples, c in zip(res.trajectories, chunk, strict=True):
            row = score_samples([_traj(s.c2w, c[1]) for s in samples], c[1], c[3]["path_label"])
            rows.append(row)
            by.setdefault(c[3]["maneuver"], []).append(row)
    mean = lambda rs: {key: float(np.mean([r[key] for r in rs if key in r])) for key in ("min_ade", "mean_ade", "ade", "l2_3s", "rot_err_deg", "compliance")}  # noqa: E731
    results["models"][name] = {"folder": folder, "all": mean(rows), "by_announced_maneuver": {m: {"clips": len(rs), **mean(rs)} for m, rs in sorted(by.items())}}
    print(name, json.dumps(results["models"][name]["all"]))
out.write_text(json.dumps(results, indent=1))
