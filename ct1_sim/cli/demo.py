"""``ct1-sim demo``: the README's main job, on the bundled sample frames.

For each sample it predicts K trajectories with the shipped trajectory model (when ``model/ct1-tiny`` is
there), writes them in every pose format, draws them into the frame next to the scenario generator's true
future and from above, renders the future video along the most typical sample (the medoid) with the shipped
video model (when ``model/ct1-video-small`` is there) as MP4s (generated, and side by side with the path), and
links everything from ``index.html``. It says plainly which stages are missing and never fakes them.
"""

from __future__ import annotations

import html
import json
import logging
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from PIL import Image
from tqdm import tqdm

from ct1_sim.clip_spec import RATE_HZ
from ct1_sim.data.samples import Sample, load_samples
from ct1_sim.formats import FORMAT_SUFFIXES, FORMATS, read_trajectory, write_trajectory
from ct1_sim.geometry import CameraTrajectory
from ct1_sim.metrics import classify_maneuver, medoid_index
from ct1_sim.paths import TRAJECTORY_MODEL, VIDEO_MODEL, default_model_dir
from ct1_sim.viz import draw_paths, plot_birds_eye
from ct1_sim.world import WorldModel


def _model_status() -> dict[str, str]:
    status = {}
    for key, name, marker in (("trajectory model", TRAJECTORY_MODEL, "config.json"), ("video model", VIDEO_MODEL, "model_index.json")):
        path = default_model_dir(name)
        status[key] = f"found at {path}" if (path / marker).is_file() else f"not shipped yet ({path} missing)"
    return status


def _write_video(sample: Sample, folder: Path, world: WorldModel, predicted: list[CameraTrajectory], seed: int) -> dict[str, object]:
    """Render the medoid sample's future video; write generated.mp4, side_by_side.mp4 and a 4-frame strip PNG."""
    from ct1_sim.media import write_mp4
    from ct1_sim.viz.side_by_side import side_by_side

    chosen = medoid_index(predicted)
    result = world.rollout(sample.image, predicted[chosen], seed=seed)
    write_mp4(result.frames, folder / "generated.mp4", fps=result.fps)
    write_mp4(side_by_side(sample.image, result.frames, predicted, chosen), folder / "side_by_side.mp4", fps=result.fps)
    picks = np.linspace(0, len(result.frames) - 1, 4).round().astype(int)
    Image.fromarray(np.concatenate([result.frames[i] for i in picks], axis=1)).save(folder / "frames.png")
    return {"video_sample": chosen, "video_frames": len(result.frames), "video_fps": result.fps}


def _write_formats(traj: CameraTrajectory, folder: Path) -> dict[str, str]:
    """Write ``traj`` in every pose format, read each back and check it (relative to frame 0)."""
    written = {}
    reference = traj.relative_to_first()
    for fmt in FORMATS:
        path = folder / f"trajectory{FORMAT_SUFFIXES[fmt]}"
        write_trajectory(traj, path, fmt)
        back = read_trajectory(path, fmt, image_size=traj.image_size, rate_hz=RATE_HZ).relative_to_first()
        if not np.allclose(back.c2w, reference.c2w, atol=1e-6):
            raise RuntimeError(f"{fmt} round trip changed the trajectory ({path})")
        written[fmt] = path.name
    return written


def _run_sample(sample: Sample, folder: Path, world: WorldModel | None, num_samples: int, seed: int) -> dict[str, object]:
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sample.image).save(folder / "input.png")
    row: dict[str, object] = {"name": sample.name, "instruction": sample.instruction, "speed_mps": sample.speed_mps,
                              "maneuver_label": sample.maneuver}
    gt = sample.trajectory
    predicted: list[CameraTrajectory] = []
    if world is not None:
        prediction = world.predict(sample.image, sample.instruction, num_samples=num_samples, seed=seed, speed=sample.speed_mps)
        predicted, labels = prediction.trajectories, prediction.maneuvers
        row["predicted_maneuvers"] = labels
        row["read_as"] = prediction.instruction
        row["compliance"] = float(np.mean([m == sample.maneuver for m in labels])) if sample.maneuver else None
        for i, traj in enumerate(predicted):
            sub = folder / f"sample_{i:02d}"
            sub.mkdir(exist_ok=True)
            _write_formats(traj, sub)
        row["files"] = _write_formats(predicted[0], folder)
        if world.video_model is not None:
            row.update(_write_video(sample, folder, world, predicted, seed))
        if gt is not None:
            from ct1_sim.metrics import min_ade

            row["min_ade_m"] = round(min_ade(predicted, gt), 3)
    elif gt is not None:
        row["files"] = _write_formats(gt, folder)
    if gt is not None:
        row["maneuver_from_true_path"] = classify_maneuver(gt)
    Image.fromarray(draw_paths(sample.image, predicted, ground_truth=gt)).save(folder / "overlay.png")
    plot_birds_eye(folder / "birds_eye.png", predicted, ground_truth=gt, title=sample.instruction,
                   labels=[f"{i}: {m}" for i, m in enumerate(row.get("predicted_maneuvers", []))] or None)
    return row


def _write_html(out: Path, rows: list[dict[str, object]], status: dict[str, str], seconds: float) -> Path:
    esc = html.escape
    parts = [
        "<!doctype html><meta charset='utf-8'><title>ct1-sim demo</title>",
        "<style>body{font-family:sans-serif;margin:2em}img{max-width:448px;margin:4px}td{padding:4px 8px}</style>",
        "<h1>ct1-sim demo</h1>",
        "<h2>What ran</h2><table>",
    ]
    parts += [f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in status.items()]
    parts.append(f"</table><p>{len(rows)} samples in {seconds:.1f} s.</p>")
    for row in rows:
        name = esc(str(row["name"]))
        parts.append(f"<h2>{name}: “{esc(str(row['instruction']))}”</h2>")
        parts.append(f"<p>speed {row.get('speed_mps')} m/s; true maneuver {esc(str(row.get('maneuver_label')))}; "
                     f"predicted: {esc(', '.join(map(str, row.get('predicted_maneuvers', []))) or 'no model')}; "
                     f"minADE@K {row.get('min_ade_m', '-')} m. White dashes: the true future; colours: the K samples.</p>")
        imgs = ["input.png", "overlay.png", "birds_eye.png"]
        parts.append("".join(f"<img src='{name}/{i}' alt='{i}'>" for i in imgs if (out / str(row["name"]) / i).exists()))
        if (out / str(row["name"]) / "side_by_side.mp4").exists():
            parts.append(f"<p>Future video along sample {row.get('video_sample')} (the medoid of the K samples): "
                         f"<a href='{name}/generated.mp4'>generated.mp4</a></p>"
                         f"<video src='{name}/side_by_side.mp4' controls loop muted autoplay width='896'></video><br>"
                         f"<img src='{name}/frames.png' alt='frames 0, 5, 10, 15' style='max-width:896px'>")
        files = row.get("files", {})
        if isinstance(files, dict):
            parts.append("<p>" + " · ".join(f"<a href='{name}/{esc(f)}'>{esc(fmt)}</a>" for fmt, f in files.items()) + "</p>")
    page = out / "index.html"
    page.write_text("\n".join(parts))
    return page


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the results.")] = Path("out/demo"),
    samples: Annotated[int, typer.Option(help="Trajectories K per frame.")] = 8,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
) -> None:
    """Run the main job on the bundled sample frames and write trajectories, overlays and an HTML summary."""
    t0 = time.perf_counter()
    status = _model_status()
    for key, value in status.items():
        typer.echo(f"{key}: {value}")
    world = None
    if "not shipped" in status["trajectory model"]:
        typer.secho("No trajectory model: showing each sample's true future from the scenario generator, not predictions.",
                    fg=typer.colors.YELLOW)
    else:
        # a handful of queries: eager PyTorch beats building the ONNX Runtime graph (~5 s) for them
        world = WorldModel.from_pretrained(default_model_dir(TRAJECTORY_MODEL), device=device, runtime="torch")
    if "not shipped" in status["video model"]:
        typer.secho("No video model: no future video is rendered.", fg=typer.colors.YELLOW)
    logging.getLogger("ct1_sim.formats").setLevel(logging.WARNING)  # the format round trips are checked, not narrated
    bundled = load_samples()
    out.mkdir(parents=True, exist_ok=True)
    rows = [_run_sample(s, out / s.name, world, samples, seed) for s in tqdm(bundled, desc="samples", unit="frame")]
    seconds = time.perf_counter() - t0
    (out / "summary.json").write_text(json.dumps({"status": status, "samples": rows}, indent=2))
    page = _write_html(out, rows, status, seconds)
    for row in rows:
        got = row.get("predicted_maneuvers")
        summary = f"predicted {got}, minADE@K {row.get('min_ade_m')} m" if got else f"true path reads as {row.get('maneuver_from_true_path')}"
        typer.echo(f"  {row['name']}: {row['instruction']!r} -> {summary}")
    typer.echo(f"done in {seconds:.1f} s; open {page.resolve()}")
