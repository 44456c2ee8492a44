"""Regenerate model/ct1-tiny/MODEL_CARD.md
(python tools/make_trajectory_card.py P50_MS P90_MS EAGER_P50_MS GFLOP MATMUL_PEAK_GFLOPS).

Inputs: ``out/eval-traj-v5/metrics.json`` when present (``ct1-sim eval trajectory`` of the shipped model, the
no-wavelet ablation retrained in session 4 and the baselines, on the default ONNX Runtime path), else the card's
own committed ``eval_metrics.json``, which holds that evaluation; the previous release's rows always come from
the committed file (session-3 evaluation). The latency figures come from one run of
``python benchmarks/run.py trajectory``.
"""
import json
import sys
from pathlib import Path

from ct1_sim.trajectory.model_card import write_model_card

if len(sys.argv) != 6:
    sys.exit("usage: python tools/make_trajectory_card.py P50_MS P90_MS EAGER_P50_MS GFLOP MATMUL_PEAK_GFLOPS "
             "(the figures of one `python benchmarks/run.py trajectory` run)")
p50, p90, eager_p50, gflop, peak = (float(a) for a in sys.argv[1:6])
fresh = Path("out/eval-traj-v5/metrics.json")
earlier = json.loads(Path("model/ct1-tiny/eval_metrics.json").read_text())
m = json.loads(fresh.read_text()) if fresh.is_file() else json.loads(json.dumps(earlier))
for name in ("ct1_previous_release",):
    m["methods"][name] = earlier["methods"][name]
    m["per_maneuver"][name] = earlier["per_maneuver"][name]
m["methods"] = {k: m["methods"][k] for k in ("ct1", "ct1_no_wavelet", "baseline_a_library", "baseline_b_mean_path", "baseline_c_constant_velocity", "ct1_previous_release")}
m["per_maneuver"] = {k: m["per_maneuver"][k] for k in m["methods"]}
Path("model/ct1-tiny/eval_metrics.json").write_text(json.dumps(m, indent=1))
c, nw, a, b = (m["methods"][k] for k in ("ct1", "ct1_no_wavelet", "baseline_a_library", "baseline_b_mean_path"))
prev = m["methods"]["ct1_previous_release"]
pct = lambda x, y: 100 * (1 - x / y)  # noqa: E731
notes = [
    f"Bars (issue 5), measured on the held-out test split: minADE@8 {c['min_ade']:.3f} m is {pct(c['min_ade'], a['min_ade']):.1f}% below baseline (a) "
    f"{a['min_ade']:.3f} m — bar 30%, met; mean ADE of the K samples {pct(c['mean_ade'], b['mean_ade']):.1f}% below baseline (b) — bar 20%, met; "
    f"instruction compliance {100 * c['compliance']:.1f}% — bar 95%, met (stop clips: {100 * m['per_maneuver']['ct1']['stop']['compliance']:.0f}%).",
    f"Wavelet loss, both runs with the same config, data, steps and seed (`ct1_no_wavelet` is the ablation): with it, rotation error "
    f"{c['rot_err_deg']:.2f} vs {nw['rot_err_deg']:.2f} deg ({pct(c['rot_err_deg'], nw['rot_err_deg']):.0f}% lower), jerk {c['jerk']:.2f} vs "
    f"{nw['jerk']:.2f} m/s^3 ({abs(pct(c['jerk'], nw['jerk'])):.0f}% {'lower' if c['jerk'] < nw['jerk'] else 'higher'}); minADE {c['min_ade']:.3f} vs {nw['min_ade']:.3f} m and ADE {c['ade']:.3f} vs "
    f"{nw['ade']:.3f} m ({abs(pct(c['ade'], nw['ade'])):.0f}% {'lower' if c['ade'] < nw['ade'] else 'higher'}). So here it helps the rotations (what it regularises in the authors' "
    "form: x0_hat along time) and not the positions. One seed each: the session-3 ablation, trained the same way, measured minADE 0.346, "
    "rot err 2.00 deg, jerk 7.25, so differences of a few percent are within seed noise.",
    "Rows: measured in session 4 on the default inference path (ONNX Runtime graph, Pillow resize). `ct1` equals its session-3 "
    "eager-PyTorch figures to the third decimal (minADE 0.351, mean ADE 0.689, compliance 99.6% both times). `ct1_no_wavelet` was "
    "retrained in session 4 with the same config, steps and seed (its session-3 checkpoint was not kept); its frozen-backbone features "
    "came through the Pillow resize and the ONNX CNN graph, which differ from session 3's by at most 1/255 per pixel and ~1e-5. "
    "`ct1_previous_release` is the session-3 measurement.",
    f"Sampling latency (K=8, 10 DDIM steps, CFG 1.5; `python benchmarks/run.py trajectory`, ONNX Runtime on 2 cores): p50 {p50:.1f} ms, "
    f"p90 {p90:.1f} ms, eager PyTorch {eager_p50:.0f} ms in the same run, whose 1024^2 matmul peak measured {peak:.0f} GFLOP/s; "
    f"{gflop:.2f} GFLOP per query (MobileNetV2 included) = {100 * gflop / (p50 / 1000) / peak:.0f}% of that peak. Against the 25 ms bar: "
    f"{'met' if p50 <= 25 else 'NOT met'} in this run. Runs on the hosts seen so far: on 2026-11-25, an AMD EPYC host, five runs gave "
    "p50 9.5-12.9 ms (matmul peak 218-236 GFLOP/s); on the slower host of sessions 3-4 (peak "
    "119-175 GFLOP/s) the same code gave p50 24.6-24.8 ms at that host's full speed and 25-37 ms in its slow phases. The ratio to eager "
    "PyTorch, 1.6-2.3x, holds on both. Session 3's release took 44 ms there (eager), session 2's ~120 ms.",
    f"This release: DiT 64 wide (was 128), 4000 steps (was 2000); the fusion stays 128 wide. `ct1_previous_release` is the previous ct1-tiny "
    f"(DiT 128 wide, 2000 steps) evaluated on the same split by the same command: minADE {prev['min_ade']:.3f}, compliance {100 * prev['compliance']:.1f}%.",
    f"Baseline (a) gets K real training paths of the instructed maneuver, so its minADE@8 is strong; the model wins on single-sample accuracy "
    f"(ADE {c['ade']:.2f} vs {a['ade']:.2f} m) because it reads the distance to the intersection, curve radius and lanes from the image.",
    "Data: the synthetic scenario generator only (no real driving data); expect a domain gap on nuScenes frames. Wording matters: paraphrases "
    "outside the training phrasings can change the sampled speed.",
]
cmds = {
    "data (2700 clips, ~18 min in one process)": "ct1-sim scenarios render scenarios/urban.yaml --clips 1500 --out out/data/scenarios-v2.zarr --workers 1 && ct1-sim scenarios render scenarios/suburban.yaml --clips 500 --out out/data/scenarios-v2.zarr --workers 1 && ct1-sim scenarios render scenarios/highway.yaml --clips 700 --out out/data/scenarios-v2.zarr --workers 1",
    "train (55 min with the ablation running beside it, one thread each, on 2 cores)": "OMP_NUM_THREADS=1 ct1-sim train trajectory --data out/data/scenarios-v2.zarr --config model/configs/ct1-tiny.yaml --out out/runs/ct1-tiny-v3 --cache out/runs/cache-v2",
    "ablation without the wavelet loss (16 min alone on 2 cores, feature extraction included)": "ct1-sim train trajectory --data out/data/scenarios-v2.zarr --config model/configs/ct1-tiny.yaml --out out/runs/ct1-tiny-v4-nowavelet --cache out/runs/cache-v4 --wavelet-weight 0",
    "evaluate (numbers above, both runs and the baselines in one run, 1.5 min)": "ct1-sim eval trajectory --data out/data/scenarios-v2.zarr --model model/ct1-tiny --ablation out/runs/ct1-tiny-v4-nowavelet --report out/eval-traj-v5",
}
print(write_model_card(Path("model/ct1-tiny"), m, cmds, notes).read_text())
