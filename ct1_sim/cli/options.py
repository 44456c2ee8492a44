"""Checks shared by several commands' options."""

from __future__ import annotations

from pathlib import Path


def pixel_size(width: int | None, height: int | None) -> tuple[int, int] | None:
    """``(width, height)`` from ``--width``/``--height``, None when neither is given; an error naming the fix
    when only one is."""
    if (width is None) != (height is None):
        raise ValueError("give both --width and --height, or neither")
    return (width, height) if width is not None and height is not None else None


#: ``--rerun FILE.rrd``, shared by ``replay``, ``sim run`` and ``generate``.
RERUN_HELP = ("Also write a rerun recording to this .rrd file (camera, sampled paths in 3D and top view, metrics; "
              "view it with `rerun FILE.rrd`; needs pip install 'ct1-sim[rerun]').")


def rerun_target(path: Path | None) -> Path | None:
    """Check ``--rerun`` before any work is done: a ``.rrd`` name and rerun-sdk installed (else the extra to install)."""
    if path is None:
        return None
    if path.suffix.lower() != ".rrd":
        raise ValueError(f"--rerun must name a .rrd file (rerun's recording format), got {path.name}")
    from ct1_sim.viz.rerun_recording import require_rerun

    try:
        require_rerun()
    except ImportError as err:
        raise ValueError(f"--rerun: {err}") from None
    return path
