"""Bad input on the command line gets one clear ``error:`` line (exit code 2), never a traceback, and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from ct1_sim.cli.app import app
from ct1_sim.cli.predict import load_image
from ct1_sim.data.samples import SAMPLES_DIR, load_samples
from ct1_sim.formats import write_trajectory
from ct1_sim.geometry import CameraTrajectory
from tests.image_helpers import pixel_bomb_png

SAMPLE = load_samples()[0]
IMAGE = str(SAMPLES_DIR / f"{SAMPLE.name}.png")


def run(*args: str):  # -> click's Result
    return CliRunner().invoke(app, list(args))


def assert_clear_error(result, *words: str) -> None:
    """Exit code 2 through the CLI's error handler, whose ``error: ...`` line names the problem. (Tracebacks of
    third-party log handlers left bound to an earlier in-process run's closed stream are a test-runner artifact.)"""
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("error: "), result.output
    for word in words:
        assert word in last, last


def test_unknown_device_names_the_choices(tmp_path: Path) -> None:
    result = run("predict", "--image", IMAGE, "--instruction", "go", "--out", str(tmp_path / "p"), "--device", "gpu")
    assert_clear_error(result, "unknown device 'gpu'", "'cpu'")
    assert not (tmp_path / "p").exists()


def test_output_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    a_file = tmp_path / "frame.png"
    a_file.write_bytes(b"not a folder")
    result = run("predict", "--image", IMAGE, "--instruction", "go", "--out", str(a_file / "sub"))
    assert_clear_error(result, "is a file, not a folder")
    assert a_file.read_bytes() == b"not a folder"


def test_pixel_bomb_and_folder_as_image_are_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(pixel_bomb_png(100000, 100000))
    assert_clear_error(run("predict", "--image", str(bomb), "--instruction", "go", "--out", str(tmp_path / "p")), "Mpx limit")
    assert_clear_error(run("predict", "--image", str(tmp_path), "--instruction", "go", "--out", str(tmp_path / "p")), "is a folder")


def test_sixteen_bit_grey_images_are_scaled_not_clipped_white(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (32, 1))
    path = tmp_path / "grey16.png"
    Image.fromarray(ramp).save(path)
    assert Image.open(path).mode.startswith("I")
    rgb = load_image(path)
    assert rgb.shape == (32, 64, 3) and rgb.dtype == np.uint8
    assert rgb[0, 0, 0] == 0 and rgb[0, -1, 0] == 255 and abs(int(rgb[0, 32, 0]) - 132) <= 2  # a ramp, not all white


@pytest.mark.parametrize("reach_m", [1e12, 6000.0])
def test_a_far_away_trajectory_is_refused_before_any_file_is_written(tmp_path: Path, reach_m: float) -> None:
    c2w = np.tile(np.eye(4), (16, 1, 1))
    c2w[:, 2, 3] = np.linspace(0.0, reach_m, 16)
    path = tmp_path / "far.json"
    write_trajectory(CameraTrajectory(c2w=c2w, K=SAMPLE.trajectory.K, image_size=SAMPLE.trajectory.image_size,
                                      timestamps_us=np.arange(16) * 200_000), path, "json")
    json.loads(path.read_text())
    out = tmp_path / "gen" / "x.mp4"
    result = run("generate", "--image", IMAGE, "--trajectory", str(path), "--format", "json", "--out", str(out), "--device", "cpu")
    assert_clear_error(result, "m from its first pose", "metres")
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_bounds_on_numeric_options_are_checked_by_the_cli(tmp_path: Path) -> None:
    result = run("generate", "--image", IMAGE, "--instruction", "go", "--frames", "100000", "--out", str(tmp_path / "x.mp4"))
    assert result.exit_code == 2 and "--frames" in result.output and not (tmp_path / "x.mp4").exists()
    result = run("serve", "--port", "70000")
    assert result.exit_code == 2 and "--port" in result.output


def test_training_config_values_of_the_wrong_kind_name_the_file_and_key(tmp_path: Path) -> None:
    from ct1_sim.trajectory.training import load_training_config

    config = tmp_path / "cfg.yaml"
    config.write_text('model: {}\ntrain:\n  lr: "fast"\n')
    with pytest.raises(ValueError, match=r"cfg.yaml: train.lr must be a number, got 'fast'"):
        load_training_config(config)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: s\nfamilies:\n  intersection: 5\n", r"spec.yaml: families.intersection must be a mapping"),
        ("", "spec.yaml is empty"),
        ("name: s\nfamilies: {intersection: {}}\nclip: {width: 100000}\n",
         r"spec.yaml: clip width is 100000; it must be in 16-4096 px"),
        ("name: s\nfamilies: {intersection: {}}\nclip: {height: 255.5}\n", r"spec.yaml: clip.height must be a whole number"),
        ("name: s\nfamilies: {intersection: {wieght: 2}}\n", (r"spec.yaml: families.intersection.wieght is not a key of "
                                                               r"families.intersection; use weight, params")),
        ("name: s\nfamilies: {intersection: {}}\nsplits: {train: many}\n", r"spec.yaml: splits.train must be a whole number"),
    ],
)
def test_scenario_spec_errors_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    from ct1_sim.data.scenarios.spec import load_spec

    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_spec(spec)


def test_serve_refuses_an_unknown_host_before_loading_models() -> None:
    assert_clear_error(run("serve", "--host", "999.1.1.1", "--port", "8767"), "is not an address of this machine")


def test_predict_notes_sample_files_left_by_an_earlier_run(tmp_path: Path) -> None:
    out = tmp_path / "p"
    args = ["predict", "--image", IMAGE, "--instruction", "go straight", "--out", str(out), "--device", "cpu"]
    assert run(*args, "--samples", "3").exit_code == 0
    again = run(*args, "--samples", "2")
    assert again.exit_code == 0 and "still holds 1 sample file(s) of an earlier run (sample_02.json)" in again.output


@pytest.mark.parametrize(("text", "words"), [
    ("make a U-turn", ("is not supported", "U-turns", "nearest supported maneuver: turn_left", "nothing written")),
    ("🚗🚗", ("has no words",)), ("turn\x07 left", ("control characters",)), ("x" * 10_000, ("at most 500",)),
])
def test_unsupported_or_unreadable_instructions_are_a_clear_error_and_write_nothing(tmp_path: Path, text: str, words: tuple) -> None:
    out = tmp_path / "p"
    result = run("predict", "--image", IMAGE, "--instruction", text, "--out", str(out), "--device", "cpu")
    assert_clear_error(result, *words)
    assert not out.exists()


def test_predict_says_how_it_read_the_instruction(tmp_path: Path) -> None:
    result = run("predict", "--image", IMAGE, "--instruction", "hang a left and slow down", "--out", str(tmp_path / "p"),
                 "--samples", "2", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "read as: turn left, slow down" in result.output
