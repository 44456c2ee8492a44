"""Closed-loop simulator: environment steps/s of the expert driving a test town at 10 Hz, with the camera
rendered and without it; the ``ct1`` policy (the trajectory model replanning from the camera every 0.5 s, the
camera rendered only for the frames it reads, as ``sim eval`` does; the bar: >= 100 steps/s, 10x real time); the
town's camera frames/s alone; the neural world's steps/s at 5 Hz (the bar: >= 1x real time), with its defaults and
with the video pipeline's (4 DDIM steps, every frame's new pixels cached); and the process CPU time per step (it counts the rasteriser's threads, and is less
swayed by other load than wall time).

Run: ``.venv/bin/python benchmarks/run.py sim`` (``--quick`` for a smoke run). The machine's load average is
printed beside the figures: on a shared 2-core machine the wall-clock rates fall with it.
"""

from __future__ import annotations

import os
import time

from harness import emit_json, print_table

from ct1_sim.sim.env import DrivingEnv, camera_period_for
from ct1_sim.sim.policies import ExpertPolicy, make_policy


def _drive(camera: bool, steps: int, policy_name: str = "expert") -> tuple[float, float]:
    """(steps/s wall, CPU ms/step) of ``policy_name`` over ``steps`` steps after a warm-up, over as many episodes as
    that takes."""
    policy = ExpertPolicy() if policy_name == "expert" else make_policy(policy_name)
    env = DrivingEnv(camera=camera, num_towns=1, action_type=policy.action_type,
                     announce_m=getattr(policy, "announce_m", 60.0), camera_period_s=camera_period_for(policy, 0.1))
    try:
        obs, _ = env.reset(seed=0, options={"town": 0, "seconds": 3600.0})
        policy.reset(env)
        for _ in range(10):
            obs, *_ = env.step(policy.act(obs))
        wall, cpu = time.perf_counter(), time.process_time()
        episode = 0
        for _ in range(steps):  # an episode that ends is followed by the next (its reset counted, as in an eval)
            obs, _, terminated, truncated, _ = env.step(policy.act(obs))
            if terminated or truncated:
                episode += 1
                obs, _ = env.reset(seed=episode, options={"town": 0, "seconds": 3600.0})
                policy.reset(env)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return steps / wall, 1000.0 * cpu / steps
    finally:
        env.close()


def _frames(frames: int) -> float:
    """Camera frames/s at the ego's start pose (rendering alone)."""
    env = DrivingEnv(camera=True, num_towns=1)
    try:
        env.reset(seed=0, options={"town": 0})
        world, state = env.world, env.state
        world.render(state)
        t0 = time.perf_counter()
        for _ in range(frames):
            world.render(state)
        return frames / (time.perf_counter() - t0)
    finally:
        env.close()


def _neural(steps: int, video_pipeline: object, **settings: int) -> float:
    """Env steps/s of the expert in the neural world (5 Hz: every step one generated frame) with the generator
    ``settings`` (none: the neural world's defaults), after a 3-step warm-up."""
    from ct1_sim.sim.neural import NEURAL_DT_S, NeuralWorld

    policy = ExpertPolicy()
    env = DrivingEnv(world=NeuralWorld(video_pipeline=video_pipeline, **settings), dt=NEURAL_DT_S, num_towns=1,
                     action_type=policy.action_type)
    try:
        obs, _ = env.reset(seed=0, options={"town": 0, "seconds": 3600.0})
        policy.reset(env)
        for _ in range(3):
            obs, *_ = env.step(policy.act(obs))
        t0 = time.perf_counter()
        for _ in range(steps):
            obs, *_ = env.step(policy.act(obs))
        return steps / (time.perf_counter() - t0)
    finally:
        env.close()


def run(quick: bool = False) -> dict:
    steps = 40 if quick else 300
    load = os.getloadavg()[0]
    with_camera, cpu_camera = _drive(True, steps)
    without, cpu_without = _drive(False, steps)
    ct1, cpu_ct1 = _drive(True, steps, "ct1")
    fps = _frames(20 if quick else 100)
    from ct1_sim.sim.neural import NEURAL_INFERENCE_STEPS, NEURAL_MIN_HOLE_PIXELS, load_world_video

    video = load_world_video(device="cpu")
    neural = _neural(5 if quick else 25, video)
    neural_before = _neural(5 if quick else 25, video, num_inference_steps=4, min_hole_pixels=0)  # the settings before 2026-12-07
    print_table("closed-loop sim (expert, test town 0, 10 Hz)", ["what", "steps/s", "x real time", "CPU ms/step"], [
        ("with camera", with_camera, with_camera / 10.0, cpu_camera),
        ("without camera", without, without / 10.0, cpu_without),
        ("ct1 policy, camera at its 2 Hz replans", ct1, ct1 / 10.0, cpu_ct1),
        ("camera frames alone", fps, fps / 10.0, float("nan")),
    ])
    print_table("neural world (expert, test town 0, 5 Hz: one generated frame per step)", ["settings", "steps/s", "x real time"], [
        (f"default: {NEURAL_INFERENCE_STEPS} DDIM steps, new pixels cached from {NEURAL_MIN_HOLE_PIXELS} on", neural, neural / 5.0),
        ("4 DDIM steps, every frame's new pixels cached", neural_before, neural_before / 5.0),
    ])
    print(f"load average (1 min) at the start: {load:.1f} on {os.cpu_count()} cores")
    figures = {"steps_per_s_camera": round(with_camera, 1), "steps_per_s_no_camera": round(without, 1),
               "realtime_x_camera": round(with_camera / 10.0, 2),
               "steps_per_s_ct1": round(ct1, 1), "realtime_x_ct1": round(ct1 / 10.0, 2), "cpu_ms_per_step_ct1": round(cpu_ct1, 1), "cpu_ms_per_step_camera": round(cpu_camera, 1),
               "frames_per_s": round(fps, 1), "load_average": round(load, 1),
               "neural_steps_per_s": round(neural, 2), "realtime_x_neural": round(neural / 5.0, 2),
               "neural_steps_per_s_4_steps_always_cached": round(neural_before, 2)}
    emit_json("sim", figures)
    return figures
