"""``ct1-sim generate``: a future video from one frame and an instruction (or a trajectory file)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ct1_sim.cli.options import RERUN_HELP, rerun_target
from ct1_sim.clip_spec import NUM_POSES

if TYPE_CHECKING:
    import numpy as np

    from ct1_sim.world.world_model import Rollout


def generate(
    image: Annotated[Path, typer.Option(help="Front-camera frame (JPEG/PNG).")],
    out: Annotated[Path, typer.Option(help="Output MP4 (a .gif preview and a -side.mp4 side-by-side go next to it).")],
    instruction: Annotated[str | None, typer.Option(help='What to do, e.g. "turn left at the intersection".')] = None,
    trajectory: Annotated[Path | None, typer.Option(help="Camera trajectory file to follow instead of an instruction.")] = None,
    format: Annotated[str | None, typer.Option("--format", help="Trajectory file format (default: from the file).")] = None,
    samples: Annotated[int, typer.Option(help="Trajectories K sampled for an instruction (the medoid is rendered).")] = 8,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    speed: Annotated[float | None, typer.Option(help="Current ego speed in m/s, when known.")] = None,
    frames: Annotated[int, typer.Option(min=2, max=301, help="Frames to generate, including the input frame (2-301; 5 Hz, so 101 = 20 s).")] = NUM_POSES,
    steps: Annotated[int, typer.Option(min=1, help="DDIM steps of the video generator.")] = 4,
    strength: Annotated[float, typer.Option(help="Share of the steps that run (diffusers img2img; 1 = holes generated from pure noise).")] = 1.0,
    model: Annotated[Path | None, typer.Option(help="Trajectory model folder (default: the shipped ct1-tiny).")] = None,
    video_model: Annotated[Path | None, typer.Option(help="Video model folder (default: the shipped ct1-video-small).")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
    rerun: Annotated[Path | None, typer.Option("--rerun", help=RERUN_HELP)] = None,
) -> None:
    """Generate the future video for IMAGE following INSTRUCTION or TRAJECTORY."""
    from ct1_sim.atomic_files import write_text_atomic
    from ct1_sim.cli.predict import load_image
    from ct1_sim.formats import read_trajectory, trajectory_to_dict
    from ct1_sim.media import write_gif, write_mp4
    from ct1_sim.viz.side_by_side import side_by_side
    from ct1_sim.world import WorldModel

    if (instruction is None) == (trajectory is None):
        raise ValueError("give exactly one of --instruction TEXT or --trajectory FILE")
    if instruction is not None and not instruction.strip():
        raise ValueError("--instruction is empty; say what to do, e.g. 'turn left at the intersection'")
    if out.suffix.lower() != ".mp4":
        raise ValueError(f"--out must end in .mp4, got {out.name}")
    rerun_target(rerun)
    pixels = load_image(image)
    target = read_trajectory(trajectory, format) if trajectory is not None else instruction
    # one query: eager PyTorch (~50 ms) beats building the ONNX Runtime graph (~5 s) for it
    world = WorldModel.from_pretrained(model, video_model, device=device, runtime="torch")
    result = world.rollout(pixels, target, num_frames=frames, num_samples=samples, seed=seed, speed=speed,
                           num_inference_steps=steps, strength=strength)
    # everything is computed before the first file is written, so a failure cannot leave a mix of two runs
    side_frames = side_by_side(pixels, result.frames, result.trajectories, result.chosen)
    write_mp4(result.frames, out, fps=result.fps)
    gif = write_gif(result.frames, out.with_suffix(".gif"), fps=result.fps)
    side = write_mp4(side_frames, out.with_name(out.stem + "-side.mp4"), fps=result.fps)
    # what `ct1-sim export mcap` reads back: the input frame's path, the instruction and the K trajectories
    summary = {"chosen": result.chosen, "maneuvers": result.maneuvers, "fps": result.fps, "frames": len(result.frames),
               "instruction": instruction, "image": str(image.resolve()), "seed": result.seed,
               "trajectories": [trajectory_to_dict(t) for t in result.trajectories]}
    write_text_atomic(out.with_suffix(".json"), json.dumps(summary, indent=1))
    if rerun is not None:
        record_rollout(rerun, result, instruction or f"follow {trajectory.name}")
    typer.echo(f"followed sample {result.chosen} ({result.maneuvers[result.chosen]}); wrote {out}, {gif}, {side}"
               + (f", {rerun}" if rerun is not None else ""))


def followed_cameras(result: Rollout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Timestamps ``(N,)`` (µs), camera-to-world poses ``(N,4,4)`` relative to the input camera and ``K`` at the
    frames' size, for the ``N`` generated frames: the chosen path resampled evenly over its time span, as the
    video pipeline does (``CT1VideoPipeline.prepare_trajectory``)."""
    import numpy as np

    path = result.trajectories[result.chosen].relative_to_first()
    n, (h, w) = len(result.frames), result.frames.shape[1:3]
    if n != len(path):
        path = path.resample(np.linspace(path.timestamps_us[0], path.timestamps_us[-1], n).round().astype(np.int64))
    path = path.with_image_size(w, h)
    return path.timestamps_us, path.c2w, path.K


def record_rollout(target: Path, result: Rollout, instruction: str) -> None:
    """Write the rerun recording of a rollout (world: the input camera, OpenCV): the K sampled paths at the first
    frame, then every generated frame at its camera pose and time, with the distance along the path (m)."""
    import numpy as np

    from ct1_sim.viz.rerun_recording import rerun_recording

    stamps, c2w, K = followed_cameras(result)
    samples = np.stack([t.relative_to_first().c2w for t in result.trajectories])
    with rerun_recording(target, world_up="opencv") as rec:
        for i, frame in enumerate(result.frames):
            rec.set_time(stamps[i], i)
            if i == 0:
                rec.instruction(instruction)
                rec.paths(samples, np.eye(4), chosen=result.chosen)
            rec.camera(frame, c2w[i], K)
            rec.scalars({"distance_m": float(np.linalg.norm(c2w[i, :3, 3]))})
