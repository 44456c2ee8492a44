"""ct1-sim: a driving world model after CT-1 (arXiv 2604.09201).

Subpackages, lower layers first (the layer map, which may import which, is in ``ct1_sim/README.md``): the ground
modules ``ct1_sim/*.py``, ``geometry``, ``formats``, ``metrics`` and ``language``, ``data``, ``viz``, ``pretrained``,
``trajectory`` and ``video``, ``world``, ``sim``, ``replay``, ``service`` and ``ros``, ``export``,
``cli``.

The main object of each layer is exported here and imported on first use, so ``import ct1_sim`` stays cheap:

    >>> from ct1_sim import WorldModel   # doctest: +SKIP
"""

from ct1_sim.lazy_exports import lazy_exports

__version__ = "0.1.0"

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "CameraTrajectory": "geometry",
    "read_trajectory": "formats",
    "write_trajectory": "formats",
    "ade": "metrics",
    "fde": "metrics",
    "classify_maneuver": "metrics",
    "Intent": "language",
    "Clip": "data",
    "ClipStore": "data",
    "draw_paths": "viz",
    "plot_birds_eye": "viz",
    "CT1TrajectoryModel": "trajectory",
    "CameraControlledVideoPipeline": "video",
    "Prediction": "world",
    "WorldModel": "world",
    "run_replay": "replay",
    "create_app": "service",
    "RosBridgeNode": "ros",
    "export_mcap": "export",
})
