"""What a SOURCE path given to ``ct1-sim export mcap`` is, told from what it holds, and its loader.

| kind | what it holds |
| --- | --- |
| clip store | a ``zarr.json`` of a ct1-sim clip store (``ct1-sim scenarios render``, ``curate``) |
| demo output | ``summary.json`` listing samples, a folder per sample (``ct1-sim demo``) |
| simulator episode | ``camera.mp4``, ``camera.json`` and ``metrics.json`` (``ct1-sim sim run --out FOLDER``) |
| replay run | ``run.json`` and ``scenes/`` (``ct1-sim replay --out FOLDER``); its source must still be there |
| generate output | ``OUT.mp4`` or ``OUT.json`` of ``ct1-sim generate --out OUT.mp4`` (the JSON names the chosen sample) |
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ct1_sim.export.clip_store_source import load_clip
from ct1_sim.export.recording import Recording
from ct1_sim.export.replay_source import is_replay_folder, load_replay
from ct1_sim.export.rollout_source import generate_summary, is_demo_folder, load_demo, load_generate
from ct1_sim.export.sim_source import is_episode_folder, load_episode

#: Loader of each kind: (path, item) -> Recording.
LOADERS: dict[str, Callable[[Path, str | None], Recording]] = {
    "clip store": load_clip,
    "demo output": load_demo,
    "generate output": load_generate,
    "simulator episode": load_episode,
    "replay run": load_replay,
}
ACCEPTED = ("a clip store (STORE.zarr), a `ct1-sim demo` output folder, a `ct1-sim generate` OUT.mp4, a "
            "`ct1-sim sim run` episode folder or a `ct1-sim replay` run folder")


def source_kind(path: Path) -> str:
    """Which kind of source ``path`` is; ``ValueError`` naming what was found and what is accepted otherwise."""
    if not path.exists():
        raise ValueError(f"{path} does not exist; give {ACCEPTED}")
    if path.is_dir() and (path / "zarr.json").is_file():
        return "clip store"
    if path.is_dir() and is_demo_folder(path):
        return "demo output"
    if path.is_dir() and is_episode_folder(path):
        return "simulator episode"
    if path.is_dir() and is_replay_folder(path):
        return "replay run"
    if generate_summary(path) is not None:
        return "generate output"
    found = sorted(p.name for p in path.iterdir())[:8] if path.is_dir() else [path.name]
    raise ValueError(f"{path} is not a source ct1-sim exports (found: {', '.join(found) or 'an empty folder'}); "
                     f"give {ACCEPTED}")


def load_source(path: str | Path, item: str | None = None) -> Recording:
    """The :class:`Recording` of ``path``; ``item`` picks one clip / sample / scene when the source holds several."""
    path = Path(path)
    return LOADERS[source_kind(path)](path, item)
