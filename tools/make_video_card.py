"""Write model/ct1-video-tiny/MODEL_CARD.md from out/eval-video/metrics.json, the training log and depth errors."""
import json
from pathlib import Path

from ct1_sim.data import ClipStore
from ct1_sim.video.evaluation import depth_errors, select_clips
from ct1_sim.video.loading import load_video_pipeline

m = json.loads(Path("out/eval-video/metrics.json").read_text())
log = json.loads(Path("model/ct1-video-tiny/training_log.json").read_text())
pipe = load_video_pipeline("model/ct1-video-tiny", device="cpu")
store = ClipStore.open("out/data/scenarios-v2.zarr")
depth = depth_errors(pipe, store, select_clips(store, "test", 40))
Path("out/eval-video/depth.json").write_text(json.dumps(depth, indent=1))
meth = m["methods"]
rows = "\n".join(f"| {k} | " + " | ".join(f"{v[c]:.3f}" if c in v else "-" for c in ["PSNR", "SSIM", "RotErr", "TransErr", "CamMC", "failed_frames"]) + " |" for k, v in meth.items())
ours, floor, wo, wf = meth["ct1_video"], meth["ground_truth"], meth["warp_only"], meth["warp_filled"]
size = sum(f.stat().st_size for f in Path("model/ct1-video-tiny").rglob("*.safetensors")) / 1e6
val = [h for h in log["denoise_history"] if "val" in h]
card = f"""# ct1-video-tiny — camera-controlled video model (CPU-trained)

Current front-camera frame + a camera trajectory -> the future frames a camera on that path would see
(`ct1_sim.video.CameraControlledVideoPipeline`, a diffusers `DiffusionPipeline`; 16 frames at 256x448 by default).

## Model

- **Depth network** (`depth_net/`, 0.80 M parameters): a small U-shaped conv net on the frame at 224x128 that predicts
  log depth as a residual over the ground plane a camera 1.5 m up, pitched 2 deg down, sees; clamped to [0.5, 200] m.
- **Forward warp** (no weights): the frame is unprojected with that depth and splatted into every future camera with
  bilinear footprints and a z-buffer (nearest surface wins); holes are filled by a push-pull pyramid.
- **Denoiser** (`denoiser/`, diffusers `UNet2DModel` (32, 48, 96), 1.5 M parameters): per future frame it sees the noisy
  sample, the hole-filled warp and its validity mask (folded 4x4 into channels) and the Plücker embedding of that camera
  relative to the current one (translations / 10 m), and predicts the finished frame as a residual over the warp
  (x0-prediction). DDIM (cosine schedule); default inference: 1 step from the warp noised to 15 % of the schedule
  (`strength=0.15`, chosen on 6 validation clips), all frames from the same noise. {size:.1f} MB of safetensors in all.

## Training data and run

- {log['train_clips']} clips of the scenario generator's train split (`out/data/scenarios-v2.zarr`, 16 frames at 5 Hz, 448x256,
  rendered depth), seed 0, on 2 CPU cores shared with other jobs.
- Depth: 300 steps, batch 8 current frames, L1 on log depth (train loss at the end {log['depth_history'][-1]['l1_log_depth']:.3f}).
  Denoiser: 1000 steps, batch 8 (2 clips x 4 future frames) of 224x128 crops of real warps made with the predicted
  depth, AdamW 5e-4 cosine, EMA 0.995 (end train MSE {log['denoise_history'][-2]['mse']:.4f} in [-1,1] units). Validation PSNR on 4 val clips
  (3 DDIM steps from pure noise): {', '.join(f"step {h['step']}: {h['val']['psnr']:.2f} dB (warp-only {h['val']['psnr_warp_only']:.2f})" for h in val)}.
- The shipped run was resumed twice with changed step counts (depth 500 -> 300 after 200 steps, denoiser 900 -> 1000
  before it started) to fit the session; `model/configs/ct1-video-tiny.yaml` holds the final counts, so a fresh run
  follows a slightly different learning-rate path.

## Held-out evaluation ({m['clips']} test clips spread over all families; unseen seeds and layouts)

| method | PSNR (dB) | SSIM | RotErr (rad) | TransErr | CamMC | failed frames |
| --- | --- | --- | --- | --- | --- | --- |
{rows}

- PSNR / SSIM against the rendered true future, frames 1-15. `warp_only`: the warp with holes black (the issue's
  baseline); `warp_filled`: the same warp with push-pull hole filling, no diffusion; `repeat_first`: frame 0 repeated.
- Camera control as CamI2V measures it: each video's camera path is estimated from its pixels (KLT tracks, essential
  matrix, triangulation, PnP with the known K, re-seeded as tracks die; `ct1_sim.video.camera_estimation`), then RotErr
  / TransErr / CamMC against the conditioning path, summed over 16 frames. `ground_truth` is the same estimator on the
  true rendered video: the floor. `failed frames`: frames per video the estimator could not localise (held pose).
- Depth network on frame 0 of the same clips (non-sky pixels): AbsRel {depth['abs_rel']:.3f}, RMSE {depth['rmse_m']:.2f} m,
  delta<1.25 {100 * depth['delta_1.25']:.1f} %.
- CamI2V's published RealEstate10K numbers (RotErr / TransErr / CamMC) 0.48 / 1.50 / 1.72 come from different data
  (real walk-throughs, 256x256, GLOMAP) and are shown for scale only.

## Bars (issue 6)

- RotErr within 1.5x of the estimator's floor: {ours['RotErr']:.3f} vs 1.5 x {floor['RotErr']:.3f} = {1.5 * floor['RotErr']:.3f} -> {'met' if m['bars']['RotErr_within_1.5x_floor'] else 'NOT met'}.
- TransErr within 1.5x of the floor: {ours['TransErr']:.3f} vs {1.5 * floor['TransErr']:.3f} -> {'met' if m['bars']['TransErr_within_1.5x_floor'] else 'NOT met'}.
- PSNR at least 1 dB above warp-only: {ours['PSNR']:.2f} vs {wo['PSNR']:.2f} dB -> {'met' if m['bars']['PSNR_1dB_over_warp_only'] else 'NOT met'}. Against the stronger
  warp + push-pull hole filling (no diffusion) the denoiser changes PSNR by {ours['PSNR'] - wf['PSNR']:+.2f} dB and SSIM by
  {ours['SSIM'] - wf['SSIM']:+.3f}: nearly all of the gain over warp-only comes from the warp and the fill. This small denoiser
  (1000 CPU steps) is the part to improve first; at 2 steps from strength 0.3 it added speckle (PSNR 19.01 vs the
  fill's 19.54 on these clips), so the default is 1 step from strength 0.15, the best setting on validation clips.
- Speed: see `benchmarks/bench_video.py` (the README's benchmark table): pipeline time per 16-frame video, p50 in this
  eval run (with other jobs on the machine): {m['seconds_per_video_p50']:.2f} s.

## Reproduce

- data: the three `ct1-sim scenarios render` commands in `model/ct1-tiny/MODEL_CARD.md`, into `out/data/scenarios-v2.zarr`.
- train (this run: depth 300 steps at ~1.5-4 s/step, denoiser ~33 min for its last 900 steps at `OMP_NUM_THREADS=1`, with other jobs on the 2 cores): `ct1-sim train video --data out/data/scenarios-v2.zarr --config model/configs/ct1-video-tiny.yaml --out out/runs/ct1-video-tiny` (run it again to resume).
- evaluate (4 min 46 s here): `ct1-sim eval video --data out/data/scenarios-v2.zarr --model model/ct1-video-tiny --report out/eval-video --max-clips 40`.

## Limits

- Synthetic scenes only; a static world is assumed by the warp (moving vehicles are warped as if parked), and the
  ground-plane prior assumes the scenario camera mount (1.5 m, 2 deg down).
- New content (a turn into a street the frame does not show) is a blurry guess: the denoiser is small and CPU-trained.
"""
Path("model/ct1-video-tiny/MODEL_CARD.md").write_text(card)
print(card)
