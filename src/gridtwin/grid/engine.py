"""The power-flow engine interface shared by both implementations.

Sign conventions (pandapower's): ``bus_p_mw`` is the net demand at a bus
(consumption positive); line and transformer powers are positive into the
branch at that end; ``ext_grid_p_mw`` is positive when the external grid
supplies power. ``losses_mw`` is the sum of line and transformer losses, so
``ext_grid_p_mw + sgen_p_mw.sum() == load_p_mw.sum() + storage_p_mw.sum() +
losses_mw`` (plus shunts) holds at every converged step.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Protocol

import numpy as np
import pandapower as pp

from gridtwin.grid.state import GridState

__all__ = ["UNRATED_KA", "PowerFlowEngine", "PowerFlowResult", "line_unrated", "make_engine"]


@dataclass(slots=True)
class PowerFlowResult:
    """One power flow's result; arrays are ordered as the pandapower tables.

    A step that did not converge has ``converged`` False and NaN everywhere
    else (``bus_energized`` False).
    """

    converged: bool
    bus_vm_pu: np.ndarray
    bus_va_degree: np.ndarray
    bus_p_mw: np.ndarray
    bus_q_mvar: np.ndarray
    bus_energized: np.ndarray
    line_p_from_mw: np.ndarray
    line_q_from_mvar: np.ndarray
    line_p_to_mw: np.ndarray
    line_q_to_mvar: np.ndarray
    line_i_from_ka: np.ndarray
    line_i_to_ka: np.ndarray
    line_loading_percent: np.ndarray
    trafo_p_hv_mw: np.ndarray
    trafo_q_hv_mvar: np.ndarray
    trafo_p_lv_mw: np.ndarray
    trafo_q_lv_mvar: np.ndarray
    trafo_loading_percent: np.ndarray
    load_p_mw: np.ndarray
    load_q_mvar: np.ndarray
    sgen_p_mw: np.ndarray
    sgen_q_mvar: np.ndarray
    storage_p_mw: np.ndarray
    ext_grid_p_mw: np.ndarray
    ext_grid_q_mvar: np.ndarray
    losses_mw: float

    @classmethod
    def failed(cls, sizes: dict[str, int]) -> PowerFlowResult:
        """A result for a step that did not converge: NaN values, nothing energized."""
        values: dict[str, object] = {"converged": False, "losses_mw": float("nan")}
        for f in fields(cls):
            if f.name in values:
                continue
            table = f.name.split("_", 1)[0]
            table = "ext_grid" if table == "ext" else table
            n = sizes[table]
            values[f.name] = (
                np.zeros(n, dtype=bool) if f.name == "bus_energized" else np.full(n, np.nan)
            )
        return cls(**values)  # type: ignore[arg-type]


class PowerFlowEngine(Protocol):
    """What every engine offers: built once per net, solved once per step."""

    name: str

    def solve(self, state: GridState) -> PowerFlowResult:
        """Run one power flow for ``state``; never raises for a failed flow."""
        ...


def table_sizes(net: pp.pandapowerNet) -> dict[str, int]:
    """Element counts per pandapower table, as :meth:`PowerFlowResult.failed` needs."""
    return {t: len(net[t]) for t in ("bus", "line", "trafo", "load", "sgen", "storage", "ext_grid")}


def make_engine(name: str, net: pp.pandapowerNet) -> PowerFlowEngine:
    """Build the engine called ``name`` (``power-grid-model`` or ``pandapower``) for ``net``."""
    if name == "power-grid-model":
        from gridtwin.grid.pgm_engine import PgmEngine

        return PgmEngine(net)
    if name == "pandapower":
        from gridtwin.grid.pp_engine import PandapowerEngine

        return PandapowerEngine(net)
    raise ValueError(f"unknown engine {name!r}; expected power-grid-model or pandapower")


UNRATED_KA = 1000.0
"""A line rated at this current [kA] or more has no real rating: pandapower's
placeholders (``max_i_ka`` 99999 in case33bw and other case files) are far
above any distribution line."""


def line_unrated(net: pp.pandapowerNet) -> np.ndarray:
    """Lines without a real current rating; their loading is NaN, never a 0.0 % that looks real."""
    rating = net.line["max_i_ka"].to_numpy(float) if "max_i_ka" in net.line else None
    if rating is None:
        return np.ones(len(net.line), dtype=bool)
    return ~(rating < UNRATED_KA)
