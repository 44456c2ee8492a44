"""``ct1-sim export``: write a trajectory as the pose file CameraCtrl, MotionCtrl or CT-1 reads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def export(
    trajectory: Annotated[Path, typer.Argument(help="Trajectory file (json | ct1 | realestate10k | motionctrl).")],
    target: Annotated[str, typer.Option("--for", help="cameractrl | motionctrl | ct1")],
    out: Annotated[Path, typer.Option(help="Output folder.")],
    format: Annotated[str | None, typer.Option("--format", help="Format of TRAJECTORY (default: guessed).")] = None,
    width: Annotated[int | None, typer.Option(help="Image width (px) when TRAJECTORY's format has no pixel size.")] = None,
    height: Annotated[int | None, typer.Option(help="Image height (px) when TRAJECTORY's format has no pixel size.")] = None,
    fps: Annotated[float | None, typer.Option(help="Pose rate (Hz) when TRAJECTORY's format has no timestamps.")] = None,
) -> None:
    """Export TRAJECTORY as the pose file another project's inference script reads."""
    from ct1_sim.cli.options import pixel_size
    from ct1_sim.formats import read_trajectory
    from ct1_sim.formats.export import READ_BACK, export_pose_file

    traj = read_trajectory(trajectory, format, image_size=pixel_size(width, height), rate_hz=fps)
    path = export_pose_file(traj, target, out, trajectory.stem)
    w, h = traj.image_size
    typer.echo(f"wrote {path} ({len(traj)} poses for {target.lower()})")
    needs = READ_BACK[target.lower()]
    if "image_size" in needs:
        typer.echo(f"read it back with --width {w} --height {h}" + (f" --fps {1e6 / max(1, (traj.timestamps_us[1] - traj.timestamps_us[0])):g}"
                                                                     if "rate_hz" in needs and len(traj) > 1 else ""))
