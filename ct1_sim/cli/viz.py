"""``ct1-sim viz``: 3D camera frustums, a bird's-eye view and the paths in the image, as a PNG or an MP4."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def viz(
    trajectories: Annotated[list[Path], typer.Argument(help="Trajectory files (one colour each).")],
    out: Annotated[Path, typer.Option(help="FILE.png (all poses) or FILE.mp4 (poses appearing over time).")],
    format: Annotated[str | None, typer.Option("--format", help="json | ct1 | realestate10k | motionctrl (default: guessed per file).")] = None,
    image: Annotated[Path | None, typer.Option(help="The conditioning frame: adds a panel with the paths projected into it.")] = None,
    truth: Annotated[Path | None, typer.Option(help="Ground-truth trajectory file (drawn black, dashed).")] = None,
    width: Annotated[int | None, typer.Option(help="Image width (px) for formats without pixel sizes.")] = None,
    height: Annotated[int | None, typer.Option(help="Image height (px) for formats without pixel sizes.")] = None,
    fps: Annotated[float | None, typer.Option(min=0.1, max=120.0, help="MP4 frame rate (default: the poses' rate).")] = None,
    title: Annotated[str, typer.Option(help="Figure title.")] = "",
) -> None:
    """Draw camera trajectories: frustums in 3D, a bird's-eye view and (with --image) the paths in the image."""
    from ct1_sim.cli.options import pixel_size
    from ct1_sim.cli.predict import load_image
    from ct1_sim.formats import read_trajectory
    from ct1_sim.viz.trajectory_figure import TrajectoryFigure

    given = pixel_size(width, height)
    if out.suffix.lower() not in (".png", ".mp4"):
        raise ValueError(f"--out must end in .png or .mp4, got {out.name}")
    pixels = load_image(image) if image is not None else None
    size = given or ((pixels.shape[1], pixels.shape[0]) if pixels is not None else None)
    samples = [read_trajectory(p, format, image_size=size) for p in trajectories]
    gt = read_trajectory(truth, format, image_size=size) if truth is not None else None
    figure = TrajectoryFigure(samples, truth=gt, image=pixels, labels=[p.stem for p in trajectories], title=title)
    figure.save(out, fps=fps)
    typer.echo(f"wrote {out} ({len(samples)} trajectories{', ground truth' if gt is not None else ''})")
