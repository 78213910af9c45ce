"""FLISR: fault location, isolation and service restoration (pure algorithm + mosaik adapter).

:mod:`~gridtwin.controllers.flisr.algorithm` holds the algorithm (no mosaik);
:mod:`~gridtwin.controllers.flisr.flisr_sim` the adapter.
"""

from gridtwin.controllers.flisr.algorithm import (
    Flisr,
    Incident,
    Operation,
    locate,
    restoration_ties,
    sections,
)

__all__ = ["Flisr", "Incident", "Operation", "locate", "restoration_ties", "sections"]
