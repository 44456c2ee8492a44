"""Exports of ct1-sim's outputs into the autonomy toolchain: ROS 2 MCAP files for Foxglove (``export_mcap``)."""

from __future__ import annotations

from pathlib import Path

from ct1_sim.export.mcap_file import IMAGE_FORMATS, check_output, write_mcap
from ct1_sim.export.recording import ImageStream, PathSet, Recording
from ct1_sim.export.sources import load_source, source_kind


def export_mcap(source: str | Path, out: str | Path, *, item: str | None = None, image_format: str = "png",
                jpeg_quality: int = 90, overwrite: bool = False) -> tuple[Recording, dict[str, int]]:
    """Write ``source`` (see :mod:`ct1_sim.export.sources`) as a ROS 2 MCAP file ``out``, atomically.

    Returns the recording that was written and the message count per topic.
    """
    out = Path(out)
    check_output(out, image_format=image_format, jpeg_quality=jpeg_quality, overwrite=overwrite)  # before any work
    recording = load_source(source, item)
    return recording, write_mcap(recording, out, image_format=image_format, jpeg_quality=jpeg_quality, overwrite=overwrite)


__all__ = ["IMAGE_FORMATS", "ImageStream", "PathSet", "Recording", "export_mcap", "load_source", "source_kind", "write_mcap"]
