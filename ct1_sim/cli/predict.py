"""``ct1-sim predict``: trajectories for one image and instruction, as files, an overlay and a bird's-eye plot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from ct1_sim.paths import TRAJECTORY_MODEL, default_model_dir


def load_image(path: Path) -> np.ndarray:
    """RGB uint8 pixels of an image file (JPEG or PNG), with a clear error for anything that is not one."""
    from ct1_sim.rgb_input import decode_image

    return decode_image(path)


def predict(
    image: Annotated[Path, typer.Option(help="Front-camera frame (JPEG/PNG).")],
    instruction: Annotated[str, typer.Option(help='What to do, e.g. "turn left at the intersection".')],
    out: Annotated[Path, typer.Option(help="Output folder.")],
    samples: Annotated[int, typer.Option(help="Number of trajectories K.")] = 8,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    speed: Annotated[float | None, typer.Option(help="Current ego speed in m/s, when known.")] = None,
    format: Annotated[str, typer.Option("--format", help="json | ct1 | realestate10k | motionctrl")] = "json",
    model: Annotated[Path | None, typer.Option(help="Model folder (default: the shipped ct1-tiny).")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
) -> None:
    """Predict K camera trajectories for IMAGE and INSTRUCTION."""
    from PIL import Image

    from ct1_sim.formats import FORMAT_SUFFIXES, FORMATS, write_trajectory
    from ct1_sim.trajectory import CT1TrajectoryModel
    from ct1_sim.viz import draw_paths, plot_birds_eye
    from ct1_sim.world import WorldModel

    if format not in FORMATS:
        raise ValueError(f"unknown --format {format!r}; use one of {', '.join(FORMATS)}")
    pixels = load_image(image)
    # one query: eager PyTorch (~50 ms) beats building the ONNX Runtime graph (~5 s) for it
    # trajectories only: the video model is not loaded
    world = WorldModel(CT1TrajectoryModel.from_pretrained(model or default_model_dir(TRAJECTORY_MODEL), device=device, runtime="torch"), None)
    prediction = world.predict(pixels, instruction, num_samples=samples, seed=seed, speed=speed)
    intent = prediction.instruction or {}
    if not prediction.supported:
        from ct1_sim.language import refusal_message

        raise ValueError(f"{refusal_message(instruction, intent)}; nothing written")
    if intent:
        speed_words = "" if intent.get("speed") in (None, "none") else f", {intent['speed'].replace('_', ' ')}"
        typer.echo(f"read as: {intent['maneuver'].replace('_', ' ')}{speed_words} (confidence {intent['confidence']:.2f})")
    trajectories, labels = prediction.trajectories, prediction.maneuvers
    out.mkdir(parents=True, exist_ok=True)
    written = [out / f"sample_{i:02d}{FORMAT_SUFFIXES[format]}" for i in range(len(trajectories))]
    for traj, path in zip(trajectories, written, strict=True):
        write_trajectory(traj, path, format)
    suffixes = set(FORMAT_SUFFIXES.values())
    stale = sorted(p.name for p in out.glob("sample_[0-9][0-9].*") if p not in written and p.name[len("sample_00"):] in suffixes)
    if stale:
        typer.secho(f"note: {out} still holds {len(stale)} sample file(s) of an earlier run ({', '.join(stale[:4])}"
                    f"{', ...' if len(stale) > 4 else ''}); they are not from this prediction", fg=typer.colors.YELLOW, err=True)
    Image.fromarray(draw_paths(pixels, trajectories)).save(out / "overlay.png")
    plot_birds_eye(out / "birds_eye.png", trajectories, labels=[f"{i}: {m}" for i, m in enumerate(labels)], title=instruction)
    for i, label in enumerate(labels):
        end = trajectories[i].positions[-1]
        side = "right" if end[0] >= 0 else "left"  # OpenCV camera: x points right
        typer.echo(f"sample {i}: {label:18s} ends {end[2]:6.1f} m ahead, {abs(end[0]):5.1f} m {side}")
    typer.echo(f"wrote {len(trajectories)} trajectories ({format}), overlay.png and birds_eye.png to {out}")
