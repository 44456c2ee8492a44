"""``TrainingRun``: an interrupted and resumed run ends where an uninterrupted one does; EMA, learning rate, frozen
parts, checkpoints kept, and the data-set fingerprint."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch
from torch import nn

from ct1_sim.training_loop import DataFingerprint, TrainingRun, latest_checkpoint, warmup_cosine_lr

DATA = DataFingerprint.of("toy data (2 items)", [("a", {"x": 1}), ("b", {"x": 2})])


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.frozen = nn.Linear(3, 3).requires_grad_(False)
        self.head = nn.Linear(3, 1)
        self.register_buffer("count", torch.zeros((), dtype=torch.long))


def _loss(net: Net, step: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(step)
    x = torch.randn(8, 3, generator=g)
    net.count += 1
    return ((net.head(net.frozen(x)) - x.sum(1, keepdim=True)) ** 2).mean()


def _train(folder: Path, steps: range, total: int = 6, **kw: object) -> tuple[Net, TrainingRun]:
    net = Net()
    run = TrainingRun(net, folder, lr=0.05, total_steps=total, warmup_steps=2, ema_decay=0.5, checkpoint_every=2,
                      frozen_prefix="frozen.", fingerprint=DATA, **kw)
    for step in range(run.start, steps.stop):
        run.step(step, _loss(net, step))
        run.history.append({"step": step + 1})
        run.save_if_due(step + 1, note="hi")
    return net, run


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path: Path) -> None:
    whole, whole_run = _train(tmp_path / "whole", range(6))
    _train(tmp_path / "parts", range(4))
    parts, parts_run = _train(tmp_path / "parts", range(6))
    assert parts_run.start == 4 and parts_run.extra == {"note": "hi"}
    assert [h["step"] for h in parts_run.history] == [1, 2, 3, 4, 5, 6]
    for key, value in whole.state_dict().items():
        torch.testing.assert_close(parts.state_dict()[key], value, rtol=0, atol=0)
    for key, value in whole_run.ema.items():
        torch.testing.assert_close(parts_run.ema[key], value, rtol=0, atol=0)
    assert sorted(p.name for p in (tmp_path / "parts").glob("step_*")) == ["step_0000004", "step_0000006"]  # newest two kept
    saved = json.loads((latest_checkpoint(tmp_path / "parts") / "state.json").read_text())
    assert saved["data"] == {"description": DATA.description, "digest": DATA.digest} and saved["step"] == 6


def test_frozen_parts_are_neither_trained_averaged_nor_saved(tmp_path: Path) -> None:
    net, run = _train(tmp_path / "run", range(2))
    assert torch.equal(net.frozen.weight, Net().frozen.weight)
    assert not any(k.startswith("frozen.") for k in run.ema) and "count" in run.ema
    assert run.ema["count"] == 2  # integer state is copied, floats averaged


def test_ema_and_learning_rate(tmp_path: Path) -> None:
    net = Net()
    groups = [{"params": [net.head.weight], "lr_scale": 0.1}, {"params": [net.head.bias]}]
    run = TrainingRun(net, tmp_path, lr=1.0, total_steps=10, warmup_steps=2, ema_decay=0.9, param_groups=groups)
    before = net.head.weight.detach().clone()
    run.step(0, _loss(net, 0))
    assert [g["lr"] for g in run.optimizer.param_groups] == pytest.approx([0.05, 0.5])  # warm-up 1/2, times lr_scale
    torch.testing.assert_close(run.ema["head.weight"], 0.9 * before + 0.1 * net.head.weight.detach())
    live = net.head.weight.detach().clone()
    with run.ema_weights():
        torch.testing.assert_close(net.head.weight, run.ema["head.weight"])
    torch.testing.assert_close(net.head.weight, live)
    assert warmup_cosine_lr(9, 1.0, 2, 10) == pytest.approx(0.05 + 0.95 * 0.5 * (1 + torch.cos(torch.tensor(7 / 8 * torch.pi)).item()))


def test_resuming_on_other_data_is_refused_naming_both(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _train(tmp_path / "run", range(2))
    other = DataFingerprint.of("other data (2 items)", [("a", {"x": 1}), ("b", {"x": 3})])
    with pytest.raises(ValueError, match=r"step_0000002 was trained on toy data \(2 items\), fingerprint \w{12}, but this run trains "
                                         r"on other data \(2 items\), fingerprint \w{12}"):
        TrainingRun(Net(), tmp_path / "run", lr=0.05, total_steps=6, warmup_steps=2, ema_decay=0.5, fingerprint=other)  # before loading
    state = latest_checkpoint(tmp_path / "run") / "state.json"
    state.write_text(json.dumps({k: v for k, v in json.loads(state.read_text()).items() if k != "data"}))
    with caplog.at_level(logging.WARNING, logger="ct1_sim.training_loop"):
        run = TrainingRun(Net(), tmp_path / "run", lr=0.05, total_steps=6, warmup_steps=2, ema_decay=0.5, fingerprint=other,
                          frozen_prefix="frozen.")
    assert run.start == 2 and "records no data-set fingerprint" in caplog.text


def test_a_checkpoint_of_another_model_is_a_clear_error(tmp_path: Path) -> None:
    _train(tmp_path / "run", range(2))
    other = nn.Sequential(nn.Linear(3, 4))
    with pytest.raises(ValueError, match="does not fit the Sequential being trained"):
        TrainingRun(other, tmp_path / "run", lr=0.05, total_steps=6, warmup_steps=2, ema_decay=0.5)
    wider = Net()
    wider.head = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="does not fit the Net being trained .*size mismatch"):
        TrainingRun(wider, tmp_path / "run", lr=0.05, total_steps=6, warmup_steps=2, ema_decay=0.5, frozen_prefix="frozen.")


def test_ema_warmup_forgets_the_initial_weights(tmp_path: Path) -> None:
    """With warm-up the decay at step k is min(decay, (1 + k) / (10 + k)): step 0 averages in 90 % of the new weights."""
    plain, warm = Net(), Net()
    warm.load_state_dict(plain.state_dict())
    runs = [TrainingRun(net, tmp_path / name, lr=0.1, total_steps=10, warmup_steps=1, ema_decay=0.999, ema_warmup=flag)
            for net, name, flag in ((plain, "plain", False), (warm, "warm", True))]
    before = plain.head.weight.detach().clone()
    for run, net in zip(runs, (plain, warm), strict=True):
        run.step(0, _loss(net, 0))
    torch.testing.assert_close(runs[0].ema["head.weight"], 0.999 * before + 0.001 * plain.head.weight.detach())
    torch.testing.assert_close(runs[1].ema["head.weight"], 0.1 * before + 0.9 * warm.head.weight.detach())
