"""The one Ray helper: actors built once, items handed to the free one, the actors' own errors, Ray shut down."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from ct1_sim.ray_pool import RayActorPool  # noqa: E402


class Squarer:
    """Loads its "model" once (counts constructions in a file) and squares numbers; 13 is refused."""

    def __init__(self, log: str, fail: bool = False) -> None:
        if fail:
            raise FileNotFoundError(f"no model at {log}")
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\n")

    def square(self, x: int) -> tuple[int, int]:
        if x == 13:
            raise ValueError("13 is unlucky")
        return x, x * x

    def pid(self) -> int:
        return os.getpid()


def test_a_pool_that_started_ray_shuts_it_down(tmp_path: Path) -> None:
    assert not ray.is_initialized()  # this test runs before the module's shared Ray starts
    with RayActorPool(Squarer, (str(tmp_path / "d.txt"),), workers=1) as pool:
        assert ray.is_initialized() and list(pool.map_unordered("square", [2])) == [(2, 4)]
    assert not ray.is_initialized()
    with pytest.raises(ValueError, match="give workers >= 1 for a local Ray"):
        RayActorPool(Squarer, workers=0)


@pytest.fixture(scope="module")
def running_ray():  # noqa: ANN201
    """One local Ray for the module (the pools attach to it and leave it running)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_every_item_runs_once_on_actors_built_once(running_ray, tmp_path: Path) -> None:
    log = tmp_path / "built.txt"
    with RayActorPool(Squarer, (str(log),), workers=2, max_actors=10) as pool:
        assert len(pool) == 2 and len(set(pool.call_all("pid"))) == 2
        results = dict(pool.map_unordered("square", range(10)))
    assert results == {x: x * x for x in range(10)}
    assert len(log.read_text().split()) == 2  # one construction per actor, not per item
    assert ray.is_initialized()  # it was running before: left running


def test_never_more_actors_than_items(running_ray, tmp_path: Path) -> None:
    with RayActorPool(Squarer, (str(tmp_path / "b.txt"),), workers=2, max_actors=1) as pool:
        assert len(pool) == 1 and list(pool.map_unordered("square", [3])) == [(3, 9)]


def test_errors_come_back_as_the_actors_own_exceptions(running_ray, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no model at"):  # raised while the actors are built, before any item
        with RayActorPool(Squarer, (str(tmp_path / "c.txt"),), {"fail": True}, workers=2):
            pytest.fail("the pool must not start when its actors cannot be built")
    with RayActorPool(Squarer, (str(tmp_path / "c.txt"),), workers=2) as pool:
        with pytest.raises(ValueError, match="^13 is unlucky$"):
            list(pool.map_unordered("square", [1, 13, 2]))
