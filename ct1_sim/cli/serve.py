"""``ct1-sim serve``: the HTTP API (FastAPI + uvicorn, or Ray Serve replicas with ``--ray``), bound to 127.0.0.1 unless
told otherwise."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ct1_sim.service import ServiceSettings


def serve(
    host: Annotated[str, typer.Option(help="Address to bind (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
    token: Annotated[str | None, typer.Option(help="Require 'Authorization: Bearer TOKEN' (or set CT1_SIM_TOKEN).")] = None,
    model: Annotated[Path | None, typer.Option(help="Trajectory model folder (default: the shipped ct1-tiny).")] = None,
    video_model: Annotated[Path | None, typer.Option(help="Video model folder (default: the shipped ct1-video-small).")] = None,
    max_upload_mb: Annotated[float, typer.Option(min=0.001, max=4096, help="Largest request body, MB (413 above).")] = 10.0,
    max_batch: Annotated[int, typer.Option(help="Trajectory requests fused per model call (1 = no micro-batching).")] = 16,
    batch_window_ms: Annotated[float, typer.Option(
        min=0.0, help="How long a queued trajectory request waits for others to batch with, ms (0: batch only what queued while the model was busy).")] = 0.0,
    batch_arriving_wait_ms: Annotated[float, typer.Option(
        min=0.0, help="While other trajectory requests are still being decoded, how long a batch waits for them, ms (a lone request never waits).")] = 20.0,
    max_jobs: Annotated[int, typer.Option(help="Rollout jobs queued or running (429 above).")] = 8,
    max_pending: Annotated[int, typer.Option(help="Trajectory requests queued or being answered (429 above).")] = 64,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
    ray: Annotated[bool, typer.Option("--ray", help="Serve with Ray Serve: --replicas copies of the API, one rollout queue.")] = False,
    replicas: Annotated[int | None, typer.Option(help="With --ray: API replicas, each with its own trajectory model [default: 2].")] = None,
    replica_cpus: Annotated[float | None, typer.Option(help="With --ray: CPUs Ray reserves for each replica [default: 1].")] = None,
    ray_address: Annotated[str | None, typer.Option(help="With --ray: a running Ray cluster (auto, HOST:6379, ray://HOST:10001); "
                                                     "default: a local Ray started for the replicas.")] = None,
) -> None:
    """Serve trajectories and rollouts over HTTP (OpenAPI docs at /docs)."""
    from ct1_sim.service import ServiceSettings

    token = token or os.environ.get("CT1_SIM_TOKEN")
    settings = ServiceSettings(token=token, max_upload_bytes=int(max_upload_mb * 1024 * 1024), max_batch=max_batch,
                               batch_window_ms=batch_window_ms, batch_arriving_wait_ms=batch_arriving_wait_ms, max_jobs=max_jobs, max_pending=max_pending)
    if not ray and (replicas is not None or replica_cpus is not None or ray_address is not None):
        raise ValueError("--replicas, --replica-cpus and --ray-address go with --ray")
    if ray:
        _serve_on_ray(settings, host, port, model, video_model, device, 2 if replicas is None else replicas,
                      1.0 if replica_cpus is None else replica_cpus, ray_address)
        return
    import uvicorn

    from ct1_sim.service import create_app
    from ct1_sim.world import WorldModel

    _warn_if_open(host, token)
    _check_bindable(host, port)
    world = WorldModel.from_pretrained(model, video_model, device=device)
    typer.echo(f"ct1-sim serving on http://{host}:{port} (docs: /docs; auth: {'bearer token' if token else 'none'})")
    uvicorn.run(create_app(world, settings), host=host, port=port, log_level="info")


def _serve_on_ray(settings: ServiceSettings, host: str, port: int, model: Path | None, video_model: Path | None, device: str,
                  replicas: int, replica_cpus: float, address: str | None) -> None:
    """``--ray``: the same API on Ray Serve replicas until Ctrl-C (or SIGTERM); then the application is removed (and
    the local Ray it started is shut down)."""
    if replicas < 1:
        raise ValueError(f"--replicas must be >= 1, got {replicas}")
    if replica_cpus <= 0:
        raise ValueError(f"--replica-cpus must be > 0, got {replica_cpus}")
    if device not in ("auto", "cpu"):
        raise ValueError(f"--ray replicas reserve no GPU, so they run on the CPU; use --device cpu or auto (got {device!r})")
    from ct1_sim.service.ray_serve import ModelSpec, serving

    _warn_if_open(host, settings.token)
    if address is None:  # a local Ray: its proxy binds here
        _check_bindable(host, port)
    spec = ModelSpec(str(model.resolve()) if model else None, str(video_model.resolve()) if video_model else None, device=device)
    stop = threading.Event()
    with serving(spec, settings, replicas=replicas, host=host, port=port, address=address, replica_cpus=replica_cpus) as url:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())  # after ray.init, whose own handler aborts the process
        typer.echo(f"ct1-sim serving on {url} with {replicas} Ray Serve replicas (docs: /docs; auth: "
                   f"{'bearer token' if settings.token else 'none'}; X-CT1-Replica names the replica that answered; Ctrl-C stops)")
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    typer.echo("ct1-sim: stopped")


def _warn_if_open(host: str, token: str | None) -> None:
    if host not in ("127.0.0.1", "localhost", "::1") and token is None:
        typer.secho(f"warning: serving on {host} without --token: anyone who can reach it can use it", fg=typer.colors.YELLOW, err=True)


def _check_bindable(host: str, port: int) -> None:
    """A clear error now, before the models load, when ``host:port`` cannot be served (unknown address, port taken)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise ValueError(f"--host {host!r} is not an address of this machine ({err.strerror}); use 127.0.0.1 or 0.0.0.0") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as err:
            raise ValueError(f"cannot serve on {host}:{port} ({err.strerror}); pick another --port or stop what uses it") from None
