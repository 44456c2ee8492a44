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

    def gpus(self) -> tuple[list[str], str | None]:
        """The GPUs Ray gave this actor, and what CUDA (torch) will see."""
        return [str(g) for g in ray.get_gpu_ids()], os.environ.get("CUDA_VISIBLE_DEVICES")


def test_a_pool_that_started_ray_shuts_it_down(tmp_path: Path) -> None:
    assert not ray.is_initialized()  # this test runs before the module's shared Ray starts
    with RayActorPool(Squarer, (str(tmp_path / "d.txt"),), workers=1) as pool:
        assert ray.is_initialized() and list(pool.map_unordered("square", [2])) == [(2, 4)]
    assert not ray.is_initialized()
    with pytest.raises(ValueError, match="give workers >= 1 for a local Ray"):
        RayActorPool(Squarer, workers=0)


def test_a_local_pool_starts_a_ray_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an address the pool starts a new local Ray (``address="local"``) with ``workers`` CPUs: a bare
    ``ray.init()`` attaches to a cluster that ``ray start`` left on this machine, and then refuses ``num_cpus``."""

    class Started(Exception):
        pass

    def init(*args: object, **kwargs: object) -> None:
        calls.append(kwargs)
        raise Started

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(ray, "init", init)
    with pytest.raises(Started):
        RayActorPool(Squarer, workers=3).__enter__()
    assert calls[0]["address"] == "local" and calls[0]["num_cpus"] == 3


@pytest.fixture(scope="module")
def running_ray():
    """One local Ray for the module (the pools attach to it and leave it running), declaring two GPUs: Ray hands
    them out as resources whether or not the machine has them, so GPU placement is tested on a CPU machine."""
    ray.init(address="local", num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False)
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
    # raised while the actors are built, before any item
    with pytest.raises(FileNotFoundError, match="no model at"), RayActorPool(Squarer, (str(tmp_path / "c.txt"),),
                                                                            {"fail": True}, workers=2):
        pytest.fail("the pool must not start when its actors cannot be built")
    with RayActorPool(Squarer, (str(tmp_path / "c.txt"),), workers=2) as pool, pytest.raises(ValueError, match="^13 is unlucky$"):
        list(pool.map_unordered("square", [1, 13, 2]))


def test_actors_get_the_gpus_they_ask_for(running_ray, tmp_path: Path) -> None:
    log = str(tmp_path / "g.txt")
    with RayActorPool(Squarer, (log,), workers=2) as pool:  # the default: no GPU, and CUDA sees none
        assert all(ids == [] for ids, _ in pool.call_all("gpus"))
    with RayActorPool(Squarer, (log,), workers=2, num_gpus=1) as pool:
        placed = pool.call_all("gpus")
    assert sorted(ids[0] for ids, _ in placed) == ["0", "1"]  # one GPU each, not the same one
    assert all(visible == ids[0] for ids, visible in placed)  # a model built with device cuda lands on it
    with RayActorPool(Squarer, (log,), workers=2, num_gpus=0.5) as pool:  # two actors share one GPU
        assert len(pool) == 2 and all(len(ids) == 1 for ids, _ in pool.call_all("gpus"))
    with RayActorPool(Squarer, (log,), workers=0, address="auto", num_gpus=2) as pool:  # as many as fit: one
        assert len(pool) == 1 and list(pool.map_unordered("square", [4])) == [(4, 16)]


def test_more_gpus_than_the_cluster_has_is_refused_not_left_pending(running_ray, tmp_path: Path) -> None:
    with (pytest.raises(ValueError, match=r"2 Ray actor\(s\) with 2 GPU each need 4 GPU\(s\), but the Ray cluster has 2"),
          RayActorPool(Squarer, (str(tmp_path / "h.txt"),), workers=2, num_gpus=2)):
        pytest.fail("actors that cannot be placed must not be waited for")
    with pytest.raises(ValueError, match="cluster has 2"):
        RayActorPool(Squarer, workers=0, address="auto", num_gpus=3).__enter__()
    for bad in (-1, float("nan"), float("inf"), True, "1"):
        with pytest.raises(ValueError, match="num_gpus"):
            RayActorPool(Squarer, workers=1, num_gpus=bad)
