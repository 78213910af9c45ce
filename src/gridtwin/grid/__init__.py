"""Network sources, the power-flow engine interface and topology helpers.

The names below are loaded on first use, so that importing a light helper
(``gridtwin.grid.topology``) does not import pandapower or power-grid-model.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["GridState", "PowerFlowEngine", "PowerFlowResult", "load_net", "make_engine"]

_HOME = {
    "GridState": "gridtwin.grid.state",
    "PowerFlowEngine": "gridtwin.grid.engine",
    "PowerFlowResult": "gridtwin.grid.engine",
    "load_net": "gridtwin.grid.sources",
    "make_engine": "gridtwin.grid.factory",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(name)
