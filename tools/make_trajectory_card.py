"""Regenerate model/ct1-tiny/MODEL_CARD.md (and eval_metrics.json, instruction_metrics.json) for the release trained
on every intent (issue 18):

    python tools/make_trajectory_card.py EVAL_TRAJECTORY_DIR EVAL_INSTRUCTIONS_DIR BENCH_JSON CPU_HOURS

EVAL_TRAJECTORY_DIR holds ``ct1-sim eval trajectory`` metrics (the shipped model, its no-wavelet ablation, the baselines),
EVAL_INSTRUCTIONS_DIR ``ct1-sim eval instructions`` metrics (both models), BENCH_JSON the figures of one
``python benchmarks/run.py trajectory`` run (its JSON line), CPU_HOURS the training's CPU-hours. The previous release's
rows come from the committed ``eval_metrics.json`` (its row ``ct1`` there becomes ``ct1_previous_release``).
"""
import json
import sys
from pathlib import Path

from ct1_sim.trajectory.model_card import write_model_card

if len(sys.argv) != 5:
    sys.exit(__doc__)
traj_dir, instr_dir, bench_path, cpu_hours = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4])
MODEL = Path("model/ct1-tiny")
m = json.loads((traj_dir / "metrics.json").read_text())
instructions = json.loads((instr_dir / "metrics.json").read_text())
bench = json.loads(bench_path.read_text())
earlier = json.loads((MODEL / "eval_metrics.json").read_text())
if "ct1_release_2" not in earlier["methods"]:  # the committed file is the previous release's evaluation
    m["methods"]["ct1_previous_release"] = earlier["methods"]["ct1"]
    m["per_maneuver"]["ct1_previous_release"] = earlier["per_maneuver"]["ct1"]
else:
    m["methods"]["ct1_previous_release"] = earlier["methods"]["ct1_previous_release"]
    m["per_maneuver"]["ct1_previous_release"] = earlier["per_maneuver"]["ct1_previous_release"]
m["methods"]["ct1_release_2"] = m["methods"]["ct1"]  # marks the file as this release's
(MODEL / "eval_metrics.json").write_text(json.dumps(m, indent=1))
(MODEL / "instruction_metrics.json").write_text(json.dumps(instructions, indent=1))
del m["methods"]["ct1_release_2"]
order = ("ct1", "ct1_no_wavelet", "baseline_a_library", "baseline_b_mean_path", "baseline_c_constant_velocity", "ct1_previous_release")
m["methods"] = {k: m["methods"][k] for k in order if k in m["methods"]}
m["per_maneuver"] = {k: m["per_maneuver"][k] for k in m["methods"]}
c, a, b, prev = (m["methods"][k] for k in ("ct1", "baseline_a_library", "baseline_b_mean_path", "ct1_previous_release"))
nw = m["methods"].get("ct1_no_wavelet")
ci = instructions["models"]["ct1"]
pct = lambda x, y: 100 * (1 - x / y)  # noqa: E731
met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
speed = ci["speed_words"]
notes = [
    f"Issue 18 bars, measured on the held-out test split (`eval instructions`): compliance on held-out phrasings "
    f"{100 * ci['compliance']['test_phrasing']:.1f}% (train phrasings {100 * ci['compliance']['train_phrasing']:.1f}%, the scenario's "
    f"recorded phrasings {100 * ci['compliance']['recorded']:.1f}%) — goal 95%, {met(ci['compliance']['test_phrasing'] >= 0.95)}; "
    f"off-road share of sampled paths, worst instruction {100 * ci['offroad_worst_instruction']:.2f}% (true instruction "
    f"{100 * ci['offroad_true_instruction']:.2f}%, the five others {100 * ci['offroad_other_instructions']:.2f}%) — goal <= 2% for every "
    f"instruction, {met(ci['offroad_worst_instruction'] <= 0.02)}; speed words moved the instructed way on "
    + ", ".join(f"{w.replace('_', ' ')} {100 * speed[w]['all_clips']:.1f}%" for w in ("slow_down", "speed_up", "keep_speed", "stop"))
    + " of the held-out clips — goal 95% each, "
    + met(all(speed[w]["all_clips"] >= 0.95 for w in speed)) + ". In the canonical phrasings (the trajectory model alone, once the "
    "words are read right): " + ", ".join(f"{w.replace('_', ' ')} {100 * ci['speed_words_canonical'][w]['all_clips']:.1f}% "
                                        f"({100 * ci['speed_words_canonical'][w]['clips_whose_road_allows_it']:.1f}% where the road allows it)"
                                        for w in ("slow_down", "speed_up", "keep_speed", "stop"))
    + ": the model slows and speeds up as told wherever the road allows it; most of the shortfall is the parser misreading "
    "held-out speed idioms (\"step on it\", \"not so fast\", \"back off a little\"), and stopping inside the 3 s horizon from "
    "speed is where the model itself falls short (its end speed often stays just above the 0.5 m/s that counts as stopped). "
    "Off-road comes mostly from lane changes asked where there is no lane (5.6% / 8.5% of their paths) and from paths that "
    "drift over the asphalt edge late in the 3 s horizon.",
    (f"Open-loop figures against the previous release (issue 18 item 5, same split and command): minADE@8 {c['min_ade']:.3f} vs "
     f"{prev['min_ade']:.3f} m, mean ADE {c['mean_ade']:.3f} vs {prev['mean_ade']:.3f} m, rotation error {c['rot_err_deg']:.2f} vs "
     f"{prev['rot_err_deg']:.2f} deg, compliance {100 * c['compliance']:.1f}% vs {100 * prev['compliance']:.1f}% (recorded phrasings); "
     f"issue 5's bars: minADE@8 {pct(c['min_ade'], a['min_ade']):.1f}% below baseline (a) (bar 30%), mean ADE "
     f"{pct(c['mean_ade'], b['mean_ade']):.1f}% below baseline (b) (bar 20%)."),
    (f"Wavelet loss, both runs with the same config, data, steps and seed (`ct1_no_wavelet` is the ablation): with it, rotation error "
     f"{c['rot_err_deg']:.2f} vs {nw['rot_err_deg']:.2f} deg, jerk {c['jerk']:.2f} vs {nw['jerk']:.2f} m/s^3, minADE {c['min_ade']:.3f} vs "
     f"{nw['min_ade']:.3f} m, ADE {c['ade']:.3f} vs {nw['ade']:.3f} m; instruction side: held-out phrasing compliance "
     f"{100 * ci['compliance']['test_phrasing']:.1f}% vs {100 * instructions['models']['ct1_no_wavelet']['compliance']['test_phrasing']:.1f}%, "
     f"worst-instruction off-road {100 * ci['offroad_worst_instruction']:.2f}% vs "
     f"{100 * instructions['models']['ct1_no_wavelet']['offroad_worst_instruction']:.2f}%. One seed each: differences of a few percent are "
     "within seed noise (the previous release's ablation, retrained with the same command, landed within 0.03 m of its own row).")
    if nw is not None and "ct1_no_wavelet" in instructions["models"] else "No ablation was evaluated with this card.",
    (f"Sampling latency (K=8, 10 DDIM steps, CFG 1.5; `python benchmarks/run.py trajectory`, ONNX Runtime on 2 cores, one run): p50 "
     f"{bench['p50_ms']:.1f} ms (eager PyTorch {bench['eager_p50_ms']:.0f} ms; matmul peak {bench['matmul_peak_gflops']:.0f} GFLOP/s in that "
     f"run). The parser's cost, queries alternating in the same run (the parse cache emptied before each, so every query parses): "
     f"{bench['paired_parser_p50_ms']:.1f} ms with the parser, {bench['no_parser_p50_ms']:.1f} ms for the same model and graph conditioned "
     f"on the raw text (the path before the parser): {100 * (bench['paired_parser_p50_ms'] / bench['no_parser_p50_ms'] - 1):+.1f}% — bar: "
     f"within 10% of today's, {met(bench['paired_parser_p50_ms'] <= 1.10 * bench['no_parser_p50_ms'])}; a repeated instruction is a cache "
     "look-up (2 us). Three earlier runs this session gave +3%, +10% and +15% (the last before the parser ran in numpy): the host is noisy."),
    ("Language data: the paraphrase bank (`ct1_sim/language/paraphrases.py`): train and test phrasings share no template, wrapper or "
     "connector; the probe set was written after the train bank was last changed and never used to change it. Honesty note: the "
     "first version of the bank scored 80.3% (whole intent) on the held-out test phrasings; the train bank was then broadened "
     "(overtake / pass, speed idioms, more turn and lane-change wordings) and the side was made lexical, with those errors in view, so "
     "the test figure is optimistic; the probe figure is not."),
    ("Off-road: a path leaves the drivable area when a camera centre (on the car's centre line, 1.5 m ahead of the rear axle) is off "
     "the asphalt the scenario layout records; every instruction is asked on every held-out image, in a held-out phrasing; a refused "
     f"(misread as unsupported) query drives no path ({ci['refused_queries']} of {instructions['queries_per_model']} queries)."),
    (f"Training: about {cpu_hours:.1f} CPU-hours for this model, estimated from the wall time of its one-thread run (feature "
     "extraction with every intent's drive ~7 min, steps 0-4000 ~29 min, 4000-7000 ~23 min), on a 2-core CPU shared with the ablation run."),
    ("Closed loop (issue 18 item 4; `ct1-sim sim eval --world procedural --policies ct1 --episodes 3 --seconds 30 --seed 0 --out "
     "out/sim/ct1-v7`, test towns 0-2): PDMS 0.497 (NC 1.000, DAC 0.667, TTC 1.000, EP 0.310, C 1.000), route completion 0.097, "
     "instruction success 0/3: in every episode the first maneuver, a left turn announced ~60 m before its junction, was missed "
     "(the car kept straight or turned too late and left the route; bird's-eye plots in that folder). The model is trained on "
     "clips that start 7-13 m before a junction, so the closed-loop approach is out of its training distribution. Only 3 episodes: "
     "the issue-17 bar (50 episodes, instruction success >= 85 %) is not measured, and would not be met."),
    "Data: the synthetic scenario generator only (no real driving data); expect a domain gap on nuScenes frames.",
]
cmds = {
    "data (2700 clips, ~12 min with 2 workers)": "ct1-sim scenarios render scenarios/urban.yaml --clips 1500 --out out/data/scenarios-v2.zarr --workers 2 && ct1-sim scenarios render scenarios/suburban.yaml --clips 500 --out out/data/scenarios-v2.zarr --workers 2 && ct1-sim scenarios render scenarios/highway.yaml --clips 700 --out out/data/scenarios-v2.zarr --workers 2",
    "train (one thread, beside the ablation; 4000 steps, then the same command with `--steps 7000`, which resumes at step 4000 with the cosine schedule spread over 7000 steps)": "OMP_NUM_THREADS=1 ct1-sim train trajectory --data out/data/scenarios-v2.zarr --config model/configs/ct1-tiny.yaml --out out/runs/ct1-tiny-v5 --cache out/runs/cache-v5 [--steps 7000]",
    "ablation without the wavelet loss (same steps, resume and seed)": "OMP_NUM_THREADS=1 ct1-sim train trajectory --data out/data/scenarios-v2.zarr --config model/configs/ct1-tiny.yaml --out out/runs/ct1-tiny-v5-nowavelet --cache out/runs/cache-v5b --wavelet-weight 0 [--steps 7000]",
    "instruction parser (retrained after the bank's last change; seconds)": "ct1-sim train parser --model model/ct1-tiny",
    "evaluate open loop (both runs and the baselines in one run)": f"ct1-sim eval trajectory --data out/data/scenarios-v2.zarr --model model/ct1-tiny --ablation out/runs/ct1-tiny-v5-nowavelet --report {traj_dir}",
    "evaluate instructions (both runs in one run)": f"ct1-sim eval instructions --data out/data/scenarios-v2.zarr --model model/ct1-tiny --ablation out/runs/ct1-tiny-v5-nowavelet --report {instr_dir}",
    "latency": "python benchmarks/run.py trajectory",
}
print(write_model_card(MODEL, m, cmds, notes, instructions).read_text())
