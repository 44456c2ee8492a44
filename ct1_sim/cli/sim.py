"""``ct1-sim sim run|eval``: closed-loop driving in the procedural town world or the neural world (the video model
renders the camera; the procedural twin keeps the map, traffic and scores)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ct1_sim.cli.options import RERUN_HELP, rerun_target

sim_app = typer.Typer(help="Closed-loop driving: a policy drives a route through a procedural town.", no_args_is_help=True)


#: Options shared by ``sim run`` and ``sim eval``: the world and, for the neural one, its video model.
WorldOption = Annotated[str, typer.Option(help="procedural | neural (the video model renders the camera at 5 Hz).")]
VideoModelOption = Annotated[Path | None, typer.Option(help="Video model folder for --world neural (default: the shipped one).")]
DeviceOption = Annotated[str, typer.Option(help="auto | cpu | cuda: where the neural world's video model runs.")]
TrajectoryModelOption = Annotated[Path | None, typer.Option(help="Trajectory model folder the ct1 policy drives with "
                                                                 "(default: the shipped one).")]
AnnounceOption = Annotated[float | None, typer.Option(min=0.0, max=1000.0, help="How far before its junction (m) each "
                           "maneuver is announced (default: the policy's own: for ct1 its model's `announce_m`, 15 for "
                           "the shipped one, trained on junctions 7-13 m ahead; 60 for the others).")]


def _town_options(town: int | None, town_seed: int | None) -> dict:
    if town is not None and town_seed is not None:
        raise ValueError("give --town (an index in --split) or --town-seed (a raw seed), not both")
    if town_seed is not None:
        return {"town_seed": town_seed}
    return {"town": town if town is not None else 0}


@sim_app.command("run")
def run(
    out: Annotated[Path, typer.Option(help="Folder to write camera.mp4, camera.json (its camera path), bev.png and metrics.json to (replaced whole).")],
    world: WorldOption = "procedural",
    video_model: VideoModelOption = None,
    device: DeviceOption = "auto",
    policy: Annotated[str, typer.Option(help="expert | constant-velocity | ct1")] = "expert",
    trajectory_model: TrajectoryModelOption = None,
    announce_m: AnnounceOption = None,
    town: Annotated[int | None, typer.Option(min=0, help="Town index in --split (default 0).")] = None,
    town_seed: Annotated[int | None, typer.Option(min=0, help="A raw town seed instead of --town.")] = None,
    split: Annotated[str, typer.Option(help="train | val | test: which towns --town counts in.")] = "test",
    route: Annotated[str | None, typer.Option(help="Maneuvers, e.g. 'turn left, then go straight, then turn right' "
                                                   "(default: a random route).")] = None,
    seconds: Annotated[float | None, typer.Option(min=0.1, max=3600.0, help="Episode time limit (s; default: "
                                                                            "the route's, ~1.5x a free-flow drive).")] = None,
    speed: Annotated[float, typer.Option(min=0.0, max=30.0, help="Initial speed (m/s).")] = 6.0,
    seed: Annotated[int, typer.Option(min=0, help="Episode seed (start and route when not given).")] = 0,
    rerun: Annotated[Path | None, typer.Option("--rerun", help=RERUN_HELP)] = None,
) -> None:
    """Drive one episode; write the camera video, a bird's-eye plot with the driven path, and metrics.json."""
    from ct1_sim.sim.env import announce_m_for, check_world, make_world_env
    from ct1_sim.sim.episode import write_drive
    from ct1_sim.sim.policies import make_policy

    check_world(world)
    rerun_target(rerun)
    chosen = make_policy(policy, trajectory_model=None if trajectory_model is None else str(trajectory_model))
    options = {**_town_options(town, town_seed), "speed": speed}
    if route is not None:
        options["route"] = route
    if seconds is not None:
        options["seconds"] = seconds
    env = make_world_env(world, video_model=video_model, device=device, action_type=chosen.action_type, split=split,
                         announce_m=announce_m_for(chosen, announce_m))
    try:
        if rerun is None:
            record = write_drive(out, env, chosen, seed=seed, options=options)
        else:
            record = record_drive(rerun, out, env, chosen, seed=seed, options=options)
    finally:
        env.close()
    s = record.summary
    typer.echo(f"{policy}: {s['route']} -> {s['termination']} after {s['duration_s']:.1f} s; PDMS {s['pdms']:.3f} "
               f"(NC {s['nc']:.0f}, DAC {s['dac']:.0f}, TTC {s['ttc']:.0f}, EP {s['ep']:.3f}, C {s['comfort']:.0f}), "
               f"route completion {s['route_completion']:.2f}, {s['steps_per_s']:.0f} steps/s")
    typer.echo(f"wrote {out}/camera.mp4, camera.json, bev.png, metrics.json" + (f"; rerun recording {rerun}" if rerun is not None else ""))


#: Per-step figures of ``EpisodeRecord.steps`` that the recording plots (m/s, rad, m/s^2, m, 0/1 flags).
STEP_SCALARS = ("v", "steer", "accel", "progress_m", "collision", "drivable", "ttc_violation")


def record_drive(path: Path, out: Path, env: Any, policy: Any, *, seed: int, options: dict[str, Any]) -> Any:
    """:func:`~ct1_sim.sim.episode.write_drive` plus a rerun recording: every camera frame at its pose (map frame,
    z up) at the episode's time, the route, each step's figures and instruction, the episode's PDMS terms at its
    end, and for a policy that keeps ``plans`` (ct1) the K sampled paths of every replan."""
    import numpy as np

    from ct1_sim.sim.episode import TERMS, write_drive
    from ct1_sim.viz.rerun_recording import rerun_recording

    base = env.unwrapped
    poses: list[np.ndarray] = []  # camera-to-world of frame i (frame 0: the reset state)

    def stamp(frame: int) -> int:  # µs of frame ``frame``
        return round(frame * base.dt * 1e6)

    with rerun_recording(path, world_up="z") as rec:
        def on_frame(image: np.ndarray) -> None:
            poses.append(base.world.camera_pose(base.state))
            rec.set_time(stamp(len(poses) - 1), len(poses) - 1)
            rec.camera(image, poses[-1], base.world.K)

        record = write_drive(out, env, policy, seed=seed, options=options, on_frame=on_frame)
        rec.static_path("route", np.column_stack([base.route.path, np.zeros(len(base.route.path))]))
        instruction = None
        for i, row in enumerate(record.steps, start=1):
            rec.set_time(stamp(i), i)
            rec.scalars({k: row[k] for k in STEP_SCALARS})
            if row["instruction"] != instruction:
                instruction = row["instruction"]
                rec.instruction(instruction)
        rec.scalars({f"episode/{k}": record.summary[k] for k in TERMS})
        for plan in getattr(policy, "plans", ()):
            frame = round(plan.time_s / base.dt)
            rec.set_time(stamp(frame), frame)
            rec.paths(plan.samples_c2w, poses[frame], chosen=plan.chosen)
    return record


@sim_app.command("eval")
def evaluate(
    out: Annotated[Path, typer.Option(help="Folder for summary.json, report.html, per-episode metrics and failure plots.")],
    world: WorldOption = "procedural",
    video_model: VideoModelOption = None,
    device: DeviceOption = "auto",
    policies: Annotated[str, typer.Option(help="Comma-separated: expert, constant-velocity, ct1.")] = "expert,constant-velocity",
    trajectory_model: TrajectoryModelOption = None,
    announce_m: AnnounceOption = None,
    episodes: Annotated[int, typer.Option(min=1, max=10000, help="Episodes per policy.")] = 10,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the first episode (episode i uses seed + i).")] = 0,
    split: Annotated[str, typer.Option(help="train | val | test towns.")] = "test",
    towns: Annotated[int, typer.Option(min=1, help="Towns of the split; episode i drives in town i mod towns.")] = 50,
    seconds: Annotated[float | None, typer.Option(min=0.1, max=3600.0, help="Episode time limit (s; default: the route's).")] = None,
    camera: Annotated[bool | None, typer.Option("--camera/--no-camera", help="Render the camera (default: only if a "
                                                                              "policy looks at it).")] = None,
    plots: Annotated[int, typer.Option(min=0, help="Bird's-eye plots of failed episodes per policy (the first ones).")] = 5,
    workers: Annotated[int | None, typer.Option(min=1, help="Episodes in parallel on this many local Ray actors (default 1: "
                                                            "one process; with --ray-address: one per CPU of the cluster).")] = None,
    ray_address: Annotated[str | None, typer.Option(help="A running Ray cluster to drive the episodes on "
                                                         "(e.g. auto, ray://host:10001).")] = None,
    gpus_per_worker: Annotated[float, typer.Option(min=0.0, help="GPUs Ray reserves for each actor (e.g. 1, or 0.5 to "
                                                                 "share one; for --world neural with --device auto or "
                                                                 "cuda).")] = 0.0,
) -> None:
    """Run every policy on the same episodes (same towns, starts and routes); write summary.json and report.html.
    Episodes are independent and seeded: --workers N gives the same figures as one process."""
    import time

    from ct1_sim.atomic_files import write_bytes_atomic, write_text_atomic
    from ct1_sim.sim.episode import summarize
    from ct1_sim.sim.evaluation import EvalSpec, failed, run_evaluation
    from ct1_sim.sim.policies import make_policy
    from ct1_sim.sim.report import FailurePlot, write_report

    started = time.perf_counter()
    names = tuple(n.strip() for n in policies.split(",") if n.strip())
    spec = EvalSpec(policies=names, world=world, split=split, towns=towns, seed=seed, seconds=seconds, camera=camera,
                    video_model=None if video_model is None else str(video_model), device=device,
                    trajectory_model=None if trajectory_model is None else str(trajectory_model), announce_m=announce_m)
    looks = {n: spec.looks(make_policy(n, trajectory_model=spec.trajectory_model)) for n in names}  # also: an unknown policy fails before any episode
    pool = workers if workers is not None else (0 if ray_address is not None else 1)
    plotted: dict[str, list[FailurePlot]] = {n: [] for n in names}
    done = dict.fromkeys(names, 0)
    by_episode: dict[tuple[str, int], dict] = {}

    def on_episode(i: int, record: Any) -> None:
        s = record.summary
        by_episode[(record.policy, i)] = s
        done[record.policy] += 1
        typer.echo(f"{record.policy} {done[record.policy]}/{episodes}: episode {i}, town {i % towns}, {s['termination']}, "
                   f"PDMS {s['pdms']:.3f}, maneuvers {sum(bool(m['success']) for m in s['maneuvers'])}/"
                   f"{sum(m['success'] is not None for m in s['maneuvers'])}")

    def on_plot(i: int, name: str, png: bytes) -> None:
        rel = f"plots/{name}/episode-{i:04d}.png"
        write_bytes_atomic(out / rel, png)
        plotted[name].append(FailurePlot(rel, i, by_episode[(name, i)]))

    ran = run_evaluation(spec, episodes, plots=plots, workers=pool, ray_address=ray_address,
                         gpus_per_worker=gpus_per_worker, on_episode=on_episode, on_plot=on_plot)
    records = ran.records
    summary: dict = {"world": world, "split": split, "towns": towns, "episodes": episodes, "seed": seed, "seconds": seconds,
                     "policies": {}}
    for name in names:
        summary["policies"][name] = summarize(records[name]) | {"camera": looks[name]}
        write_text_atomic(out / "episodes" / f"{name}.json", json.dumps([r.summary for r in records[name]], indent=1))
    wall = time.perf_counter() - started
    run_facts = {"workers": f"{ran.actors} Ray actors" + (f" at {ray_address}" if ray_address else "")
                 + (f", {gpus_per_worker:g} GPU each" if gpus_per_worker else "") if ran.actors
                 else "1 (one process)", "wall time": f"{wall:.1f} s"}
    write_report(out, summary, plotted, run_facts, {n: sum(failed(r.summary) for r in records[n]) for n in names})
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=1))  # last: a finished run has one
    for name, s in summary["policies"].items():
        rate = s["instruction_success_all"]
        typer.echo(f"{name}: PDMS {s['pdms']:.3f} (NC {s['nc']:.3f}, DAC {s['dac']:.3f}, TTC {s['ttc']:.3f}, EP {s['ep']:.3f}, "
                   f"C {s['comfort']:.3f}), route completion {s['route_completion']:.3f}, instruction success "
                   f"{'n/a' if rate is None else f'{rate:.3f}'}, {s['steps_per_s']} steps/s")
    typer.echo(f"wrote {out}/summary.json and {out}/report.html ({wall:.1f} s)")


@sim_app.command("ros")
def ros(
    world: WorldOption = "procedural",
    video_model: VideoModelOption = None,
    device: DeviceOption = "auto",
    rosbridge_url: Annotated[str, typer.Option(help="rosbridge v2 websocket, e.g. ws://127.0.0.1:9090.")] = "ws://127.0.0.1:9090",
    synchronous: Annotated[bool, typer.Option("--synchronous/--real-time", help="Step on /ct1/sim/step calls (CARLA's "
                                                                               "synchronous mode) or every dt of wall time.")] = True,
    town: Annotated[int | None, typer.Option(min=0, help="Town index in --split (default 0).")] = None,
    town_seed: Annotated[int | None, typer.Option(min=0, help="A raw town seed instead of --town.")] = None,
    split: Annotated[str, typer.Option(help="train | val | test: which towns --town counts in.")] = "test",
    route: Annotated[str | None, typer.Option(help="Maneuvers, e.g. 'turn left, then go straight' (default: random).")] = None,
    seconds: Annotated[float | None, typer.Option(min=0.1, max=3600.0, help="Episode time limit (s; default: the route's).")] = None,
    speed: Annotated[float, typer.Option(min=0.0, max=30.0, help="Initial speed (m/s).")] = 0.0,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the first episode (later resets continue its random stream).")] = 0,
    dt: Annotated[float | None, typer.Option(min=0.01, max=1.0, help="Seconds per step (default: 0.1, the neural world 0.2).")] = None,
    jpeg_quality: Annotated[int, typer.Option(min=1, max=95, help="JPEG quality of the camera images.")] = 90,
    max_backoff: Annotated[float, typer.Option(min=0.1, help="Longest wait between reconnection attempts, s.")] = 5.0,
) -> None:
    """Serve the simulator on a ROS graph through rosbridge: commands in (/ct1/sim/cmd_vel, /ct1/sim/path,
    /ct1/sim/ackermann_cmd), camera, odometry, /tf, /clock and metrics out, /ct1/sim/reset and /ct1/sim/step."""
    from ct1_sim.cli.ros_node import stop_on_signals, wait_until_stopped
    from ct1_sim.ros.sim_core import SimCore
    from ct1_sim.ros.sim_node import SimNode, SimNodeConfig
    from ct1_sim.sim.env import check_world, make_world_env

    check_world(world)
    config = SimNodeConfig(rosbridge_url=rosbridge_url, synchronous=synchronous, max_backoff_s=max_backoff)
    options: dict[str, Any] = {**_town_options(town, town_seed), "speed": speed}
    if route is not None:
        options["route"] = route
    if seconds is not None:
        options["seconds"] = seconds
    env = make_world_env(world, video_model=video_model, device=device, action_type="ackermann", split=split,
                         **({"dt": dt} if dt is not None else {}))
    stop = stop_on_signals()
    node = SimNode(SimCore(env, options, seed=seed, jpeg_quality=jpeg_quality), config)
    try:
        node.start()
        mode = "synchronous: call /ct1/sim/step" if synchronous else f"real time, {env.unwrapped.dt:.2f} s steps"
        typer.echo(f"ct1-sim sim ros: {world} world through {rosbridge_url} ({mode}; Ctrl-C to stop)")
        wait_until_stopped(node, stop, rosbridge_url, "sim ros")
    finally:
        node.stop()
        env.close()
