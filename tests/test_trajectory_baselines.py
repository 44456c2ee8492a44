"""The baselines' maneuver library is built from the evaluated clips' own kind of data."""

from __future__ import annotations

import json
from pathlib import Path

from ct1_sim.data import ClipStore
from ct1_sim.trajectory.evaluation import build_library
from tests.toy_clips import make_toy_store


def test_the_library_keeps_only_the_sources_asked_for(tmp_path: Path) -> None:
    store = make_toy_store(tmp_path / "toy.zarr", {"train": 6})
    # relabel half of the clips as another source (as town drives sit beside scenario clips in one store)
    for k, clip_id in enumerate(store.ids()):
        if k % 2:
            attrs = store.path / "clips" / clip_id / "zarr.json"
            data = json.loads(attrs.read_text())
            data["attributes"]["meta"]["source"] = "town"
            attrs.write_text(json.dumps(data))
    store = ClipStore.open(store.path)
    count = lambda lib: sum(len(v) for v in lib.unit_paths.values())  # noqa: E731
    assert count(build_library(store)) == 6
    assert count(build_library(store, sources={"toy"})) == 3
    assert count(build_library(store, sources={"town"})) == 3
