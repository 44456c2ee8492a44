"""``ct1-sim ros-bridge``: serve the world model on a ROS graph through a rosbridge v2 server (roslibpy client)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer


def ros_bridge(
    rosbridge_url: Annotated[str, typer.Option(help="rosbridge v2 websocket, e.g. ws://127.0.0.1:9090.")] = "ws://127.0.0.1:9090",
    samples: Annotated[int, typer.Option(help="Trajectories K per prediction.")] = 8,
    seed: Annotated[int | None, typer.Option(help="Sampling seed (default: fresh randomness each time).")] = None,
    odom_topic: Annotated[str, typer.Option(help="nav_msgs/msg/Odometry topic for the current speed.")] = "/odom",
    frame_id: Annotated[str, typer.Option(help="Frame of the published paths (REP 103 body axes).")] = "base_link",
    video: Annotated[bool, typer.Option("--video/--no-video", help="Roll out and publish the future video on /ct1/video/compressed.")] = False,
    model: Annotated[str, typer.Option(help="Trajectory model folder (empty: the shipped ct1-tiny).")] = "",
    video_model: Annotated[str, typer.Option(help="Video model folder (empty: the shipped ct1-video-small).")] = "",
    max_backoff: Annotated[float, typer.Option(help="Longest wait between reconnection attempts, s.")] = 5.0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
) -> None:
    """Subscribe /ct1/image/compressed + /ct1/instruction, publish /ct1/trajectories/*, serve /ct1/predict."""
    from ct1_sim.cli.ros_node import stop_on_signals, wait_until_stopped
    from ct1_sim.paths import TRAJECTORY_MODEL, default_model_dir
    from ct1_sim.ros import BridgeConfig, RosBridgeNode
    from ct1_sim.world import WorldModel

    config = BridgeConfig(rosbridge_url=rosbridge_url, num_samples=samples, seed=seed, odom_topic=odom_topic,
                          frame_id=frame_id, video=video, max_backoff_s=max_backoff)
    if video:
        world = WorldModel.from_pretrained(Path(model) if model else None, Path(video_model) if video_model else None, device=device)
    else:  # trajectories only: leave the video model unloaded (start-up time, memory)
        from ct1_sim.trajectory import CT1TrajectoryModel

        world = WorldModel(CT1TrajectoryModel.from_pretrained(Path(model) if model else default_model_dir(TRAJECTORY_MODEL), device=device))
    node = RosBridgeNode(world, config)
    warm_up = threading.Thread(target=world.warm_up, args=(samples,), name="ct1-warm-up", daemon=True)  # graph build, ~5 s
    warm_up.start()
    stop = stop_on_signals()
    node.start()
    typer.echo(f"ct1-sim ros-bridge: serving /ct1/predict through {rosbridge_url} (Ctrl-C to stop)")
    try:
        wait_until_stopped(node, stop, rosbridge_url, "ros-bridge")
    finally:
        node.stop()
        warm_up.join()  # exiting during a graph build aborts the interpreter ("terminate called ...")
