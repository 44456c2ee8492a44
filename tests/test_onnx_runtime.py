"""The ONNX Runtime path of the trajectory model gives the samples of the eager path, and stays in step with it."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from ct1_sim.trajectory import onnx_graphs
from ct1_sim.trajectory.backbones import MobileNetMiniLMBackbone, prepare_images
from ct1_sim.trajectory.modeling_ct1 import CT1TrajectoryModel
from ct1_sim.trajectory.onnx_graphs import lane_count, run_in_lanes, split_sizes
from ct1_sim.trajectory.pipeline_ct1 import lone_query_lanes

TINY = dict(hidden_size=32, fusion_layers=1, dit_layers=1, dit_heads=2)
INSTRUCTION = "turn left at the intersection"


@pytest.fixture(scope="module")
def encoder() -> MobileNetMiniLMBackbone:
    return MobileNetMiniLMBackbone()


def _paths(model: CT1TrajectoryModel, images: list[np.ndarray], seed: int = 3, k: int = 4) -> np.ndarray:
    gens = [torch.Generator().manual_seed(seed + i) for i in range(len(images))]
    out = model.sample_batch(images, [INSTRUCTION] * len(images), [8.0] + [None] * (len(images) - 1), k, gens)
    return np.stack([[t.c2w for t in query] for query in out])


def _tiny(encoder: MobileNetMiniLMBackbone, runtime: str) -> CT1TrajectoryModel:
    torch.manual_seed(0)
    model = CT1TrajectoryModel(**TINY, encoder=encoder).eval()
    model.pipeline.runtime = runtime
    with torch.no_grad():  # adaLN-Zero starts every block as the identity: give the DiT something to compute
        for p in model.dit.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


def test_onnxruntime_matches_eager_for_single_and_batched_queries(encoder: MobileNetMiniLMBackbone) -> None:
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, size=(90, 160, 3), dtype=np.uint8) for _ in range(3)]
    fast = _tiny(encoder, "auto")
    eager = _tiny(encoder, "torch")
    assert fast.pipeline.runtime == "onnxruntime" and eager.pipeline.runtime == "torch"
    for batch in (images[:1], images):  # the batch-1 graph and the dynamic-batch graph
        a, b = _paths(fast, batch), _paths(eager, batch)
        assert a.shape == (len(batch), 4, 16, 4, 4)
        np.testing.assert_allclose(a, b, atol=2e-4)
        assert np.abs(a[..., :3, 3]).max() > 0.1  # the paths go somewhere (not a degenerate all-zero output)
    # the image tokens of the CNN graph match the eager CNN
    pixels = prepare_images(images, encoder.input_size)
    np.testing.assert_allclose(encoder.image_tokens(pixels, runtime="onnxruntime"), encoder.image_tokens(pixels, runtime="torch"), atol=1e-4)


def test_lanes_give_the_samples_of_one_run(encoder: MobileNetMiniLMBackbone, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two lanes (a lone query's samples, or a batch's queries, split over two single-threaded runs side by side)
    sample what one lane does, and what eager PyTorch does."""
    assert split_sizes(8, 2) == [4, 4] and split_sizes(3, 2) == [2, 1] and split_sizes(1, 2) == [1] and split_sizes(5, 1) == [5]
    rng = np.random.default_rng(2)
    images = [rng.integers(0, 255, size=(90, 160, 3), dtype=np.uint8) for _ in range(3)]
    model, eager = _tiny(encoder, "auto"), _tiny(encoder, "torch")
    runs: list[tuple[int, int]] = []  # (queries, samples) of every graph run
    original = onnx_graphs.OrtGraph.__call__
    monkeypatch.setattr(onnx_graphs.OrtGraph, "__call__", lambda self, *inputs: runs.append(tuple(inputs[3].shape[:2])) or original(self, *inputs))
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert lane_count() == 2 and lone_query_lanes(8) == [4, 4] and lone_query_lanes(4) == [4]
        two = [_paths(model, batch, k=8) for batch in (images[:1], images)]
        torch.set_num_threads(1)
        one = [_paths(model, batch, k=8) for batch in (images[:1], images)]
    finally:
        torch.set_num_threads(threads)
    assert sorted(runs[:2]) == [(1, 4), (1, 4)] and sorted(runs[2:4]) == [(1, 8), (2, 8)]  # 4 + 4 samples; 2 + 1 queries
    assert runs[4:] == [(1, 8), (3, 8)]  # one lane: whole
    assert {(key[1], key[2]) for key in model.__dict__["_ort_graphs"].graphs} == {(1, 4), ("B", 8), (1, 8)}
    for a, b, batch in zip(two, one, (images[:1], images), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
        np.testing.assert_allclose(a, _paths(eager, batch, k=8), atol=2e-4)


def test_a_failing_lane_fails_the_call_after_every_lane_ended() -> None:
    ended: list[str] = []

    def lane(name: str, fail: bool) -> torch.Tensor:
        ended.append(name)
        if fail:
            raise RuntimeError(f"lane {name} failed")
        return torch.zeros(1)

    with pytest.raises(RuntimeError, match="lane first failed"):
        run_in_lanes([lambda: lane("first", True), lambda: lane("second", False), lambda: lane("third", False)])
    assert sorted(ended) == ["first", "second", "third"]
    with pytest.raises(RuntimeError, match="lane second failed"):
        run_in_lanes([lambda: lane("first", False), lambda: lane("second", True)])
    assert [float(x) for x in run_in_lanes([lambda: torch.ones(1), lambda: torch.zeros(1)])] == [1.0, 0.0]


def test_graphs_follow_weight_changes_and_pickle_empty(encoder: MobileNetMiniLMBackbone) -> None:
    image = np.random.default_rng(1).integers(0, 255, size=(64, 112, 3), dtype=np.uint8)
    model = _tiny(encoder, "onnxruntime")
    before = _paths(model, [image])
    with torch.no_grad():
        model.dit.head.bias.add_(0.3)  # an in-place update, as an optimiser step makes
    after = _paths(model, [image])
    assert not np.allclose(before, after, atol=1e-3)
    model.pipeline.runtime = "torch"
    np.testing.assert_allclose(after, _paths(model, [image]), atol=2e-4)
    model.pipeline.runtime = "auto"
    clone = pickle.loads(pickle.dumps(model))  # sessions are not picklable: the cache comes back empty and rebuilds
    np.testing.assert_allclose(_paths(clone, [image]), after, atol=1e-5)


def test_runtime_choices_are_checked(encoder: MobileNetMiniLMBackbone) -> None:
    with pytest.raises(ValueError, match="unknown runtime"):
        _tiny(encoder, "tensorrt")
    model = _tiny(encoder, "onnxruntime")
    model.fusion.to(torch.bfloat16)  # as from_pretrained(dtype="bfloat16") does; the shared frozen backbone stays float32
    model.dit.to(torch.bfloat16)
    with pytest.raises(ValueError, match="runtime='torch'"):
        model.sample(np.zeros((64, 64, 3), np.uint8), "go")
    model.pipeline.runtime = "auto"  # auto falls back to eager PyTorch for bfloat16
    assert model.pipeline.runtime == "torch"


def test_world_model_warm_up_builds_the_graph_of_the_first_query(encoder: MobileNetMiniLMBackbone) -> None:
    from ct1_sim.world import WorldModel

    model = _tiny(encoder, "auto")
    world = WorldModel(model)
    assert world.warm_up(num_samples=4, batched=True) > 0
    built = set(model.__dict__["_ort_graphs"].graphs)
    steps, scale = model.config.inference_steps, model.config.guidance_scale
    scheduler = model.pipeline.scheduler
    lane_k = lone_query_lanes(4)[0]  # a lone query's K samples are split over the lanes (K=4: one lane of 4)
    assert {("query", 1, lane_k, steps, scale, scheduler), ("query", "B", 4, steps, scale, scheduler)} <= built  # batch-1 and batched graphs
    world.predict(np.zeros((64, 112, 3), np.uint8), INSTRUCTION, num_samples=4, seed=0)
    assert set(model.__dict__["_ort_graphs"].graphs) == built  # the real query reused it
    assert WorldModel(None).warm_up() == 0.0
