"""``CT1TrajectoryConfig``: every size and diffusion setting of the trajectory model, validated."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import pywt

from ct1_sim.trajectory.wavelet_loss import AUTHORS_HAAR

POSE_DIM = 9  # translation (3, metres) + 6D rotation (first two columns of R), relative to the first camera


@dataclass
class CT1TrajectoryConfig:
    """Configuration of :class:`~ct1_sim.trajectory.modeling_ct1.CT1TrajectoryModel`.

    Trajectory clip spec: ``num_poses`` poses at ``rate_hz`` (the current pose first). Normalisation
    statistics (``pose_mean``/``pose_std``, ``(num_poses, 9)`` lists) are filled from the training set and
    saved with the weights. No pose dimension is ever thresholded.
    """

    # clip spec
    num_poses: int = 16
    rate_hz: float = 5.0
    # vision-language module
    backbone: str = "mobilenet_v2+minilm"
    hf_path: str | None = None
    hidden_size: int = 128
    fusion_layers: int = 2
    # trajectory DiT (CT-1's S is 6 x 384, B is 12 x 768; ours is small because it runs 10 steps x 2 (CFG)
    # x K samples per query on a CPU, while the fusion above runs once per query)
    dit_hidden_size: int | None = None  # the DiT's width; None = hidden_size
    dit_layers: int = 3
    dit_heads: int = 4
    mlp_ratio: float = 2.0
    dit_activation: str = "gelu_tanh"  # or "gelu" (exact; 2.5x cheaper on the CPU)
    # diffusion
    train_timesteps: int = 100
    beta_schedule: str = "squaredcos_cap_v2"  # cosine
    inference_steps: int = 10
    guidance_scale: float = 1.5
    cond_dropout: float = 0.1
    speed_dropout: float = 0.3
    repeated_diffusion_steps: int = 8
    # wavelet regularisation
    wavelet: str = AUTHORS_HAAR
    wavelet_levels: int = 3
    wavelet_weight: float = 0.05
    #: x0_hat = (x_t - sqrt(1-a) eps_hat) / sqrt(a) blows up near the last timestep (sqrt((1-a)/a) ~ 2000 at
    #: t=99 of the cosine schedule), so the wavelet term clamps x0_hat (normalised units) to +-this; None = off.
    wavelet_x0_clip: float | None = 5.0
    # normalisation statistics (set by training)
    pose_mean: list[list[float]] | None = None
    pose_std: list[list[float]] | None = None
    speed_scale_mps: float = 10.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        def need(ok: bool, what: str) -> None:
            if not ok:
                raise ValueError(f"invalid CT1TrajectoryConfig: {what}")

        need(self.num_poses >= 2, f"num_poses must be >= 2, got {self.num_poses}")
        need(self.rate_hz > 0, f"rate_hz must be > 0, got {self.rate_hz}")
        need(self.backbone in ("mobilenet_v2+minilm", "hf"), f"backbone must be 'mobilenet_v2+minilm' or 'hf', got {self.backbone!r}")
        need(self.backbone != "hf" or bool(self.hf_path), "backbone 'hf' needs hf_path (a local checkpoint folder)")
        need(self.hidden_size % self.dit_heads == 0, f"hidden_size {self.hidden_size} must be divisible by dit_heads {self.dit_heads}")
        need(self.dit_width % self.dit_heads == 0, f"dit_hidden_size {self.dit_width} must be divisible by dit_heads {self.dit_heads}")
        need(self.dit_activation in ("gelu_tanh", "gelu"), f"dit_activation must be 'gelu_tanh' or 'gelu', got {self.dit_activation!r}")
        need(self.dit_layers >= 1 and self.fusion_layers >= 0, "dit_layers must be >= 1 and fusion_layers >= 0")
        need(self.train_timesteps >= 2, f"train_timesteps must be >= 2, got {self.train_timesteps}")
        need(1 <= self.inference_steps <= self.train_timesteps, f"inference_steps must be in [1, train_timesteps], got {self.inference_steps}")
        need(self.beta_schedule in ("squaredcos_cap_v2", "linear", "scaled_linear"), f"unknown beta_schedule {self.beta_schedule!r}")
        need(self.guidance_scale >= 0, f"guidance_scale must be >= 0, got {self.guidance_scale}")
        need(0 <= self.cond_dropout < 1 and 0 <= self.speed_dropout <= 1, "cond_dropout must be in [0,1) and speed_dropout in [0,1]")
        need(self.repeated_diffusion_steps >= 1, "repeated_diffusion_steps must be >= 1")
        need(self.wavelet == AUTHORS_HAAR or self.wavelet in pywt.wavelist(kind="discrete"), f"unknown wavelet {self.wavelet!r}")
        need(self.wavelet_levels >= 1 and 2**self.wavelet_levels <= self.num_poses, f"wavelet_levels {self.wavelet_levels} too many for {self.num_poses} poses")
        need(self.wavelet_weight >= 0, f"wavelet_weight must be >= 0, got {self.wavelet_weight}")
        for name in ("pose_mean", "pose_std"):
            value = getattr(self, name)
            need(value is None or (len(value) == self.num_poses and all(len(r) == POSE_DIM for r in value)),
                 f"{name} must be ({self.num_poses}, {POSE_DIM})")

    @property
    def dit_width(self) -> int:
        """The DiT's width (``dit_hidden_size``, or ``hidden_size`` when unset)."""
        return self.dit_hidden_size or self.hidden_size

    @property
    def pose_dim(self) -> int:
        return POSE_DIM

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CT1TrajectoryConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown CT1TrajectoryConfig keys {unknown}; known keys: {sorted(known)}")
        return cls(**data)

    @classmethod
    def load(cls, path: str | Path) -> CT1TrajectoryConfig:
        """Read a ``config.json`` or a training ``.yaml``."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no config at {path}")
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(path.read_text()) or {}
            data = data.get("model", data)
        else:
            data = json.loads(path.read_text())
        return cls.from_dict(data)
