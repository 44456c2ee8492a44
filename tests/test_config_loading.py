"""Strict config loading: unknown keys and wrong types name the file and the (nested) key; the CLI says so, exit 2."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from typer.testing import CliRunner

from ct1_sim.cli.app import app
from ct1_sim.config_loading import ConfigError, check_values, field_types, load_yaml_config, read_yaml


@dataclass
class Stage:
    steps: int = 10
    lr: float = 1e-3

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")


@dataclass
class Settings:
    stage: Stage = field(default_factory=Stage)
    crop: tuple[int, int] = (224, 128)
    note: str | None = None
    mode: Literal["fast", "exact"] = "fast"
    model: dict[str, Any] = field(default_factory=dict)
    widths: list[int] = field(default_factory=list)


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return load_yaml_config(Settings, path)


def test_a_good_file_loads_with_conversions(tmp_path: Path) -> None:
    s = load(tmp_path, "stage: {steps: 3, lr: 1}\ncrop: [64, 32]\nmode: exact\nmodel: {channels: [8, 16]}\nwidths: [1, 2]\n")
    assert s == Settings(Stage(3, 1.0), (64, 32), None, "exact", {"channels": [8, 16]}, [1, 2])
    assert isinstance(s.stage.lr, float) and isinstance(s.crop, tuple)
    assert load(tmp_path, "") == Settings()  # an empty file is all defaults


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stage: {stepz: 1}\n", r"cfg.yaml: stage.stepz is not a key of stage; use steps, lr$"),
        ("stag: {}\nfoo: 1\n", r"cfg.yaml: stag, foo are not keys at the top level; use stage, crop, note, mode"),
        ("stage: {steps: 1.5}\n", r"cfg.yaml: stage.steps must be a whole number, got 1.5"),
        ("stage: {steps: true}\n", r"cfg.yaml: stage.steps must be a whole number, got True"),
        ("stage: {lr: fast}\n", r"cfg.yaml: stage.lr must be a number, got 'fast'"),
        ("stage: 3\n", r"cfg.yaml: stage must be a mapping of keys to values, got 3"),
        ("crop: [1, 2, 3]\n", r"cfg.yaml: crop must be a list of 2 values"),
        ("crop: [1, x]\n", r"cfg.yaml: crop\[1\] must be a whole number, got 'x'"),
        ("note: 3\n", r"cfg.yaml: note must be text \(or null\), got 3"),
        ("mode: slow\n", r"cfg.yaml: mode must be one of 'fast', 'exact', got 'slow'"),
        ("widths: [1, 2.5]\n", r"cfg.yaml: widths\[1\] must be a whole number"),
        ("stage: {steps: 0}\n", r"cfg.yaml: stage: steps must be >= 1, got 0"),  # the class's own check, file named
        ("- a\n- b\n", r"cfg.yaml: expected a mapping of keys to values at the top, got list"),
        ("stage: {steps: [\n", r"cfg.yaml is not a valid YAML text file"),
    ],
)
def test_bad_files_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, text)


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no config file at .*nowhere.yaml \(see example.yaml\)"):
        read_yaml(tmp_path / "nowhere.yaml", example="example.yaml")
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="bin.yaml is not a valid YAML text file"):
        read_yaml(tmp_path / "bin.yaml")


def test_keyword_parameters_of_a_callable_are_checked_too() -> None:
    def build(width: int = 8, name: str = "x", scale: float | None = None) -> None: ...

    assert check_values({"width": 4, "scale": 2}, field_types(build), "config.json", "model") == {"width": 4, "scale": 2.0}
    with pytest.raises(ConfigError, match=r"config.json: model.width must be a whole number, got '4'"):
        check_values({"width": "4"}, field_types(build), "config.json", "model")


def test_a_typo_in_a_video_config_is_a_user_error_naming_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "video.yaml"
    config.write_text("denoise: {stepz: 1}\n")
    result = CliRunner().invoke(app, ["train", "video", "--data", str(tmp_path / "none.zarr"), "--config", str(config),
                                      "--out", str(tmp_path / "run"), "--device", "cpu"])
    assert result.exit_code == 2, result.output  # a user error, not "unexpected error" (exit 1)
    last = result.output.strip().splitlines()[-1]
    assert last == f"error: {config}: denoise.stepz is not a key of denoise; use steps, batch_size, lr, warmup_steps"
    assert not (tmp_path / "run").exists()
