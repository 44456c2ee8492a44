"""``ct1-sim serve``: the HTTP API (FastAPI + uvicorn), bound to 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer


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
    max_jobs: Annotated[int, typer.Option(help="Rollout jobs queued or running (429 above).")] = 8,
    max_pending: Annotated[int, typer.Option(help="Trajectory requests queued or being answered (429 above).")] = 64,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
) -> None:
    """Serve trajectories and rollouts over HTTP (OpenAPI docs at /docs)."""
    import uvicorn

    from ct1_sim.service import ServiceSettings, create_app
    from ct1_sim.world import WorldModel

    token = token or os.environ.get("CT1_SIM_TOKEN")
    settings = ServiceSettings(token=token, max_upload_bytes=int(max_upload_mb * 1024 * 1024), max_batch=max_batch,
                               batch_window_ms=batch_window_ms, max_jobs=max_jobs, max_pending=max_pending)
    if host not in ("127.0.0.1", "localhost", "::1") and token is None:
        typer.secho(f"warning: serving on {host} without --token: anyone who can reach it can use it", fg=typer.colors.YELLOW, err=True)
    _check_bindable(host, port)
    world = WorldModel.from_pretrained(model, video_model, device=device)
    typer.echo(f"ct1-sim serving on http://{host}:{port} (docs: /docs; auth: {'bearer token' if token else 'none'})")
    uvicorn.run(create_app(world, settings), host=host, port=port, log_level="info")


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
