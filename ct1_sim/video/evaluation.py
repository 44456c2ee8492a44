"""``ct1-sim eval video``: fidelity, generation quality and camera control of the video model on held-out clips.

For each test clip the pipeline generates the future from frame 0 along the clip's true camera path. Beside it, in
the same run: ``warp_only`` (frame 0 warped with the model's depth, holes black), ``warp_filled`` (the same warp,
holes push-pull filled), ``warp_filled_true_depth`` (frame 0 warped with the *rendered* depth and filled: the geometry
ceiling with no generation), ``repeat_first`` (frame 0 repeated) and ``ground_truth`` (the rendered future, the floor
of the camera estimators). Measures, frames 1..T-1:

- PSNR / SSIM against the rendered truth;
- hole PSNR and hole sharpness (mean gradient magnitude / the truth's) over the **holes**: future pixels no point of
  frame 0 reaches under the true depth (:func:`true_depth_holes`);
- KID-MobileNetV2 x1000 (:mod:`ct1_sim.metrics.kernel_distance` on :mod:`ct1_sim.pretrained.image_features`) between
  each method's frames and the true frames pooled over all clips, for all frames and for frames 8-15;
- metric camera control: PnP of each frame against frame 0 lifted with the true depth (median rotation deg, camera
  centre m, share of frames not localised; :mod:`ct1_sim.video.metric_camera`);
- CamI2V's RotErr / TransErr / CamMC from :func:`ct1_sim.video.camera_estimation.estimate_camera_path`;
- the depth network on frame 0 against the rendered depth (AbsRel, also over object pixels alone, RMSE, delta<1.25,
  sky accuracy).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from ct1_sim.data import ClipStore
from ct1_sim.metrics import kernel_distance, masked_psnr, psnr, sharpness_ratio, ssim
from ct1_sim.metrics.camera_control import cam_mc, rot_err, trans_err
from ct1_sim.pretrained.image_features import ImageFeatures
from ct1_sim.video.camera_estimation import estimate_camera_path
from ct1_sim.video.depth_training import depth_scores
from ct1_sim.video.hole_fill import fill_holes
from ct1_sim.video.metric_camera import pnp_camera_errors
from ct1_sim.video.pipeline_ct1_video import CameraControlledVideoPipeline, to_uint8_frames
from ct1_sim.video.warp import forward_warp

log = logging.getLogger(__name__)

METHODS = ("ct1_video", "warp_only", "warp_filled", "warp_filled_true_depth", "repeat_first", "ground_truth")
CAMI2V_PUBLISHED = {"RotErr": 0.48, "TransErr": 1.50, "CamMC": 1.72}
#: Frames whose share of hole pixels is below this do not enter the hole measures.
MIN_HOLE_SHARE = 0.005
#: The late window of the KID measure (frame indices, inclusive).
LATE_FRAMES = (8, 15)


def sky_as_far(depth_m: np.ndarray, max_depth_m: float) -> torch.Tensor:
    """Rendered depth ``(H,W)`` (0 = sky) as a warp input: sky and anything farther at ``max_depth_m``."""
    d = np.asarray(depth_m, np.float32)
    return torch.from_numpy(np.where(d <= 0, max_depth_m, np.minimum(d, max_depth_m)).astype(np.float32))


@torch.no_grad()
def warp_videos(image: np.ndarray, depth: torch.Tensor, c2w_rel: np.ndarray, K: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame 0 warped with ``depth (H,W)`` into every camera: ``(holes black, push-pull filled, mask)`` as
    ``(T,H,W,3)`` uint8 twice (frame 0 first) and ``(T,H,W)`` bool (True where a source pixel landed)."""
    frame0 = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float() / 255.0
    warp = forward_warp(frame0, depth, torch.from_numpy(K).float(), torch.linalg.inv(torch.from_numpy(c2w_rel[1:]).float()))
    filled = fill_holes(warp.frames, warp.mask)
    to_u8 = lambda x: (torch.cat([frame0[None], x]).clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()  # noqa: E731
    mask = np.concatenate([np.ones((1, *image.shape[:2]), bool), warp.mask[:, 0].numpy() > 0.5])
    return to_u8(warp.frames * warp.mask), to_u8(filled), mask


def true_depth_holes(image: np.ndarray, depth_m: np.ndarray, c2w_rel: np.ndarray, K: np.ndarray, max_depth_m: float = 200.0) -> np.ndarray:
    """``(T,H,W)`` bool: pixels of each future frame that no point of frame 0 reaches under the true depth (frame 0:
    none)."""
    return ~warp_videos(image, sky_as_far(depth_m, max_depth_m), c2w_rel, K)[2]


def select_clips(store: ClipStore, split: str, max_clips: int | None) -> list[str]:
    """Test clip ids, spread evenly over the (sorted) split when capped so every family is represented."""
    ids = store.split_ids(split)
    if max_clips and len(ids) > max_clips:
        ids = [ids[i] for i in np.linspace(0, len(ids) - 1, max_clips).round().astype(int)]
    return ids


def _clip_scores(video: np.ndarray, truth: np.ndarray, holes: np.ndarray) -> dict[str, float]:
    frames = range(1, len(video))
    scores = {"PSNR": float(np.mean([psnr(video[j], truth[j]) for j in frames])),
              "SSIM": float(np.mean([ssim(video[j], truth[j]) for j in frames]))}
    big = [j for j in frames if holes[j].mean() >= MIN_HOLE_SHARE]
    scores["hole_PSNR"] = float(np.mean([masked_psnr(video[j], truth[j], holes[j]) for j in big])) if big else float("nan")
    sharp = [sharpness_ratio(video[j], truth[j], holes[j]) for j in big]
    scores["hole_sharpness"] = float(np.nanmean(sharp)) if big and not np.isnan(sharp).all() else float("nan")
    return scores


def evaluate_video(
    data: str | Path, model: str | Path | CameraControlledVideoPipeline, *, split: str = "test", max_clips: int | None = 36,
    num_inference_steps: int = 4, strength: float = 1.0, seed: int = 0, device: str = "cpu",
) -> dict[str, Any]:
    """Per-method measures over the split's clips (see the module docstring)."""
    from ct1_sim.video.loading import load_video_pipeline

    pipe = model if isinstance(model, CameraControlledVideoPipeline) else load_video_pipeline(model, device=device)
    store = ClipStore.open(data)
    ids = select_clips(store, split, max_clips)
    if not ids:
        raise ValueError(f"{data} has no clips with split={split!r}")
    max_d = pipe.depth_net.config.max_depth_m
    per: dict[str, dict[str, list[float]]] = {m: {} for m in METHODS}
    pnp: dict[str, dict[str, list[float]]] = {m: {"rot": [], "pos": [], "failed": []} for m in METHODS if m != "repeat_first"}
    frames_of: dict[str, list[np.ndarray]] = {m: [] for m in METHODS}
    seconds, hole_share = [], []
    for k, cid in enumerate(tqdm(ids, desc="eval video", unit="clip")):
        clip = store[cid]
        traj = clip.trajectory
        h, w = clip.frames.shape[1:3]
        depth0 = store.read_depth(cid, [0])[0].astype(np.float32)
        t0 = time.perf_counter()
        out = pipe(clip.frames[0], traj, num_frames=len(traj), height=h, width=w, num_inference_steps=num_inference_steps,
                   strength=strength, generator=torch.Generator().manual_seed(seed + k), output_type="np").frames
        seconds.append(time.perf_counter() - t0)
        c2w_rel, K = pipe.prepare_trajectory(traj, len(traj), w, h)
        frame0 = torch.from_numpy(np.ascontiguousarray(clip.frames[0])).permute(2, 0, 1)[None].float() / 255.0
        with torch.no_grad():
            pred_depth = pipe.depth_net(frame0, torch.from_numpy(K).float())[0]
        warp_only, warp_filled, _ = warp_videos(clip.frames[0], pred_depth, c2w_rel, K)
        _, true_filled, reached = warp_videos(clip.frames[0], sky_as_far(depth0, max_d), c2w_rel, K)
        holes = ~reached
        hole_share.append(float(holes[1:].mean()))
        videos = {"ct1_video": to_uint8_frames(out), "warp_only": warp_only, "warp_filled": warp_filled,
                  "warp_filled_true_depth": true_filled, "repeat_first": np.repeat(clip.frames[:1], len(traj), axis=0),
                  "ground_truth": clip.frames}
        for name, video in videos.items():
            scores = per[name]
            frames_of[name].append(video)
            if name != "ground_truth":
                for key, value in _clip_scores(video, clip.frames, holes).items():
                    scores.setdefault(key, []).append(value)
            est = estimate_camera_path(video, traj.K, seed=seed)
            scores.setdefault("RotErr", []).append(rot_err(est.c2w, c2w_rel))
            scores.setdefault("TransErr", []).append(trans_err(est.c2w, c2w_rel))
            scores.setdefault("CamMC", []).append(cam_mc(est.c2w, c2w_rel))
            scores.setdefault("failed_frames", []).append(len(est.failed))
            if name in pnp:
                errs = pnp_camera_errors(video, depth0, K, c2w_rel, seed=seed)
                pnp[name]["rot"] += errs.rotation_deg[~errs.failed].tolist()
                pnp[name]["pos"] += errs.position_m[~errs.failed].tolist()
                pnp[name]["failed"] += errs.failed.tolist()
    means = {m: {key: float(np.nanmean(v)) if not np.isnan(v).all() else float("nan") for key, v in s.items()} for m, s in per.items()}
    for name, e in pnp.items():
        means[name]["PnP_rot_deg"] = float(np.median(e["rot"])) if e["rot"] else float("nan")
        means[name]["PnP_pos_m"] = float(np.median(e["pos"])) if e["pos"] else float("nan")
        means[name]["PnP_failed_share"] = float(np.mean(e["failed"]))
    features = ImageFeatures()
    lo, hi = LATE_FRAMES
    true_all = features(np.concatenate([v[1:] for v in frames_of["ground_truth"]]))
    true_late = features(np.concatenate([v[lo : hi + 1] for v in frames_of["ground_truth"]]))
    for name in METHODS:
        if name == "ground_truth":
            continue
        means[name]["KID_x1000"] = 1000 * kernel_distance(true_all, features(np.concatenate([v[1:] for v in frames_of[name]])))
        means[name]["KID_late_x1000"] = 1000 * kernel_distance(true_late, features(np.concatenate([v[lo : hi + 1] for v in frames_of[name]])))
    ours, floor, ceiling = means["ct1_video"], means["ground_truth"], means["warp_filled_true_depth"]
    bars = {
        "KID_at_most_100": ours["KID_x1000"] <= 100,
        "KID_below_true_depth_warp_fill": ours["KID_x1000"] < ceiling["KID_x1000"],
        "PnP_rotation_at_most_0.4_deg": ours["PnP_rot_deg"] <= 0.4,
        "PnP_position_at_most_0.5_m": ours["PnP_pos_m"] <= 0.5,
        "PnP_failures_within_10_points_of_truth": ours["PnP_failed_share"] <= floor["PnP_failed_share"] + 0.10,
        "PSNR_within_1dB_of_true_depth_warp_fill": ours["PSNR"] >= ceiling["PSNR"] - 1.0,
    }
    depth = depth_scores(pipe.depth_net, store, ids)
    bars["depth_AbsRel_at_most_0.10"] = depth["abs_rel"] <= 0.10
    bars["depth_delta_1.25_at_least_90_percent"] = depth["delta_1.25"] >= 0.90
    return {"split": split, "clips": len(ids), "num_inference_steps": num_inference_steps, "strength": strength, "seed": seed,
            "hole_share": float(np.mean(hole_share)), "methods": means, "depth": depth, "bars": bars,
            "seconds_per_video_p50": float(np.median(seconds)), "cami2v_published": CAMI2V_PUBLISHED}


def write_video_report(results: dict[str, Any], report_dir: str | Path) -> Path:
    """``report.md`` + ``metrics.json`` in ``report_dir``; returns the markdown path."""
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "metrics.json").write_text(json.dumps(results, indent=1))
    cols = ["PSNR", "SSIM", "hole_PSNR", "hole_sharpness", "KID_x1000", "KID_late_x1000", "PnP_rot_deg", "PnP_pos_m",
            "PnP_failed_share", "RotErr", "TransErr", "CamMC"]
    lines = [(f"# Video model evaluation ({results['clips']} {results['split']} clips, {results['num_inference_steps']} DDIM steps, "
              f"strength {results['strength']}; {100 * results['hole_share']:.0f} % of future pixels are holes)"), "",
             "| method | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, m in results["methods"].items():
        lines.append(f"| {name} | " + " | ".join(f"{m[c]:.3f}" if c in m else "-" for c in cols) + " |")
    pub = results["cami2v_published"]
    lines += ["", ("PSNR (dB) / SSIM against the rendered future, frames 1..15. hole_*: over the future pixels no point of frame 0 "
                   "reaches under the true depth (sharpness: mean gradient magnitude / the truth's). KID-MobileNetV2 x1000: "
                   "ImageNet MobileNetV2 pooled features, all frames and frames 8-15, not comparable with Inception-based KID. "
                   "PnP_*: each frame's camera by PnP against frame 0 lifted with the true depth (median deg / m over localised "
                   "frames, share not localised); `ground_truth` is the floor. RotErr (rad) / TransErr / CamMC: CamI2V's, sums over 16 "
                   "frames from a scale-free estimator."), "",
              (f"CamI2V's published RealEstate10K numbers (RotErr / TransErr / CamMC): {pub['RotErr']} / {pub['TransErr']} / "
               f"{pub['CamMC']}: different data, for scale only."), "",
              "Bars: " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in results["bars"].items()), "",
              f"Pipeline time per video (p50, this machine): {results['seconds_per_video_p50']:.2f} s", "",
              ("Depth network on frame 0 of the same clips (surface pixels, sky excluded): AbsRel {abs_rel:.3f} (objects "
               "{abs_rel_objects:.3f}), RMSE {rmse_m:.2f} m, "
               "delta<1.25 {d:.1f} %, sky accuracy {sky:.1f} %").format(d=100 * results["depth"]["delta_1.25"],
                                                                         sky=100 * results["depth"]["sky_accuracy"], **results["depth"])]
    roll = results.get("rollouts")
    if roll:
        lines += ["", (f"## Long rollouts ({roll['drives']} drives in the procedural test towns, {roll['frames']} frames at 5 Hz, "
                       "generated from the first frame along the driven camera path)"), "",
                  "| window (s) | KID-MobileNetV2 x1000 | PSNR (dB) |", "|---|---|---|"]
        lines += [f"| {w['seconds'][0]:g}-{w['seconds'][1]:g} | {w['KID_x1000']:.1f} | {w['PSNR']:.2f} |" for w in roll["windows"]]
        revisit = "no drive came back to its start" if roll["revisit_PSNR"] is None else (
            f"PSNR of frames back within 8 m of the start: {roll['revisit_PSNR']:.2f} dB ({roll['revisit_drives']} drives)")
        lines += ["", f"Last window's KID / first window's: {roll['last_over_first_KID']:.2f}; {revisit}."]
    path = report_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
