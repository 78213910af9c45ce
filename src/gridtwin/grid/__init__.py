"""Network sources, the power-flow engine interface and topology helpers."""

from gridtwin.grid.engine import PowerFlowEngine, PowerFlowResult, make_engine
from gridtwin.grid.sources import load_net
from gridtwin.grid.state import GridState

__all__ = ["GridState", "PowerFlowEngine", "PowerFlowResult", "load_net", "make_engine"]
