"""Frozen-encoder features of a clip store's conditioning frames, with augmentation variants, cached on disk.

The encoders are frozen, so each (clip, augmentation variant) is encoded once; training then runs on the
cached tokens. Variant 0 is the plain frame; odd variants are horizontally flipped (trajectory mirrored,
left/right swapped in the instruction); variants >= 2 add colour jitter and a crop (intrinsics adjusted).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from ct1_sim.atomic_files import atomic_write
from ct1_sim.data import ClipStore
from ct1_sim.data.scenarios.intent_paths import INTENT_KEYS, intent_paths, own_intent
from ct1_sim.geometry import CameraTrajectory, mirror_c2w
from ct1_sim.language import Intent, swap_sides
from ct1_sim.trajectory.augmentation import colour_jitter, random_crop, swap_left_right
from ct1_sim.trajectory.backbones import prepare_images
from ct1_sim.trajectory.pose_tokens import trajectory_to_tokens

log = logging.getLogger(__name__)
#: bump when what the cache holds changes (2: every intent's target, canonical-phrase conditioning)
FEATURES_VERSION = 2


@dataclass
class ClipFeatures:
    """Training tensors for N clips x V variants."""

    ids: list[str]
    image_tokens: torch.Tensor  # (N,V,M,C) float16
    text: torch.Tensor  # (N,V,D) float32
    targets: torch.Tensor  # (N,V,T,9) float32 pose tokens relative to the first camera
    speeds: torch.Tensor  # (N,) m/s at the conditioning frame
    maneuvers: list[list[str]]  # (N,V)
    instructions: list[list[str]]  # (N,V) the canonical phrase of each variant's own intent
    #: for every intent of :data:`~ct1_sim.data.scenarios.intent_paths.INTENT_KEYS`: what to drive, (N,V,I,T,9)
    intent_targets: torch.Tensor | None = None
    intent_valid: torch.Tensor | None = None  # (N,I) bool: the clip's meta gives that intent's path
    own_intent: torch.Tensor | None = None  # (N,V) long: the intent each variant's recorded drive answers
    intent_text: torch.Tensor | None = None  # (I,D) canonical-phrase embeddings

    def __len__(self) -> int:
        return len(self.ids)


def speed_at_start(trajectory: CameraTrajectory) -> float:
    """Ego speed (m/s) at the first pose from the first two camera centres."""
    dt = (trajectory.timestamps_us[1] - trajectory.timestamps_us[0]) / 1e6
    return float(np.linalg.norm(trajectory.positions[1] - trajectory.positions[0]) / dt)


def clip_speed(store: ClipStore, clip_id: str, meta: dict) -> float:
    if meta.get("speed_mps") is not None:
        return float(meta["speed_mps"])
    return speed_at_start(store.read_trajectory(clip_id))


def _variant(frame: np.ndarray, traj: CameraTrajectory, text: str, maneuver: str, v: int, rng: np.random.Generator):
    image, c2w = frame, traj.c2w
    if v >= 2:
        image = colour_jitter(image, rng)
        image, _K = random_crop(image, traj.K, rng)  # the trajectory is metric: a crop changes only K
    if v % 2 == 1:
        image = np.ascontiguousarray(image[:, ::-1])
        c2w = mirror_c2w(c2w)
        text, maneuver = swap_left_right(text), swap_left_right(maneuver)
    return image, traj.replace(c2w=c2w), text, maneuver


def extract_features(
    store: ClipStore, ids: list[str], encoder: torch.nn.Module, variants: int, seed: int, cache: Path | None = None, batch_size: int = 32
) -> ClipFeatures:
    """Encode every clip's conditioning frame in ``variants`` augmentations with the frozen ``encoder`` (cached at ``cache``)."""
    key = hashlib.sha256(json.dumps([str(store.path.resolve()), ids, variants, seed, type(encoder).__name__, FEATURES_VERSION]).encode()).hexdigest()[:16]
    if cache is not None and cache.is_file():
        data = load_file(str(cache))
        meta = json.loads(data.pop("__meta__").numpy().tobytes().decode()) if "__meta__" in data else {}
        if meta.get("key") == key:
            log.info("using cached features %s", cache)
            return ClipFeatures(ids=meta["ids"], image_tokens=data["image_tokens"], text=data["text"], targets=data["targets"],
                                speeds=data["speeds"], maneuvers=meta["maneuvers"], instructions=meta["instructions"],
                                intent_targets=data["intent_targets"], intent_valid=data["intent_valid"].bool(),
                                own_intent=data["own_intent"], intent_text=data["intent_text"])
    rng = np.random.default_rng(seed)
    images, targets, texts, maneuvers, speeds = [], [], [], [], []
    intent_targets, intent_valid, own = [], [], []
    for clip_id in tqdm(ids, desc="reading clips (and driving every intent)", unit="clip", leave=False):
        meta = store.meta(clip_id)
        frame = store.read_frames(clip_id, [0])[0]
        traj = store.read_trajectory(clip_id)
        speeds.append(clip_speed(store, clip_id, meta))
        own_key = own_intent(meta)
        paths = intent_paths(meta, traj.c2w)
        intent_valid.append([paths is not None or k == own_key for k in INTENT_KEYS])
        row_t, row_i, row_m, row_it, row_own = [], [], [], [], []
        by_flip: dict[bool, np.ndarray] = {}  # every intent's tokens: a crop changes only K, so one set per flip
        for v in range(variants):
            image, vtraj, _text, man = _variant(frame, traj, meta["instruction"], meta["maneuver"], v, rng)
            flip = v % 2 == 1
            v_own = (swap_sides(own_key[0]), own_key[1]) if flip else own_key
            images.append(image)
            row_t.append(trajectory_to_tokens(vtraj))
            row_i.append(Intent.of(*v_own).canonical_phrase())
            row_m.append(man)
            row_own.append(INTENT_KEYS.index(v_own))
            if paths is None:  # only the own intent is valid: every slot holds the recorded drive
                row_it.append(np.stack([row_t[-1]] * len(INTENT_KEYS)))
                continue
            if flip not in by_flip:
                # the mirrored scene's left is the recorded one's right
                sources = [(swap_sides(m), sp) if flip else (m, sp) for m, sp in INTENT_KEYS]
                by_flip[flip] = np.stack([trajectory_to_tokens(traj.replace(c2w=mirror_c2w(paths[k]) if flip else paths[k])) for k in sources])
            row_it.append(by_flip[flip])
        targets.append(np.stack(row_t))
        texts.append(row_i)
        maneuvers.append(row_m)
        intent_targets.append(np.stack(row_it))
        own.append(row_own)
    tokens = []
    with torch.inference_mode():
        for i in tqdm(range(0, len(images), batch_size), desc="encoding frames", unit="batch", leave=False):
            batch = prepare_images(images[i : i + batch_size], encoder.input_size)
            tokens.append(encoder.image_tokens(batch).to(torch.float16))
        canonical = [Intent.of(*k).canonical_phrase() for k in INTENT_KEYS]
        unique = sorted({t for row in texts for t in row} | set(canonical))
        emb = dict(zip(unique, encoder.text_embedding(unique).float(), strict=True)) if unique else {}
    n = len(ids)
    image_tokens = torch.cat(tokens).view(n, variants, *tokens[0].shape[1:]) if n else torch.zeros(0)
    feats = ClipFeatures(
        ids=list(ids),
        image_tokens=image_tokens,
        text=torch.stack([torch.stack([emb[t] for t in row]) for row in texts]) if n else torch.zeros(0),
        targets=torch.from_numpy(np.stack(targets)) if n else torch.zeros(0),
        speeds=torch.tensor(speeds, dtype=torch.float32),
        maneuvers=maneuvers,
        instructions=texts,
        intent_targets=torch.from_numpy(np.stack(intent_targets)).float() if n else torch.zeros(0),
        intent_valid=torch.tensor(intent_valid, dtype=torch.bool) if n else torch.zeros(0, dtype=torch.bool),
        own_intent=torch.tensor(own, dtype=torch.long) if n else torch.zeros(0, dtype=torch.long),
        intent_text=torch.stack([emb[t] for t in canonical]),
    )
    if cache is not None:
        meta_bytes = json.dumps({"key": key, "ids": feats.ids, "maneuvers": maneuvers, "instructions": texts}).encode()
        with atomic_write(cache) as tmp:  # runs sharing a cache folder never read a half-written file
            save_file({"image_tokens": feats.image_tokens.contiguous(), "text": feats.text.contiguous(), "targets": feats.targets.contiguous(),
                       "speeds": feats.speeds, "intent_targets": feats.intent_targets.contiguous(),
                       "intent_valid": feats.intent_valid.to(torch.uint8), "own_intent": feats.own_intent,
                       "intent_text": feats.intent_text.contiguous(),
                       "__meta__": torch.frombuffer(bytearray(meta_bytes), dtype=torch.uint8)}, str(tmp))
    return feats
