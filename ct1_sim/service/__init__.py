"""The HTTP service (FastAPI + uvicorn) in front of :class:`ct1_sim.world.WorldModel`."""

from ct1_sim.service.app import create_app
from ct1_sim.service.settings import ServiceSettings

__all__ = ["ServiceSettings", "create_app"]
