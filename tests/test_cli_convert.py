"""`ct1-sim convert` on hand-written files of all four formats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from ct1_sim.cli.app import app
from ct1_sim.formats import FORMATS, read_trajectory


def test_cli_convert_chain_through_every_format(tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "in.txt").write_text(
        "any text\n0 0.5 0.875 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1 0\n200000 0.5 0.875 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1 -2\n"
    )
    src, src_fmt = tmp_path / "in.txt", "realestate10k"
    for fmt in FORMATS:
        dst = tmp_path / f"out_{fmt}"
        res = runner.invoke(app, ["convert", str(src), str(dst), "--from", src_fmt, "--to", fmt, "--width", "448", "--height", "256"])
        assert res.exit_code == 0, res.output
        src, src_fmt = dst, fmt
    final = read_trajectory(src, src_fmt, image_size=(448, 256))
    np.testing.assert_allclose(final.positions[-1], [0, 0, 2], atol=1e-9)
    # hand-written MotionCtrl and CT-1 files convert too
    (tmp_path / "m.json").write_text(json.dumps([[1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, -3]]))
    assert runner.invoke(app, ["convert", str(tmp_path / "m.json"), str(tmp_path / "m.txt"), "--from", "motionctrl", "--to", "ct1"]).exit_code == 0
    np.testing.assert_allclose(read_trajectory(tmp_path / "m.txt", "ct1").positions[1], [0, 0, 3], atol=1e-9)
    bad = runner.invoke(app, ["convert", str(tmp_path / "nope.txt"), str(tmp_path / "o.json"), "--from", "ct1", "--to", "json"])
    assert bad.exit_code == 2 and "error:" in bad.output and "Traceback" not in bad.output
