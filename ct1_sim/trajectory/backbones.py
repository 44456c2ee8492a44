"""Frozen pretrained backbones of the vision-language module, behind one interface.

- ``"mobilenet_v2+minilm"`` (built in): ImageNet MobileNetV2 spatial features + all-MiniLM-L6-v2 sentence
  embeddings, both from installed wheels.
- ``"hf"``: any transformers CLIP/SigLIP-style dual encoder from a local folder (``vision_model`` patch tokens
  + ``get_text_features``).
Both take RGB images as floats in [0, 1], ``(B,3,H,W)`` at :attr:`input_size`, and sentences.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ct1_sim.pretrained.mobilenet_v2 import (
    FEATURE_CHANNELS,
    IMAGENET_MEAN,
    IMAGENET_STD,
    fold_batch_norms,
    load_pretrained_mobilenet_v2,
)
from ct1_sim.resize import resize_bilinear
from ct1_sim.rgb_input import as_rgb_array
from ct1_sim.trajectory.onnx_graphs import OrtGraph, cached_graph, resolve_runtime
from ct1_sim.trajectory.text_encoder import SentenceEncoder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedFrame:
    """A camera frame already centre-cropped and resized for a backbone (:func:`prepare_frame`): ``pixels`` RGB uint8
    ``(h,w,3)`` at ``input_size (w,h)``, and the ``image_size (W,H)`` px of the frame it came from (the sampled
    trajectories' intrinsics follow the original frame). The pipeline takes it wherever it takes an image; a server
    prepares each request's frame on the request's own thread, off the one thread that runs the model."""

    pixels: np.ndarray
    image_size: tuple[int, int]
    input_size: tuple[int, int]


def _crop_resize(arr: np.ndarray, input_size: tuple[int, int]) -> np.ndarray:
    """RGB uint8 ``(H,W,3)`` -> centre-cropped to the aspect ratio of ``input_size (w,h)``, resized to it ``(h,w,3)``."""
    w_t, h_t = input_size
    h, w = arr.shape[:2]
    target = w_t / h_t
    if w / h > target:  # too wide: crop width
        cw = round(h * target)
        x0 = (w - cw) // 2
        arr = arr[:, x0 : x0 + cw]
    else:
        ch = round(w / target)
        y0 = (h - ch) // 2
        arr = arr[y0 : y0 + ch]
    return resize_bilinear(arr, (w_t, h_t))  # Pillow's antialiased bilinear, bit for bit


def prepare_frame(image: object, input_size: tuple[int, int]) -> PreparedFrame:
    """One frame (RGB uint8 ``(H,W,3)`` array or PIL image, any size) cropped and resized as :func:`prepare_images` does."""
    arr = as_rgb_array(image)
    return PreparedFrame(_crop_resize(arr, input_size), (int(arr.shape[1]), int(arr.shape[0])), (int(input_size[0]), int(input_size[1])))


def prepare_images(images: list[np.ndarray | PreparedFrame] | np.ndarray, input_size: tuple[int, int]) -> torch.Tensor:
    """RGB uint8 ``(H,W,3)`` images of any size (or :class:`PreparedFrame` s for this ``input_size``) -> ``(B,3,h,w)``
    float in [0,1] at ``input_size (w,h)``.

    Each image is centre-cropped to the target aspect ratio, then resized with Pillow's antialiased bilinear
    filter (single-threaded: PyTorch's threaded resize here would wake OpenMP workers that then compete with
    the inference runtime's threads for the two cores).
    """
    w_t, h_t = input_size
    out = np.empty((len(images), h_t, w_t, 3), np.uint8)
    for i, image in enumerate(images):
        if isinstance(image, PreparedFrame):
            if image.input_size != (w_t, h_t):
                raise ValueError(f"frame {i} was prepared for a {image.input_size[0]}x{image.input_size[1]} input, "
                                 f"this model takes {w_t}x{h_t}; prepare it with this model's prepare_frame")
            out[i] = image.pixels
        else:
            out[i] = _crop_resize(as_rgb_array(image), (w_t, h_t))
    return torch.from_numpy(np.ascontiguousarray(out.transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255.0))  # numpy: one thread


class MobileNetMiniLMBackbone(nn.Module):
    """ImageNet MobileNetV2 (4x7 tokens of 1280 at 224x128) + MiniLM (384-d sentence embedding)."""

    image_dim = FEATURE_CHANNELS
    input_size = (224, 128)

    def __init__(self) -> None:
        super().__init__()
        self.cnn = fold_batch_norms(load_pretrained_mobilenet_v2()).requires_grad_(False)  # frozen: fold BN for speed
        self.text = SentenceEncoder()
        self.text_dim = self.text.dim
        self.num_image_tokens = (self.input_size[1] // 32) * (self.input_size[0] // 32)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def tokens_from_pixels(self, images: torch.Tensor) -> torch.Tensor:
        """Normalise, CNN, flatten: the traceable body of :meth:`image_tokens` (also traced into the query graph)."""
        feats = self.cnn((images - self.mean) / self.std)  # (B,1280,4,7)
        return feats.flatten(2).transpose(1, 2)  # (B,28,1280)

    @torch.inference_mode()
    def image_tokens(self, images: torch.Tensor, runtime: str = "auto") -> torch.Tensor:
        """Image tokens; ``runtime`` ``"auto"``/``"onnxruntime"`` runs float32 CPU batches as one ONNX Runtime
        graph of the frozen CNN (2-3x faster than eager here, same features to 1e-5), ``"torch"`` eagerly."""
        if resolve_runtime(runtime, images.device, images.dtype) == "onnxruntime":
            graph = cached_graph(self, ("cnn",), lambda: OrtGraph(
                self, self.tokens_from_pixels, (torch.zeros(1, 3, self.input_size[1], self.input_size[0]),), ("images",),
                dynamic_batch=("images",)))
            return graph(images)
        return self.tokens_from_pixels(images)

    def text_embedding(self, sentences: list[str]) -> torch.Tensor:
        return self.text(sentences).to(self.mean.device)

    def train(self, mode: bool = True) -> MobileNetMiniLMBackbone:  # frozen: BN statistics stay fixed
        return super().train(False)


class HFDualEncoderBackbone(nn.Module):
    """A transformers CLIP/SigLIP-style checkpoint from a local folder (no download)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        path = Path(path)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} has no config.json: give a local transformers CLIP/SigLIP folder")
        self.model = AutoModel.from_pretrained(str(path), local_files_only=True).eval().requires_grad_(False)
        if not hasattr(self.model, "vision_model") or not hasattr(self.model, "get_text_features"):
            raise ValueError(f"{path} is a {type(self.model).__name__}, not a CLIP/SigLIP-style dual encoder")
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        vision = self.model.config.vision_config
        side = int(vision.image_size)
        self.input_size = (side, side)
        self.image_dim = int(vision.hidden_size)
        self.text_dim = int(self.model.config.projection_dim if hasattr(self.model.config, "projection_dim") else self.model.config.text_config.hidden_size)
        patches = (side // int(vision.patch_size)) ** 2
        self.num_image_tokens = patches + (1 if self.model.config.model_type == "clip" else 0)
        mean, std = [0.5] * 3, [0.5] * 3
        pre = path / "preprocessor_config.json"
        if pre.is_file():
            cfg = json.loads(pre.read_text())
            mean, std = cfg.get("image_mean", mean), cfg.get("image_std", std)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)

    @torch.inference_mode()
    def image_tokens(self, images: torch.Tensor, runtime: str = "auto") -> torch.Tensor:
        """Patch tokens of the vision tower (eager PyTorch whatever ``runtime`` says)."""
        out = self.model.vision_model(pixel_values=(images - self.mean) / self.std)
        return out.last_hidden_state

    @torch.inference_mode()
    def text_embedding(self, sentences: list[str]) -> torch.Tensor:
        batch = self.tokenizer(sentences, padding=True, truncation=True, return_tensors="pt").to(self.mean.device)
        feats = self.model.get_text_features(**batch)
        if not isinstance(feats, torch.Tensor):  # newer transformers may return an output object
            feats = feats.pooler_output
        return F.normalize(feats.float(), dim=-1)

    def train(self, mode: bool = True) -> HFDualEncoderBackbone:
        return super().train(False)


def build_backbone(name: str, hf_path: str | None = None) -> nn.Module:
    """Instantiate a frozen backbone by config name."""
    if name == "mobilenet_v2+minilm":
        return MobileNetMiniLMBackbone()
    if name == "hf":
        if not hf_path:
            raise ValueError("backbone 'hf' needs hf_path: a local folder with a CLIP/SigLIP checkpoint")
        return HFDualEncoderBackbone(hf_path)
    raise ValueError(f"unknown backbone {name!r}; use 'mobilenet_v2+minilm' or 'hf'")
