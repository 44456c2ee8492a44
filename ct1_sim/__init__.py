"""ct1-sim: a driving world model after CT-1 (arXiv 2604.09201).

Subpackages, lower layers first: ``geometry`` (numpy), ``formats``, ``metrics``, ``data``, ``trajectory``,
``video``, ``world``, ``service``, ``ros``, ``cli``.
"""

__version__ = "0.1.0"
