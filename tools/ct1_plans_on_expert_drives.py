"""The `ct1` policy's plans on the states the expert drives through: an open-loop check of the closed-loop failure.

The expert drives each episode (procedural world, validation towns); every 0.5 s the trajectory model is asked for
K paths from the expert's own camera frame, instruction and speed, and the medoid (what the `ct1` policy would follow)
is compared with what the expert then drove over the next 3 s: heading change and lateral offset at 3 s, rear-axle
paths in the ego frame. Reported over the replans where the expert turned by more than 20 degrees in those 3 s: the
ratio of the model's heading change to the expert's (1 = turns as much; below 1 = under-steers), and the share of
those replans where the model turned less than half as much. An analysis for issue 17, not a bar.

Usage: .venv/bin/python tools/ct1_plans_on_expert_drives.py EPISODES OUT.json [MODEL_DIR ...] (MODEL_DIR "shipped", or none given: the shipped model)
"""

import json
import sys
from pathlib import Path

import numpy as np

from ct1_sim.metrics import medoid_index
from ct1_sim.sim.ct1_policy import CT1Policy, rear_axle_path
from ct1_sim.sim.env import DrivingEnv
from ct1_sim.sim.policies import make_policy

HORIZON_STEPS = 30  # 3 s at the env's 10 Hz
REPLAN_STEPS = 5  # 0.5 s
TURNING_DEG = 20.0


def wrap_deg(a: np.ndarray) -> np.ndarray:
    return (np.degrees(a) + 180.0) % 360.0 - 180.0


def episode_rows(policy: CT1Policy, seed: int) -> list[dict]:
    env = DrivingEnv(camera=True, split="val", num_towns=50, action_type="ackermann", announce_m=policy.announce_m)
    expert = make_policy("expert")
    obs, _ = env.reset(seed=seed, options={"seconds": 30.0})
    expert.reset(env)
    policy.reset(env)
    states, plans, t = [], [], 0
    while True:
        st = env.unwrapped.state
        states.append((st.x, st.y, st.yaw))
        if t % REPLAN_STEPS == 0:
            pred = policy.model.predict(obs["camera"], obs["instruction"], num_samples=policy.num_samples, seed=seed * 1000 + t,
                                        speed=float(obs["speed"][0]))
            path = pred.trajectories[medoid_index(pred.trajectories)].relative_to_first().c2w
            plans.append((t, obs["instruction"], rear_axle_path(path, policy.spec.camera_height_m, policy.spec.camera_pitch_deg)))
        obs, _, terminated, truncated, _ = env.step(expert.act(obs))
        t += 1
        if terminated or truncated:
            break
    s = np.array(states)
    rows = []
    for i, instruction, local in plans:
        j = i + HORIZON_STEPS
        if j >= len(s):
            break
        c, sn = np.cos(s[i, 2]), np.sin(s[i, 2])
        d = s[j, :2] - s[i, :2]
        seg = local[-1] - local[max(0, len(local) - 4)]  # the model's end heading from its last 0.6 s
        rows.append({"seed": seed, "t_s": i / 10, "instruction": instruction,
                     "expert_dyaw_deg": float(wrap_deg(s[j, 2] - s[i, 2])), "expert_lateral_m": float(-d[0] * sn + d[1] * c),
                     "model_dyaw_deg": float(wrap_deg(np.arctan2(seg[1], seg[0]))), "model_lateral_m": float(local[-1, 1]),
                     "model_moves": bool(np.linalg.norm(seg) > 0.5)})
    return rows


def main(episodes: str, out: str, *models: str) -> None:
    results = {}
    for model in [None if m == "shipped" else m for m in models] or [None]:
        policy = CT1Policy(model_dir=model)
        rows = [r for seed in range(int(episodes)) for r in episode_rows(policy, seed)]
        turning = [r for r in rows if abs(r["expert_dyaw_deg"]) > TURNING_DEG and r["model_moves"]]
        ratio = [r["model_dyaw_deg"] / r["expert_dyaw_deg"] for r in turning]
        name = model or "shipped"
        results[name] = {"replans": len(rows), "turning_replans": len(turning),
                         "heading_ratio_median": float(np.median(ratio)) if ratio else float("nan"),
                         "under_half_share": float(np.mean([q < 0.5 for q in ratio])) if ratio else float("nan"), "rows": rows}
        print(name, {k: v for k, v in results[name].items() if k != "rows"}, flush=True)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:])
