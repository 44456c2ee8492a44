"""``ct1-sim replay``: replay recorded drives keyframe by keyframe and compare the model with what the car did."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ct1_sim.cli.options import RERUN_HELP, rerun_target

if TYPE_CHECKING:
    from ct1_sim.replay.sources import Source


def replay(
    out: Annotated[Path, typer.Option(help="Output folder (results, report.html); an existing one is resumed.")],
    dataroot: Annotated[Path | None, typer.Option(help="nuScenes dataroot (with --version).")] = None,
    version: Annotated[str | None, typer.Option(help="nuScenes version folder, e.g. v1.0-mini.")] = None,
    scenes: Annotated[list[str] | None, typer.Option("--scenes", help="Scene names to replay (repeat; default: all).")] = None,
    clips: Annotated[Path | None, typer.Option(help="A ClipStore (STORE.zarr) instead of nuScenes: one keyframe per clip.")] = None,
    video: Annotated[bool, typer.Option("--video", help="Also roll out the future video at every keyframe (needs a video model).")] = False,
    samples: Annotated[int, typer.Option(help="Trajectories K per keyframe.")] = 8,
    instruction: Annotated[str | None, typer.Option(help="A fixed instruction for every keyframe (default: derived from what the car did).")] = None,
    seed: Annotated[int, typer.Option(help="Base random seed (each keyframe's seed is derived from it).")] = 0,
    workers: Annotated[int, typer.Option(help="Ray workers on this machine (0/1: one process).")] = 0,
    ray_address: Annotated[str | None, typer.Option(help="Address of a running Ray cluster (e.g. auto, ray://host:10001).")] = None,
    gpus_per_worker: Annotated[float, typer.Option(min=0.0, help="GPUs Ray reserves for each worker (e.g. 1, or 0.5 to "
                                                                 "share one; with --device auto or cuda).")] = 0.0,
    model: Annotated[Path | None, typer.Option(help="Trajectory model folder (default: the shipped ct1-tiny).")] = None,
    video_model: Annotated[Path | None, typer.Option(help="Video model folder (default: the shipped ct1-video-small when present).")] = None,
    predictor: Annotated[str, typer.Option(help="ct1 (the model) | constant-velocity (a baseline: straight on at the true speed).")] = "ct1",
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "cpu",
    width: Annotated[int | None, typer.Option(help="Resize nuScenes frames to this width (px; height kept in proportion).")] = None,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write report.html at the end.")] = True,
    rerun: Annotated[Path | None, typer.Option("--rerun", help=RERUN_HELP)] = None,
) -> None:
    """Replay nuScenes scenes (or a clip store): predict at every keyframe, score against the true future."""
    from ct1_sim.replay import ClipStoreSource, NuScenesSource, ReplaySettings, WorldSpec, run_replay

    if (dataroot is None) == (clips is None):
        raise ValueError("give either --dataroot DIR --version VER or --clips STORE.zarr")
    if dataroot is not None and version is None:
        raise ValueError("--dataroot needs --version (the folder with the tables, e.g. v1.0-mini)")
    if clips is not None and (scenes or width):
        raise ValueError("--scenes and --width apply to --dataroot only; a clip store is replayed whole")
    if workers > 1 and ray_address:
        raise ValueError("give --workers N or --ray-address ADDR, not both")
    rerun_target(rerun)
    size = None
    if width is not None:
        from ct1_sim.data.nuscenes import NuScenesReader

        reader = NuScenesReader(dataroot, version)
        w0, h0 = reader.camera(scenes[0] if scenes else reader.scene_names[0], check_files=False).trajectory.image_size
        size = (width, max(2, round(h0 * width / w0)))
    source = (NuScenesSource(str(dataroot), version, tuple(scenes or ()), size) if dataroot is not None
              else ClipStoreSource(str(clips)))
    settings = ReplaySettings(num_samples=samples, instruction=instruction, video=video, seed=seed)
    spec = WorldSpec(predictor=predictor, model=str(model) if model else None, video_model=str(video_model) if video_model else None,
                     device=device)
    try:
        summary = run_replay(source, out, settings, spec=spec, workers=workers, ray_address=ray_address,
                             gpus_per_worker=gpus_per_worker, report=report)
    except RuntimeError as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None
    if rerun is not None:
        record_replay(rerun, source, out)
    o = summary["overall"]

    def f(key: str) -> str:
        return "-" if o.get(key) is None else f"{o[key]:.2f}"

    typer.echo(f"replayed {o['keyframes']} keyframes in {o['scenes']} scenes: minADE@{samples} {f('min_ade')} m, "
               f"minFDE {f('min_fde')} m, L2 1/2/3 s {f('l2_1s')}/{f('l2_2s')}/{f('l2_3s')} m, compliance {f('compliance')}")
    typer.echo(f"wrote {out / 'keyframes.zarr'}, {out / 'summary.csv'}" + (f" and {out / 'report.html'}" if report else "")
               + (f"; rerun recording {rerun}" if rerun is not None else ""))


def record_replay(path: Path, source: Source, out: Path) -> None:
    """Write the rerun recording of the replay in ``out``: per keyframe (at its timestamp) the conditioning frame
    at its true camera pose, the K predicted paths and the true path, the keyframe's metrics and instruction. The
    frames are read again from ``source``; the paths and metrics are the ones in ``out``'s scene tables."""
    from ct1_sim.replay import METRICS, ReplayOutput
    from ct1_sim.replay.table import table_rows
    from ct1_sim.viz.rerun_recording import rerun_recording

    output = ReplayOutput(out)
    frame = 0
    with rerun_recording(path, world_up="z") as rec:
        for scene in source.scene_names():
            table = output.scene_table(scene, arrays=True)
            if not table:
                continue
            keyframes = {kf.index: kf for kf in source.load(scene).keyframes}
            for i, row in enumerate(table_rows(table)):
                kf = keyframes[row["keyframe"]]
                image = kf.frames[0]
                camera = kf.truth.with_image_size(image.shape[1], image.shape[0])
                rec.set_time(row["timestamp_us"], frame)
                rec.camera(image, camera.c2w[0], camera.K)
                rec.paths(table["pred_c2w"][i], camera.c2w[0], truth_c2w=table["true_c2w"][i])
                rec.scalars({k: row[k] for k in METRICS})
                rec.instruction(row["instruction"])
                frame += 1
