"""Limits and switches of the HTTP service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ServiceSettings:
    """``token``: require ``Authorization: Bearer <token>`` on every route but ``/healthz`` and the docs.

    ``max_upload_bytes``: largest request body (413 above it).
    ``max_batch``: trajectory requests fused into one model call (1 = micro-batching off); ``batch_window_ms``: how long
    the batcher waits for more requests once one is queued (0: no wait; requests that queued while the model was
    busy are still batched). ``batch_arriving_wait_ms``: while other trajectory requests are still being read and
    decoded, how long the batcher waits for them to join the batch (a lone request never waits; 0: never).
    ``max_jobs``: rollout jobs queued or running (429 above).
    ``max_pending``: trajectory requests queued or being answered (429 above, so a burst cannot pile up without
    bound). The limits shared by every entry point are not settings: K per request is at most
    :data:`ct1_sim.clip_spec.MAX_NUM_SAMPLES`, uploaded images are decoded under
    :data:`ct1_sim.rgb_input.MAX_IMAGE_PIXELS`.
    """

    token: str | None = None
    max_upload_bytes: int = 10 * 1024 * 1024
    max_batch: int = 16
    batch_window_ms: float = 0.0
    batch_arriving_wait_ms: float = 20.0
    max_jobs: int = 8
    max_pending: int = 64
    max_frames: int = 64
    keep_finished_jobs: int = 64

    def __post_init__(self) -> None:
        for name in ("max_upload_bytes", "max_batch", "max_jobs", "max_pending", "max_frames"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("batch_window_ms", "batch_arriving_wait_ms"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.token is not None and not self.token.strip():
            raise ValueError("token must not be empty; leave it unset to disable authentication")
