"""``ct1-sim scenarios render|preview``: the procedural driving-scene generator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

scenarios_app = typer.Typer(help="Procedural driving scenarios with exact camera poses.", no_args_is_help=True)


@scenarios_app.command("render")
def render(
    specs: Annotated[list[Path], typer.Argument(help="Scenario YAML files (scenarios/*.yaml).")],
    clips: Annotated[int, typer.Option(min=1, help="Clips per spec.")],
    out: Annotated[Path, typer.Option(help="Clip store to write (created, or resumed when it exists).")],
    seed: Annotated[int, typer.Option(help="Base seed.")] = 0,
    workers: Annotated[int, typer.Option(help="Local Ray workers (0 or 1 = one process).")] = 0,
    ray_address: Annotated[str | None, typer.Option(help="Address of an existing Ray cluster.")] = None,
    nuscenes_out: Annotated[Path | None, typer.Option(help="Also write a nuScenes-format dataroot here.")] = None,
) -> None:
    """Render clips into a ClipStore (resumable; parallel with Ray)."""
    from ct1_sim.data.scenarios.parallel import render_store
    from ct1_sim.data.scenarios.spec import load_spec

    loaded = [load_spec(p) for p in specs]
    store = render_store(loaded, clips, out, seed=seed, workers=workers, ray_address=ray_address)
    typer.echo(f"{out}: {len(store)} clips")
    if nuscenes_out is not None:
        from ct1_sim.data.scenarios.nuscenes_export import export_nuscenes

        path = export_nuscenes(loaded, clips, nuscenes_out, seed=seed)
        typer.echo(f"wrote a nuScenes-format dataroot to {path}")


@scenarios_app.command("town-drives")
def town_drives(
    out: Annotated[Path, typer.Option(help="Clip store to add to (created, or resumed when it exists).")],
    towns: Annotated[int, typer.Option(min=1, help="Towns 0..N-1 of the split, one drive each per --drives.")] = 20,
    first_town: Annotated[int, typer.Option(min=0, help="Index of the first town.")] = 0,
    drives: Annotated[int, typer.Option(min=1, help="Expert drives per town.")] = 1,
    seconds: Annotated[float, typer.Option(min=5.0, max=600.0, help="Length of each drive (s).")] = 90.0,
    split: Annotated[str, typer.Option(help="train, val or test (the towns of the splits never overlap).")] = "train",
    policy_model: Annotated[Path | None, typer.Option(help="DAgger: a trajectory model drives the ct1 policy and the "
                                                           "expert labels the states it gets into.")] = None,
) -> None:
    """Clips cut from expert drives through the towns (closed-loop states: approach, stop line, mid-turn, recovery),
    or, with --policy-model, from the ct1 policy's own drives with the expert's 3 s from every state (DAgger)."""
    if split not in ("train", "val", "test"):
        raise typer.BadParameter(f"--split must be train, val or test, got {split!r}")
    chosen = range(first_town, first_town + towns)
    if policy_model is not None:
        from ct1_sim.sim.policy_labels import render_policy_clips

        written = render_policy_clips(str(out), policy_model, split, chosen, drives, seconds)
    else:
        from ct1_sim.sim.town_clips import render_town_clips

        written = render_town_clips(str(out), split, chosen, drives, seconds)
    typer.echo(f"{out}: {written} town clips written")


@scenarios_app.command("preview")
def preview(
    spec: Annotated[Path, typer.Argument(help="Scenario YAML.")],
    out: Annotated[Path, typer.Option(help="Contact sheet PNG.")],
    clips: Annotated[int, typer.Option(min=1, max=64, help="Rows (clips) in the sheet.")] = 6,
    seed: Annotated[int, typer.Option(help="Base seed.")] = 0,
) -> None:
    """A contact sheet: first, middle and last frame of a few clips, with their instructions."""
    from ct1_sim.data.scenarios.spec import load_spec
    from ct1_sim.viz.scenario_sheet import contact_sheet

    contact_sheet(load_spec(spec), clips, out, seed=seed)
    typer.echo(f"wrote {out}")


@scenarios_app.command("samples")
def samples(
    scenario_dir: Annotated[Path, typer.Option(help="Folder with urban.yaml, suburban.yaml, highway.yaml.")] = Path("scenarios"),
    out: Annotated[Path, typer.Option(help="Where to write the samples.")] = Path("ct1_sim/assets/samples"),
) -> None:
    """Rebuild the demo samples bundled in the package from the test split."""
    from ct1_sim.data.scenarios.samples import build_samples
    from ct1_sim.data.scenarios.spec import load_spec

    specs = {name: load_spec(scenario_dir / f"{name}.yaml") for name in ("urban", "suburban", "highway")}
    for entry in build_samples(specs, out):
        typer.echo(f"{entry['file']}: {entry['instruction']!r} ({entry['maneuver']}, {entry['speed_mps']:.1f} m/s)")
