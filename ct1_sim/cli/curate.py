"""``ct1-sim curate nuscenes``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

curate_app = typer.Typer(help="Curate driving logs into clip stores.", no_args_is_help=True)


@curate_app.command("nuscenes")
def nuscenes(
    dataroot: Annotated[Path, typer.Option(help="nuScenes dataroot (holds VERSION/, samples/, sweeps/).")],
    version: Annotated[str, typer.Option(help="e.g. v1.0-mini, v1.0-trainval, or a scenario export's version.")],
    out: Annotated[Path, typer.Option(help="Clip store to write (created, or resumed).")],
    scenes: Annotated[list[str] | None, typer.Option("--scenes", help="Only these scene names.")] = None,
    whole_scenes: Annotated[bool, typer.Option(help="One clip per scene with every CAM_FRONT frame (for replay).")] = False,
    size: Annotated[str | None, typer.Option(help="Resize frames to WxH, e.g. 448x256 (K scaled).")] = None,
    exclude_tag: Annotated[list[str] | None, typer.Option(help="Drop scenes whose description has this tag (night, rain).")] = None,
    workers: Annotated[int, typer.Option(help="Local Ray workers (0 or 1 = one process).")] = 0,
    ray_address: Annotated[str | None, typer.Option(help="Address of an existing Ray cluster.")] = None,
    report: Annotated[Path | None, typer.Option(help="Report folder (default: OUT.report).")] = None,
) -> None:
    """Cut clips at every keyframe (conditioning frame + 3 s at 5 Hz), label, filter and report."""
    from ct1_sim.data.nuscenes import curate_nuscenes

    wh = None
    if size:
        try:
            w, h = (int(v) for v in size.lower().split("x"))
        except ValueError:
            raise ValueError(f"--size must look like 448x256, got {size!r}") from None
        wh = (w, h)
    report = report or out.with_suffix(".report")
    store, counts = curate_nuscenes(dataroot, version, out, scenes=scenes, whole_scenes=whole_scenes, size=wh,
                                    exclude_tags=tuple(exclude_tag or ()), workers=workers, ray_address=ray_address, report=report)
    typer.echo(f"{out}: {len(store)} clips; " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    typer.echo(f"report: {report / 'report.md'}")
