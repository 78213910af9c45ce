"""Building an engine by name: the one module that knows both implementations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridtwin.grid.engine import PowerFlowEngine

if TYPE_CHECKING:
    import pandapower as pp

__all__ = ["ENGINES", "make_engine"]

ENGINES = ("power-grid-model", "pandapower")
"""Engine names, the default first."""


def make_engine(name: str, net: pp.pandapowerNet) -> PowerFlowEngine:
    """Build the engine called ``name`` (``power-grid-model`` or ``pandapower``) for ``net``.

    Raises
    ------
    ValueError
        For an unknown name.
    """
    if name == "power-grid-model":
        from gridtwin.grid.pgm_engine import PgmEngine

        return PgmEngine(net)
    if name == "pandapower":
        from gridtwin.grid.pp_engine import PandapowerEngine

        return PandapowerEngine(net)
    raise ValueError(f"unknown engine {name!r}; expected power-grid-model or pandapower")
