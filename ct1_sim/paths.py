"""Where shipped models live: ``$CT1_SIM_MODELS/<name>`` when set, else the repository's ``model/<name>``."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TRAJECTORY_MODEL = "ct1-tiny"
VIDEO_MODEL = "ct1-video-small"


def models_dir() -> Path:
    """The folder holding shipped model folders."""
    return Path(os.environ.get("CT1_SIM_MODELS", REPO_ROOT / "model"))


def default_model_dir(name: str) -> Path:
    """Folder of the shipped model ``name`` (it may not exist yet)."""
    return models_dir() / name
