"""``ct1-sim export``: pose files for CameraCtrl, MotionCtrl and CT-1 (``export poses``, also what a bare
``export --for ...`` runs) and ROS 2 MCAP files for Foxglove (``export mcap``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import click
import typer
from typer.core import TyperGroup


class _PosesByDefault(TyperGroup):
    """A group whose arguments run ``poses`` when they name no subcommand (``ct1-sim export --for ct1 T.json``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["poses", *args]
        return super().parse_args(ctx, args)


export_app = typer.Typer(cls=_PosesByDefault, no_args_is_help=True,
                         help="Export trajectories as pose files (poses, the default) or drives as ROS 2 MCAP (mcap).")


@export_app.command()
def poses(
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
    from ct1_sim.formats import pose_file_stem, read_trajectory
    from ct1_sim.formats.export import READ_BACK, export_pose_file

    traj = read_trajectory(trajectory, format, image_size=pixel_size(width, height), rate_hz=fps)
    path = export_pose_file(traj, target, out, pose_file_stem(trajectory))
    w, h = traj.image_size
    typer.echo(f"wrote {path} ({len(traj)} poses for {target.lower()})")
    needs = READ_BACK[target.lower()]
    if "image_size" in needs:
        typer.echo(f"read it back with --width {w} --height {h}" + (f" --fps {1e6 / max(1, (traj.timestamps_us[1] - traj.timestamps_us[0])):g}"
                                                                     if "rate_hz" in needs and len(traj) > 1 else ""))


@export_app.command()
def mcap(
    source: Annotated[Path, typer.Argument(help="A clip store (STORE.zarr), a `ct1-sim demo` output folder, a `ct1-sim generate` OUT.mp4 (or its OUT.json), a `ct1-sim sim run` episode folder or a `ct1-sim replay` run folder.")],
    out: Annotated[Path, typer.Option(help="Output file (.mcap; written under a temporary name, renamed at the end).")],
    item: Annotated[str | None, typer.Option(help="Which clip (store), sample (demo folder) or scene (replay run) to export when SOURCE holds several.")] = None,
    image_format: Annotated[str, typer.Option(help="png (exact) | jpeg (smaller).")] = "png",
    jpeg_quality: Annotated[int, typer.Option(min=1, max=95, help="JPEG quality (with --image-format jpeg).")] = 90,
    force: Annotated[bool, typer.Option(help="Replace --out when it exists.")] = False,
) -> None:
    """Write SOURCE as a ROS 2 MCAP file (images, camera info, paths, odometry, /tf, instruction) for Foxglove."""
    from ct1_sim.export import export_mcap

    if out.exists() and not force:
        raise ValueError(f"{out} already exists; pass --force to replace it, or choose another --out")
    recording, counts = export_mcap(source, out, item=item, image_format=image_format.lower(), jpeg_quality=jpeg_quality,
                                    overwrite=force)
    typer.echo(f"wrote {out} from {recording.kind} {recording.source}: {sum(counts.values())} messages")
    for topic, n in sorted(counts.items()):
        typer.echo(f"  {topic}: {n}")
