"""``InstructionParser``: instruction text -> :class:`~ct1_sim.language.Intent` (maneuver, speed behaviour, or why not).

The language half of the vision-language module: the frozen all-MiniLM-L6-v2 sentence embedding feeds a small MLP
with two heads, one over :data:`~ct1_sim.language.CLASSES` (the six maneuvers and the unsupported requests) and one
over :data:`~ct1_sim.language.SPEEDS`. It is trained on the ``train`` phrasings of the paraphrase bank only
(:func:`train_instruction_parser`, seconds on a CPU), and measured on the ``test`` phrasings, which share no template.
Text that is mostly non-Latin script is refused before the network (the sentence model is English-only).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from scipy.special import erf
from torch import nn

from ct1_sim.atomic_files import atomic_write, write_text_atomic
from ct1_sim.language import (
    CLASSES,
    SPEEDS,
    Intent,
    Phrase,
    check_instruction_text,
    latin_share,
    paraphrase_bank,
)

log = logging.getLogger(__name__)

WEIGHTS_FILE = "instruction_parser.safetensors"
CONFIG_FILE = "instruction_parser.json"
#: Below this share of basic-Latin letters, text is taken as not English without asking the network.
MIN_LATIN_SHARE = 0.5


@dataclass
class ParserConfig:
    """Sizes and training settings of the parser (saved beside its weights)."""

    text_dim: int = 384
    hidden: int = 256
    dropout: float = 0.1
    epochs: int = 400
    lr: float = 3e-3
    weight_decay: float = 1e-3
    seed: int = 0


class InstructionParser(nn.Module):
    """Sentence embedding ``(B, text_dim)`` -> class logits ``(B, len(CLASSES))`` and speed logits ``(B, len(SPEEDS))``."""

    def __init__(self, config: ParserConfig | None = None) -> None:
        super().__init__()
        self.config = config or ParserConfig()
        c = self.config
        self.body = nn.Sequential(nn.Linear(c.text_dim, c.hidden), nn.GELU(), nn.Dropout(c.dropout))
        self.maneuver_head = nn.Linear(c.hidden, len(CLASSES))
        self.speed_head = nn.Linear(c.hidden, len(SPEEDS))

    def forward(self, embedding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(embedding)
        return self.maneuver_head(h), self.speed_head(h)

    def intents(self, embeddings: torch.Tensor, texts: list[str]) -> list[Intent]:
        """Intents of the embeddings ``(B, text_dim)`` of ``texts`` (no script check: see :func:`parse_instructions`).

        Runs the (eval-mode) MLP in numpy: a handful of tiny torch ops between two ONNX Runtime queries cost more in
        thread wake-ups (~3 ms on 2 cores) than their arithmetic."""
        man_p, speed_p = self._probabilities(np.asarray(embeddings.detach().cpu().float().numpy(), dtype=np.float32))
        out = []
        for text, mp, sp in zip(texts, man_p, speed_p, strict=True):
            maneuver, p = _kind_then_side(text, mp)
            s = int(sp.argmax())
            out.append(Intent.of(maneuver, SPEEDS[s], p * (float(sp[s]) if maneuver != "stop" else 1.0)))
        return out

    def _probabilities(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        weights = self.__dict__.get("_numpy_weights")
        if weights is None or self.training:
            weights = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in self.state_dict().items()}
            if not self.training:
                self.__dict__["_numpy_weights"] = weights
        pre = x @ weights["body.0.weight"].T + weights["body.0.bias"]
        h = 0.5 * pre * (1.0 + erf(pre / np.sqrt(2.0)))  # exact GELU, as nn.GELU()

        def softmax(z: np.ndarray) -> np.ndarray:
            e = np.exp(z - z.max(-1, keepdims=True))
            return e / e.sum(-1, keepdims=True)

        return (softmax(h @ weights["maneuver_head.weight"].T + weights["maneuver_head.bias"]),
                softmax(h @ weights["speed_head.weight"].T + weights["speed_head.bias"]))

    def train(self, mode: bool = True) -> InstructionParser:
        self.__dict__.pop("_numpy_weights", None)  # weights may change: rebuild the numpy copy when next used
        return super().train(mode)

    def save(self, directory: str | Path) -> None:
        """Weights and config into ``directory`` (written atomically)."""
        directory = Path(directory)
        with atomic_write(directory / WEIGHTS_FILE) as tmp:
            save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(tmp))
        write_text_atomic(directory / CONFIG_FILE, json.dumps(asdict(self.config), indent=1))

    @classmethod
    def load(cls, directory: str | Path) -> InstructionParser:
        """The parser saved in ``directory`` (safetensors only)."""
        directory = Path(directory)
        config = ParserConfig(**json.loads((directory / CONFIG_FILE).read_text()))
        parser = cls(config)
        parser.load_state_dict(load_file(str(directory / WEIGHTS_FILE)))
        return parser.eval()

    @staticmethod
    def exists(directory: str | Path) -> bool:
        return (Path(directory) / WEIGHTS_FILE).is_file() and (Path(directory) / CONFIG_FILE).is_file()


def side_neutral(text: str) -> str:
    """``text`` with every "right" written "left": what the network sees. Which side is asked for is read from the
    words themselves (:func:`_kind_then_side`), so the network learns each maneuver once for both sides and never
    confuses them (mean-pooled MiniLM embeddings barely tell "left" from "right", and "right" also means "correct")."""
    return _SIDE_WORDS["right"].sub("left", text)


_SIDE_WORDS = {"left": re.compile(r"\bleft\b", re.IGNORECASE), "right": re.compile(r"\bright\b", re.IGNORECASE)}


def _kind_then_side(text: str, probs: np.ndarray) -> tuple[str, float]:
    """The class with the most probability once the two sides of each sided maneuver are pooled (turn, lane change),
    then its side: the one side word the text names, else the side the network prefers. Mean-pooled sentence
    embeddings barely tell "left" from "right", while the words themselves are unambiguous."""
    pooled: dict[str, float] = {}
    for name, p in zip(CLASSES, probs.tolist(), strict=True):
        kind = name.rsplit("_", 1)[0] if name.endswith(("_left", "_right")) else name
        pooled[kind] = pooled.get(kind, 0.0) + p
    kind = max(pooled, key=pooled.__getitem__)
    if kind in CLASSES:
        return kind, pooled[kind]
    named = [side for side, pattern in _SIDE_WORDS.items() if pattern.search(text)]
    # one side named: that side; both ("not left, right"): the last one; none ("overtake"): left, the passing side
    if len(named) == 2:
        named = [max(named, key=lambda side: [m.start() for m in _SIDE_WORDS[side].finditer(text)][-1])]
    side = named[0] if named else "left"
    return f"{kind}_{side}", pooled[kind]


def parse_instructions(parser: InstructionParser, encoder: nn.Module, instructions: list[str]) -> list[Intent]:
    """Intents of raw instructions: text checks (:class:`~ct1_sim.language.InstructionError` on unreadable text), the
    script check, then the parser over ``encoder``'s sentence embeddings (``encoder(list[str]) -> (B, D)``)."""
    cleaned = [check_instruction_text(text) for text in instructions]
    out: list[Intent | None] = [Intent.of("non_english") if latin_share(t) < MIN_LATIN_SHARE else None for t in cleaned]
    todo = [i for i, intent in enumerate(out) if intent is None]
    if todo:
        emb = encoder([side_neutral(cleaned[i]) for i in todo])
        for i, intent in zip(todo, parser.intents(emb, [cleaned[i] for i in todo]), strict=True):
            out[i] = intent
    return [intent for intent in out if intent is not None]


def _targets(phrases: list[Phrase]) -> tuple[torch.Tensor, torch.Tensor]:
    """Class and speed indices; sided classes are learnt on their left form (the text is side-neutral)."""
    return (torch.tensor([CLASSES.index(p.maneuver.replace("_right", "_left")) for p in phrases]),
            torch.tensor([SPEEDS.index(p.speed) for p in phrases]))


def train_instruction_parser(encoder: nn.Module, config: ParserConfig | None = None) -> tuple[InstructionParser, dict[str, float]]:
    """Fit a parser on the bank's ``train`` phrasings (class-balanced loss, full batch) and measure it on ``train`` and
    on the held-out ``test`` phrasings: ``(parser, {train_accuracy, test_accuracy, ...})``. An accuracy counts a phrase
    right when both its class and its speed behaviour are."""
    config = config or ParserConfig()
    train, test = paraphrase_bank("train"), paraphrase_bank("test")
    with torch.inference_mode():
        x_train = encoder([side_neutral(p.text) for p in train]).float()
        x_test = encoder([side_neutral(p.text) for p in test]).float()
    x_train, x_test = x_train.clone(), x_test.clone()  # out of inference mode: autograd may use them
    y_man, y_speed = _targets(train)
    config.text_dim = int(x_train.shape[1])
    torch.manual_seed(config.seed)
    parser = InstructionParser(config)
    counts = torch.bincount(y_man, minlength=len(CLASSES)).float().clamp(min=1)
    man_weight = (counts.sum() / counts) / (counts.sum() / counts).mean()
    s_counts = torch.bincount(y_speed, minlength=len(SPEEDS)).float().clamp(min=1)
    speed_weight = (s_counts.sum() / s_counts) / (s_counts.sum() / s_counts).mean()
    opt = torch.optim.AdamW(parser.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    for _ in range(config.epochs):
        parser.train()
        man_logits, speed_logits = parser(x_train)
        loss = F.cross_entropy(man_logits, y_man, weight=man_weight) + F.cross_entropy(speed_logits, y_speed, weight=speed_weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
    parser.eval()
    metrics = {"train_accuracy": _accuracy(parser, x_train, train), "test_accuracy": _accuracy(parser, x_test, test),
               "train_phrases": float(len(train)), "test_phrases": float(len(test))}
    log.info("instruction parser: %s", json.dumps({k: round(v, 4) for k, v in metrics.items()}))
    return parser, metrics


def _accuracy(parser: InstructionParser, x: torch.Tensor, phrases: list[Phrase]) -> float:
    intents = parser.intents(x, [p.text for p in phrases])
    right = [i.maneuver == p.maneuver and (i.speed == p.speed or p.maneuver == "stop") for i, p in zip(intents, phrases, strict=True)]
    return sum(right) / max(len(right), 1)


def parser_errors(parser: InstructionParser, encoder: nn.Module, split: str = "test") -> list[tuple[str, str, str]]:
    """``(text, expected, got)`` for each phrase of ``split`` the parser gets wrong (for the card and for debugging)."""
    phrases = paraphrase_bank(split)
    intents = parse_instructions(parser, encoder, [p.text for p in phrases])
    return [(p.text, f"{p.maneuver}/{p.speed}", f"{i.maneuver}/{i.speed}") for p, i in zip(phrases, intents, strict=True)
            if not (i.maneuver == p.maneuver and (i.speed == p.speed or p.maneuver == "stop"))]
