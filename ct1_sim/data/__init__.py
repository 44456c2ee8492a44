"""Data: clips and the zarr clip store (nuScenes reader and scenario renderer land here too)."""

from ct1_sim.data.clip import REQUIRED_META_KEYS, SPLITS, Clip, check_clip_id
from ct1_sim.data.clip_store import ClipExistsError, ClipStore

__all__ = ["REQUIRED_META_KEYS", "SPLITS", "Clip", "ClipExistsError", "ClipStore", "check_clip_id"]
