"""Camera-controlled video: warping geometry, the diffusers pipeline, training, evaluation, the generate CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from ct1_sim.cli.app import app
from ct1_sim.data import ClipStore
from ct1_sim.geometry import CameraTrajectory, intrinsics_from_fov
from ct1_sim.metrics import psnr, rot_err, trans_err
from ct1_sim.video import CameraControlledVideoPipeline
from ct1_sim.video.camera_estimation import estimate_camera_path
from ct1_sim.video.depth_mobilenet import MobileNetDepth, separable_median
from ct1_sim.video.ground_prior import ground_plane_depth
from ct1_sim.video.point_cache import snap_depth_edges
from ct1_sim.video.warp import forward_warp, pixel_rays, splat_points
from tests.video_helpers import frames_u8, render_clips, tiny_pipeline

K = torch.tensor(intrinsics_from_fov(448, 256, 64.0), dtype=torch.float32)


def straight_path(metres: float, num: int = 16, size: tuple[int, int] = (448, 256)) -> CameraTrajectory:
    c2w = np.tile(np.eye(4), (num, 1, 1))
    c2w[:, 2, 3] = np.linspace(0, metres, num)
    return CameraTrajectory(c2w=c2w, K=intrinsics_from_fov(*size, 64.0), image_size=size,
                            timestamps_us=np.arange(num, dtype=np.int64) * 200_000)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> ClipStore:
    """Three real rendered clips (curve, intersection, highway) at the default 448x256."""
    return render_clips(tmp_path_factory.mktemp("video") / "clips.zarr",
                        [("suburban", "curve"), ("urban", "intersection"), ("highway", "lane_change")])


# ------------------------------------------------------------------ warping geometry
def test_identity_warp_returns_the_input() -> None:
    image = torch.rand(3, 256, 448)
    depth = torch.rand(256, 448) * 30 + 1
    out = forward_warp(image, depth, K, torch.eye(4)[None])
    assert out.mask.min() == 1
    assert torch.allclose(out.frames[0], image, atol=1e-6)
    assert torch.allclose(out.depth[0, 0], depth, rtol=1e-5)


def test_forward_translation_moves_and_enlarges_road_stripes_as_geometry_predicts() -> None:
    h, w, cam_h = 256, 448, 1.5
    depth = ground_plane_depth(K, h, w, cam_h, 500.0)  # flat road seen by a level camera
    image = torch.zeros(3, h, w)
    z_near, z_far = 10.0, 12.0  # a painted band across the road between 10 and 12 m ahead
    band = (depth >= z_near) & (depth <= z_far)
    image[:, band] = 1.0
    move = 4.0
    T = torch.eye(4)[None].clone()
    T[0, 2, 3] = -move  # target = source moved 4 m forward
    out = forward_warp(image, depth, K, T)
    fy, cy = float(K[1, 1]), float(K[1, 2])
    row = lambda z: cy + fy * cam_h / z - 0.5  # noqa: E731  pixel row of ground at depth z
    src_rows = torch.nonzero(band[:, 0])[:, 0]
    first, last = int(src_rows.min()), int(src_rows.max())  # the band's pixel rows in the source image
    z_first, z_last = float(depth[first, 0]), float(depth[last, 0])  # depths of those pixel centres
    rows = torch.nonzero((out.frames[0, 0] > 0.5) & (out.mask[0, 0] > 0))[:, 0].float()
    assert abs(rows.min().item() - row(z_first - move)) <= 1.0
    assert abs(rows.max().item() - row(z_last - move)) <= 1.0
    before = last - first
    after = rows.max().item() - rows.min().item()
    expected = row(z_last - move) - row(z_first - move)
    assert after > 1.5 * before and abs(after - expected) <= 2.0


def test_z_buffer_keeps_the_nearer_surface() -> None:
    image = torch.zeros(3, 64, 64)
    image[0] = 1.0  # far wall: red
    depth = torch.full((64, 64), 20.0)
    image[:, 24:40, 24:40] = torch.tensor([0.0, 0.0, 1.0])[:, None, None]  # near box: blue
    depth[24:40, 24:40] = 5.0
    Ks = torch.tensor([[50.0, 0, 32], [0, 50.0, 32], [0, 0, 1]])
    T = torch.eye(4)[None].clone()
    T[0, 0, 3] = -1.0  # camera moves 1 m right: the near box shifts left by 10 px, the wall by 2.5 px
    out = forward_warp(image, depth, Ks, T)
    centre = out.frames[0, :, 32, 22]
    assert centre[2] > 0.99 and centre[0] < 0.01  # the box covers the wall where both land


def test_driving_towards_a_wall_leaves_no_cracks_in_it() -> None:
    """Seen from a third of the distance a wall spans three times the pixels: plain 2x2 splats leave a grid of holes,
    magnified footprints cover it; and a depth step (box in front of the wall) stays a hole for the generator."""
    h, w = 128, 192
    Ks = torch.tensor([[100.0, 0, 96], [0, 100.0, 64], [0, 0, 1]])
    image = torch.rand(3, h, w)
    depth = torch.full((h, w), 30.0)
    T = torch.eye(4)[None].clone()
    T[0, 2, 3] = -20.0  # 20 m forward: the wall is now 10 m ahead
    plain = splat_points(pixel_rays(Ks, h, w).reshape(3, -1) * depth.reshape(1, -1), image.reshape(3, -1), Ks, T, h, w,
                         max_crack_px=0)
    inner = (slice(20, h - 20), slice(20, w - 20))
    assert float(plain.mask[0, 0][inner].mean()) < 0.5  # the old splat: most of the wall's interior is holes
    covered = forward_warp(image, depth, Ks, T)
    assert float(covered.mask[0, 0][inner].min()) == 1.0
    assert torch.allclose(covered.depth[0, 0][inner], torch.full_like(covered.depth[0, 0][inner], 10.0), rtol=1e-4)
    box = torch.full((h, w), 20.0)
    box[48:80, 80:112] = 5.0  # a box 15 m in front of a wall 20 m away
    T2 = torch.eye(4)[None].clone()
    T2[0, 0, 3] = -2.0  # 2 m right: the box moves 40 px left, the wall 10 px: a 30-px disocclusion
    out = forward_warp(image, box, Ks, T2)
    assert float(out.mask[0, 0, 52:76, 76:98].max()) == 0.0  # uncovered wall: a hole, not a blend of box and wall


def test_culling_unseen_points_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cloud mostly out of view (behind the camera, beside the frame) splats the same with and without the culling
    that makes long rollouts fast."""
    from ct1_sim.video import warp

    g = torch.Generator().manual_seed(0)
    pts = torch.rand(3, 20000, generator=g) * torch.tensor([[80.0], [6.0], [80.0]]) - torch.tensor([[40.0], [3.0], [30.0]])
    cols = torch.rand(3, 20000, generator=g)
    sizes = torch.rand(20000, generator=g) * 0.2
    T = torch.eye(4).repeat(3, 1, 1)
    T[1, 0, 3], T[2, 2, 3] = 2.0, -5.0
    behind_all = (pts[2][None] + T[:, 2, 3][:, None] <= 1e-3).all(dim=0)  # T only translates: z_view = z + t_z
    assert float(behind_all.float().mean()) > warp.CULL_WHEN_UNSEEN_SHARE  # so the culling path does run
    culled = splat_points(pts, cols, K, T, 256, 448, sizes_m=sizes)
    monkeypatch.setattr(warp, "CULL_WHEN_UNSEEN_SHARE", 2.0)  # never cull
    full = splat_points(pts, cols, K, T, 256, 448, sizes_m=sizes)
    assert float(culled.mask.mean()) > 0.05  # the scene is in view somewhere
    for a, b in ((culled.frames, full.frames), (culled.mask, full.mask), (culled.depth, full.depth), (culled.closed, full.closed)):
        assert torch.equal(a, b)


def test_road_rows_stretched_by_driving_forward_are_closed() -> None:
    h, w, cam_h = 256, 448, 1.5
    depth = ground_plane_depth(K, h, w, cam_h, 500.0)
    image = torch.rand(3, h, w)
    T = torch.eye(4)[None].clone()
    T[0, 2, 3] = -6.0
    out = forward_warp(image, depth, K, T)
    seen = out.depth[0, 0] > 0
    rows = torch.nonzero(seen.any(dim=1))[:, 0]
    road = out.mask[0, 0, int(rows.min()) + 2 : int(rows.max()) - 2]  # rows the old road covers in the new view
    assert float(road.mean()) > 0.99
    assert out.closed is not None and bool(out.closed.any())  # some of it by crack closing


def test_depth_edges_snap_to_one_side() -> None:
    """A depth network's blurred step (10 m box on a 40 m background) is snapped so no point floats between them;
    the road's smooth depth is left alone."""
    step = torch.full((32, 64), 40.0)
    step[:, :32] = 10.0
    blurred = torch.nn.functional.avg_pool2d(step[None, None], (1, 5), stride=1, padding=(0, 2), count_include_pad=False)[0, 0]
    snapped = snap_depth_edges(blurred)
    assert set(torch.unique(snapped[:, 4:-4]).tolist()) == {10.0, 40.0}
    assert torch.equal(snapped[:, :28], step[:, :28]) and torch.equal(snapped[:, 36:], step[:, 36:])
    road = ground_plane_depth(K, 256, 448, 1.5, 200.0)[140:]
    assert torch.equal(snap_depth_edges(road), road)


# ------------------------------------------------------------------ pipeline
def pan_path(degrees: list[float], size: tuple[int, int] = (128, 64)) -> CameraTrajectory:
    """A camera at the origin turning right by each of ``degrees`` (yaw about the camera's y axis)."""
    c2w = np.tile(np.eye(4), (len(degrees), 1, 1))
    for i, deg in enumerate(degrees):
        a = np.radians(deg)
        c2w[i, :3, :3] = [[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]
    return CameraTrajectory(c2w=c2w, K=intrinsics_from_fov(*size, 64.0), image_size=size,
                            timestamps_us=np.arange(len(degrees), dtype=np.int64) * 200_000)


def test_pipeline_outputs_round_trip_and_bad_inputs(tmp_path: Path) -> None:
    pipe = tiny_pipeline()
    image = (np.random.default_rng(0).random((128, 256, 3)) * 255).astype(np.uint8)
    traj = straight_path(6.0, size=(256, 128))
    kw = {"num_frames": 8, "height": 64, "width": 128, "num_inference_steps": 2}
    a = pipe(image, traj, generator=torch.Generator().manual_seed(3), output_type="np", **kw).frames
    assert a.shape == (1, 8, 64, 128, 3) and 0 <= a.min() and a.max() <= 1
    pt = pipe(image, traj, generator=torch.Generator().manual_seed(3), output_type="pt", **kw).frames
    assert pt.shape == (1, 8, 3, 64, 128) and np.allclose(pt.permute(0, 1, 3, 4, 2).numpy(), a, atol=1e-6)
    pil = pipe(image, traj, generator=torch.Generator().manual_seed(3), **kw).frames
    assert len(pil[0]) == 8 and pil[0][0].size == (128, 64)
    other = pipe(image, traj, generator=torch.Generator().manual_seed(4), output_type="np", **kw).frames
    assert not np.allclose(a, other)
    pipe.save_pretrained(tmp_path / "pipe")
    again = CameraControlledVideoPipeline.from_pretrained(tmp_path / "pipe")
    again.set_progress_bar_config(disable=True)
    b = again(image, traj, generator=torch.Generator().manual_seed(3), output_type="np", **kw).frames
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)  # same video; multi-threaded conv sums may differ in the last bit
    with pytest.raises(ValueError, match="RGB uint8"):
        pipe(np.zeros((64, 64), np.uint8), traj, **kw)
    with pytest.raises(ValueError, match="CameraTrajectory"):
        pipe(image, np.eye(4)[None], **kw)
    with pytest.raises(ValueError, match="multiples of 32"):
        pipe(image, traj, num_frames=8, height=60, width=128)
    with pytest.raises(ValueError, match=r"num_frames must be in \[2, 301\]"):
        pipe(image, straight_path(60.0, num=1000, size=(256, 128)), height=64, width=128)
    with pytest.raises(ValueError, match="leaves no denoising step"):
        pipe(image, traj, strength=0.1, **kw)
    bad = straight_path(6.0, size=(256, 128)).c2w.copy()
    bad[3, 0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):  # a NaN pose never reaches the pipeline
        CameraTrajectory(c2w=bad, K=traj.K, image_size=traj.image_size, timestamps_us=traj.timestamps_us)
    with pytest.raises(ValueError, match="the limit is 5000 m"):
        pipe(image, straight_path(9000.0, num=4, size=(256, 128)), height=64, width=128)


def test_identity_trajectory_video_keeps_the_first_frame() -> None:
    """Every pixel is rendered from the cache: known-region replacement returns frame 0 unchanged."""
    pipe = tiny_pipeline()
    image = (np.random.default_rng(1).random((64, 128, 3)) * 255).astype(np.uint8)
    still = pan_path([0.0] * 4)
    video = frames_u8(pipe(image, still, height=64, width=128, num_inference_steps=2, output_type="np").frames)
    assert np.array_equal(video[0], image)
    assert np.abs(video[1:].astype(int) - image.astype(int)).max() <= 1


def test_holes_are_generated_and_rendered_pixels_kept() -> None:
    pipe = tiny_pipeline()
    image = (np.random.default_rng(2).random((64, 128, 3)) * 255).astype(np.uint8)
    traj = pan_path([0.0, 15.0])
    video = frames_u8(pipe(image, traj, height=64, width=128, num_inference_steps=3, output_type="np").frames)
    # panning right by 15 deg: about the right quarter of frame 1 was never seen
    seen = video[1][:, :64].astype(int)
    new = video[1][:, -20:].astype(int)
    shifted = image[:, 32:96].astype(int)  # the seen part moved left by ~35 px under a pure rotation
    assert np.abs(seen[:, :30] - shifted[:, :30]).mean() < np.abs(seen[:, :30] - image[:, :30].astype(int)).mean()
    assert new.std() > 1.0  # generated content, not a flat fill


def test_revisited_content_is_rendered_from_the_cache() -> None:
    """Pan out and back: frame 3 looks where frame 1 looked, so it shows frame 1's generated pixels again."""
    pipe = tiny_pipeline()
    image = (np.random.default_rng(3).random((64, 128, 3)) * 255).astype(np.uint8)
    traj = pan_path([0.0, 10.0, 20.0, 10.0, 0.0])
    video = frames_u8(pipe(image, traj, height=64, width=128, num_inference_steps=2, chunk_size=1,
                           generator=torch.Generator().manual_seed(0), output_type="np").frames)
    from ct1_sim.metrics import psnr as frame_psnr

    assert frame_psnr(video[3], video[1]) > 30
    assert frame_psnr(video[4], image) > 30
    no_memory = frames_u8(pipe(image, pan_path([0.0, 10.0, 20.0, 10.0]), height=64, width=128, num_inference_steps=2,
                               chunk_size=4, generator=torch.Generator().manual_seed(1), output_type="np").frames)
    assert frame_psnr(no_memory[3], video[1]) < frame_psnr(video[3], video[1])


def test_strength_callbacks_and_streaming() -> None:
    pipe = tiny_pipeline()
    assert len(pipe.get_timesteps(10, 0.3)) == 3 and len(pipe.get_timesteps(10, 1.0)) == 10
    assert pipe.get_timesteps(10, 0.3).tolist() == pipe.get_timesteps(10, 1.0).tolist()[-3:]
    image = (np.random.default_rng(4).random((64, 128, 3)) * 255).astype(np.uint8)
    traj = straight_path(3.0, num=6, size=(128, 64))
    seen: list[int] = []

    def zero_latents(p, i, t, kwargs):
        seen.append(i)
        return {"latents": torch.zeros_like(kwargs["latents"])}

    out = frames_u8(pipe(image, traj, height=64, width=128, num_inference_steps=2, chunk_size=2,
                         callback_on_step_end=zero_latents, output_type="np").frames)
    assert seen == list(range(6))  # 3 chunks x 2 steps
    assert (np.abs(out[1:].astype(int) - 128) <= 1).any()  # zeroed latents -> mid-grey where nothing was rendered
    kw = {"height": 64, "width": 128, "num_inference_steps": 2, "chunk_size": 2}
    full = frames_u8(pipe(image, traj, generator=torch.Generator().manual_seed(5), output_type="np", **kw).frames)
    streamed = list(pipe.stream(image, traj, generator=torch.Generator().manual_seed(5), first_chunk=2, **kw))
    assert [j for j, _ in streamed] == list(range(6))
    assert all(np.array_equal(frame, full[j]) for j, frame in streamed)


def test_long_paths_run_in_one_call() -> None:
    pipe = tiny_pipeline()
    image = (np.random.default_rng(5).random((64, 128, 3)) * 255).astype(np.uint8)
    traj = straight_path(100.0, num=101, size=(128, 64))
    video = pipe(image, traj, height=64, width=128, num_inference_steps=1, chunk_size=8, output_type="np").frames
    assert video.shape == (1, 101, 64, 128, 3) and np.isfinite(video).all()


# ------------------------------------------------------------------ camera estimation and metrics
def test_camera_estimator_recovers_rendered_camera_paths(rendered: ClipStore) -> None:
    for cid in rendered.ids():
        clip = rendered[cid]
        est = estimate_camera_path(clip.frames, clip.trajectory.K)
        gt = clip.trajectory.relative_to_first().c2w
        assert len(est.failed) <= 2, cid
        assert rot_err(est.c2w, gt) < 1.0 and trans_err(est.c2w, gt) < 1.5, cid
        still = estimate_camera_path(np.repeat(clip.frames[:1], 16, axis=0), clip.trajectory.K)
        assert trans_err(still.c2w, gt) > 3 * trans_err(est.c2w, gt)  # a frozen video does not follow the path


# ------------------------------------------------------------------ training, evaluation, CLI
def test_train_resume_and_eval_video(tmp_path: Path, rendered: ClipStore) -> None:
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(
        "depth_net: {decoder_channels: [16, 16, 8, 8]}\n"
        "denoiser: {block_out_channels: [16, 32], attention_head_dim: 8, embed_channels: 16}\n"
        "depth: {steps: 2, batch_size: 2, warmup_steps: 1}\ndenoise: {steps: 2, batch_size: 2, warmup_steps: 1}\n"
        "depth_crop: [128, 64]\ngenerator_crop: [128, 64]\nval_clips: 0\ncheckpoint_every: 1\nlog_every: 1\n"
    )
    run = CliRunner()
    out = tmp_path / "run"
    result = run.invoke(app, ["train", "video", "--data", str(rendered.path), "--config", str(cfg), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "model_index.json").is_file() and (out / "checkpoints" / "generator" / "step_0000002").is_dir()
    result = run.invoke(app, ["train", "video", "--data", str(rendered.path), "--config", str(cfg), "--out", str(out),
                              "--depth-steps", "3", "--denoise-steps", "3"])
    assert result.exit_code == 0, result.output
    log = json.loads((out / "training_log.json").read_text())
    assert [h["step"] for h in log["history"]["generator"]] == [1, 2, 3]  # resumed, not restarted
    report = tmp_path / "report"
    result = run.invoke(app, ["eval", "video", "--data", str(rendered.path), "--model", str(out), "--report", str(report),
                              "--split", "train", "--max-clips", "2", "--steps", "1", "--drives", "1", "--drive-seconds", "4"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((report / "metrics.json").read_text())
    methods = metrics["methods"]
    assert set(methods) == {"ct1_video", "warp_only", "warp_filled", "warp_filled_true_depth", "repeat_first", "ground_truth"}
    assert methods["repeat_first"]["TransErr"] > methods["ground_truth"]["TransErr"]
    # the true-depth warp is the geometry ceiling: it beats frame 0 repeated on KID and metric camera position
    assert methods["warp_filled_true_depth"]["PSNR"] > methods["repeat_first"]["PSNR"]
    assert methods["ground_truth"]["PnP_pos_m"] < 0.5 and 0 <= methods["ct1_video"]["PnP_failed_share"] <= 1
    assert np.isfinite(methods["ct1_video"]["KID_x1000"]) and np.isfinite(methods["ct1_video"]["hole_PSNR"])
    assert "depth" in metrics and 0 < metrics["depth"]["abs_rel"]
    roll = metrics["rollouts"]
    assert roll["drives"] == 1 and roll["frames"] == 21 and len(roll["windows"]) == 1  # 4 s at 5 Hz: one 4-s window
    assert "Long rollouts" in (report / "report.md").read_text()


def test_fine_tune_starts_from_a_saved_pipeline(tmp_path: Path, rendered: ClipStore) -> None:
    """init_from: a run starts from a saved pipeline's weights; an added refinement head starts as a no-op; a stage
    with 0 steps is kept as it was; the gradient matching loss trains the depth net."""
    from ct1_sim.video.depth_mobilenet import gradient_matching_loss
    from ct1_sim.video.training import train_video_model

    base = tiny_pipeline()
    base.save_pretrained(tmp_path / "base")
    cfg = tmp_path / "ft.yaml"
    cfg.write_text(
        f"init_from: {tmp_path / 'base'}\n"
        "depth_net: {decoder_channels: [16, 16, 8, 8], refine_channels: 8}\n"
        "denoiser: {block_out_channels: [16, 32], attention_head_dim: 8, embed_channels: 16}\n"
        "depth: {steps: 2, batch_size: 2, warmup_steps: 1}\ndenoise: {steps: 0}\ndepth_gradient_weight: 1.0\n"
        "depth_crop: [128, 64]\nval_clips: 0\ncheckpoint_every: 1\nlog_every: 1\n")
    net = MobileNetDepth(decoder_channels=(16, 16, 8, 8), refine_channels=8)
    net.load_state_dict(base.depth_net.state_dict(), strict=False)
    rgb, Kb = torch.rand(1, 3, 64, 128), K.clone()
    assert torch.allclose(net(rgb, Kb), base.depth_net(rgb, Kb))  # the zero-initialised head changes nothing at first
    (tmp_path / "base" / "training_log.json").write_text(json.dumps({"history": {"generator": [{"step": 7}]}}))
    pipe = train_video_model(rendered.path, cfg, tmp_path / "ft")
    assert pipe is not None and pipe.depth_net.refine is not None
    log = json.loads((tmp_path / "ft" / "training_log.json").read_text())
    assert [h["step"] for h in log["history"]["depth"]] == [1, 2] and "generator" not in log["history"]
    assert log["init_from_log"]["history"]["generator"] == [{"step": 7}]  # the provenance of the kept weights
    for a, b in zip(pipe.denoiser.state_dict().values(), base.denoiser.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # the generator (0 steps) is the saved one
    assert not torch.equal(pipe.depth_net.refine[-1].weight, torch.zeros_like(pipe.depth_net.refine[-1].weight))
    truth = torch.rand(1, 32, 32) * 20 + 5
    step = torch.ones(1, 32, 32)
    step[:, :, 16:] = 3.0
    flat = gradient_matching_loss(truth.log() + 0.7, truth.log(), torch.ones_like(truth, dtype=torch.bool))
    assert float(flat) < 1e-5  # a prediction off by one factor everywhere has no gradient error
    assert float(gradient_matching_loss((truth * step).log(), truth.log(), torch.ones_like(truth, dtype=torch.bool))) > 0.1
    bad = tmp_path / "bad_init.yaml"
    bad.write_text(f"init_from: {tmp_path / 'nowhere'}\ndenoise: {{steps: 0}}\n")
    result = CliRunner().invoke(app, ["train", "video", "--data", str(rendered.path), "--config", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "init_from" in result.output and "not found" in result.output, result.output


def test_bad_training_config_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("denoise: {steps: 0}\n")
    result = CliRunner().invoke(app, ["train", "video", "--data", str(tmp_path / "none.zarr"), "--config", str(cfg),
                                      "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "denoise.steps must be >= 1" in result.output


@pytest.mark.timeout(300)
def test_distributed_video_training_two_ranks_end_identical(tmp_path: Path, rendered: ClipStore) -> None:
    import os
    import subprocess
    import sys

    from safetensors.torch import load_file

    repo = Path(__file__).resolve().parents[1]
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(
        "depth_net: {decoder_channels: [16, 16, 8, 8]}\n"
        "denoiser: {block_out_channels: [16, 32], attention_head_dim: 8, embed_channels: 16}\n"
        "depth: {steps: 2, batch_size: 2, warmup_steps: 1}\ndenoise: {steps: 3, batch_size: 2, warmup_steps: 1}\n"
        "depth_crop: [128, 64]\ngenerator_crop: [128, 64]\nval_clips: 0\ncheckpoint_every: 10\nlog_every: 1\n"
    )
    script = tmp_path / "rank.py"
    script.write_text(
        "import sys, torch\n"
        f"sys.path.insert(0, {str(repo)!r})\n"
        "torch.set_num_threads(1)\n"
        "import torch.distributed as dist\n"
        "from safetensors.torch import save_file\n"
        "from ct1_sim.video.training import train_video_model\n"
        f"pipe = train_video_model({str(rendered.path)!r}, {str(cfg)!r}, {str(tmp_path / 'ddp')!r})\n"
        f"save_file(pipe.denoiser.state_dict(), {str(tmp_path)!r} + '/rank' + str(dist.get_rank()) + '.safetensors')\n"
        "dist.destroy_process_group()\n"
    )
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(script)],
                          capture_output=True, check=False, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=280)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rank0, rank1 = load_file(str(tmp_path / "rank0.safetensors")), load_file(str(tmp_path / "rank1.safetensors"))
    for key in rank0:
        torch.testing.assert_close(rank0[key], rank1[key], rtol=0, atol=0)
    from ct1_sim.video import InpaintDenoiser, MobileNetDepth

    torch.manual_seed(0)  # the trainer's initialisation: the seed, then the depth net, then the denoiser
    MobileNetDepth(decoder_channels=(16, 16, 8, 8))
    fresh = InpaintDenoiser(block_out_channels=(16, 32), attention_head_dim=8, embed_channels=16).state_dict()
    assert not torch.equal(rank0["unet.conv_out.weight"], fresh["unet.conv_out.weight"])  # it trained
    assert (tmp_path / "ddp" / "model_index.json").is_file()


def test_shipped_model_follows_the_camera_path(rendered: ClipStore) -> None:
    """A clip generated by model/ct1-video-small has its trajectory's camera motion (estimator within the bar)."""
    from ct1_sim.paths import VIDEO_MODEL, default_model_dir
    from ct1_sim.video.loading import load_video_pipeline

    pipe = load_video_pipeline(default_model_dir(VIDEO_MODEL), device="cpu")
    for cid in rendered.ids():
        clip = rendered[cid]
        gt = clip.trajectory.relative_to_first().c2w
        video = frames_u8(pipe(clip.frames[0], clip.trajectory, generator=torch.Generator().manual_seed(0), output_type="np").frames)
        gen = estimate_camera_path(video, clip.trajectory.K)
        floor = estimate_camera_path(clip.frames, clip.trajectory.K)
        assert trans_err(gen.c2w, gt) <= max(1.5 * trans_err(floor.c2w, gt), 0.5), cid
        assert rot_err(gen.c2w, gt) <= max(1.5 * rot_err(floor.c2w, gt), 0.3), cid
        assert psnr(video[8], clip.frames[8]) > psnr(clip.frames[0], clip.frames[8])  # better than a frozen frame


def test_depth_median_removes_speckle_and_keeps_edges() -> None:
    """The depth a warp gets (median_px > 1) has isolated wrong pixels removed and a step edge left a step;
    the training outputs are not filtered, and an even or negative window is a clear error."""
    depth = torch.full((1, 40, 60), 10.0)
    depth[:, :, 30:] = 40.0  # a depth edge: a tree in front of houses
    noisy = depth.clone()
    noisy[0, 5, 5], noisy[0, 20, 45], noisy[0, 33, 12] = 200.0, 1.0, 90.0  # speckle: sky, near, far
    filtered = separable_median(noisy.log(), 5).exp()
    assert torch.allclose(filtered, depth)
    net = MobileNetDepth(decoder_channels=(16, 16, 8, 8), median_px=7)
    torch.nn.init.normal_(net.head.weight, std=0.5)  # a noisy depth (the zero-initialised head gives the smooth prior)
    rgb, Kb = torch.rand(1, 3, 64, 128), torch.tensor(intrinsics_from_fov(128, 64, 70.0), dtype=torch.float32)
    with torch.no_grad():
        raw = net(rgb, Kb, return_all=True).depth
        returned = net(rgb, Kb)
    assert not torch.allclose(returned, raw)  # the filter did something
    assert torch.allclose(returned, separable_median(raw.log(), 7).exp())
    for bad in (4, -1):
        with pytest.raises(ValueError, match="median_px"):
            MobileNetDepth(decoder_channels=(16, 16, 8, 8), median_px=bad)


def test_channels_last_depth_gives_the_same_depth_and_saves(tmp_path: Path) -> None:
    """The loaded pipeline's depth network runs channels-last on the CPU (faster convolutions): the same depth as the
    plain layout, and it still saves and reloads."""
    from ct1_sim.paths import VIDEO_MODEL, default_model_dir
    from ct1_sim.video.loading import load_video_pipeline

    torch.manual_seed(0)
    net = MobileNetDepth(decoder_channels=(16, 16, 8, 8), median_px=3).eval()
    torch.nn.init.normal_(net.head.weight, std=0.5)
    rgb, Kb = torch.rand(2, 3, 64, 128), torch.tensor(intrinsics_from_fov(128, 64, 70.0), dtype=torch.float32)
    with torch.no_grad():
        plain = net(rgb, Kb)
        net.channels_last_inference()
        assert net.encoder[0][0].weight.is_contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(net(rgb, Kb), plain, rtol=1e-5, atol=1e-5)
    net.save_pretrained(tmp_path / "depth")
    with torch.no_grad():
        torch.testing.assert_close(MobileNetDepth.from_pretrained(tmp_path / "depth").eval()(rgb, Kb), plain, rtol=1e-5, atol=1e-5)
    assert load_video_pipeline(default_model_dir(VIDEO_MODEL), device="cpu").depth_net._channels_last


def test_a_session_caches_small_holes_only_once_enough_gather() -> None:
    """``min_hole_pixels``: a frame showing fewer new pixels than that adds none of them to the 3D memory (no depth
    pass) and they are generated again next time; a larger reveal is cached as before."""
    pipe = tiny_pipeline()
    image = (np.random.default_rng(4).random((64, 128, 3)) * 255).astype(np.uint8)
    K = intrinsics_from_fov(128, 64, 70.0)
    pose = pan_path([0.0, 15.0]).relative_to_first().c2w[1]  # panning right 15 deg: ~a quarter of the frame is new
    depth_calls = []
    original = type(pipe.depth_net).forward

    def counting(net: MobileNetDepth, *args: object, **kwargs: object) -> torch.Tensor:
        depth_calls.append(1)
        return original(net, *args, **kwargs)

    sizes = {}
    for threshold in (0, 10**6):
        session = pipe.start_session(image, K, (128, 64), height=64, width=128, num_inference_steps=2,
                                     generator=torch.Generator().manual_seed(0), min_hole_pixels=threshold)
        before = len(session.cache)
        type(pipe.depth_net).forward = counting  # type: ignore[method-assign]
        try:
            depth_calls.clear()
            frame = session.generate(pose[None])
        finally:
            type(pipe.depth_net).forward = original  # type: ignore[method-assign]
        sizes[threshold] = (len(session.cache) - before, len(depth_calls), frame)
    assert sizes[0][0] > 1000 and sizes[0][1] == 1  # the reveal joined the memory, through one depth pass
    assert sizes[10**6][0] < sizes[0][0] / 4 and sizes[10**6][1] == 0  # left out (only crack-closed pixels, no depth pass)
    torch.testing.assert_close(sizes[0][2], sizes[10**6][2])  # the frame itself is the same
