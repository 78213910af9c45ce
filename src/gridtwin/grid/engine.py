"""The power-flow engine interface shared by both implementations (types only).

The implementations (:mod:`gridtwin.grid.pgm_engine`, :mod:`gridtwin.grid.pp_engine`)
import this module; :func:`gridtwin.grid.factory.make_engine` picks one.

Sign conventions (pandapower's): ``bus_p_mw`` is the net demand at a bus
(consumption positive); line and transformer powers are positive into the
branch at that end; ``ext_grid_p_mw`` is positive when the external grid
supplies power. ``losses_mw`` is the sum of line and transformer losses, so
``ext_grid_p_mw + sgen_p_mw.sum() == load_p_mw.sum() + storage_p_mw.sum() +
losses_mw`` (plus shunts) holds at every converged step.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from gridtwin.grid.state import GridState

if TYPE_CHECKING:
    import pandapower as pp

__all__ = [
    "ELEMENT_COLUMNS",
    "ELEMENT_TABLES",
    "RESULT_FIELDS",
    "UNRATED_KA",
    "BatchResult",
    "BatchUpdate",
    "PowerFlowEngine",
    "PowerFlowResult",
    "element_columns",
    "line_unrated",
    "table_sizes",
]


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
        values: dict[str, Any] = {"converged": False, "losses_mw": float("nan")}
        for f in fields(cls):
            if f.name in values:
                continue
            table = f.name.split("_", 1)[0]
            table = "ext_grid" if table == "ext" else table
            n = sizes[table]
            values[f.name] = (
                np.zeros(n, dtype=bool) if f.name == "bus_energized" else np.full(n, np.nan)
            )
        return cls(**values)


RESULT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PowerFlowResult))
"""The field names of :class:`PowerFlowResult`, in order (derived, never spelled out)."""

ELEMENT_TABLES = ("bus", "line", "trafo", "load", "sgen", "storage", "ext_grid")
"""The pandapower tables whose per-element results :class:`PowerFlowResult` carries."""


def _element_columns() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {t: {} for t in ELEMENT_TABLES}
    for name in RESULT_FIELDS:
        table = "ext_grid" if name.startswith("ext_grid_") else name.split("_", 1)[0]
        if table in out:
            out[table][name.removeprefix(table + "_")] = name
    return out


ELEMENT_COLUMNS: dict[str, dict[str, str]] = _element_columns()
"""Per table, column name (pandapower's ``res_<table>`` name) -> :class:`PowerFlowResult`
field, derived from the field names: ``ELEMENT_COLUMNS["line"]["i_from_ka"] ==
"line_i_from_ka"``."""


def element_columns(result: PowerFlowResult, table: str) -> dict[str, np.ndarray]:
    """The per-element arrays of ``table`` in ``result``, keyed by column name."""
    return {col: getattr(result, name) for col, name in ELEMENT_COLUMNS[table].items()}


@dataclass(slots=True)
class BatchUpdate:
    """Per-scenario changes to a base state, for a batch of ``n`` power flows.

    Every array has one row per scenario; a field left None keeps the base
    state's value in every scenario. Powers are effective values (as
    :class:`~gridtwin.grid.state.Injections` holds them, after scaling) [MW],
    [MVAr].

    Attributes
    ----------
    n : int
        Number of scenarios.
    line_pos : ndarray of int, shape (k,)
        Lines whose connection ``line_connected`` sets (with it).
    line_connected : ndarray of bool, shape (n, k)
        Both ends of line ``line_pos[j]`` connected in scenario ``i``; this
        overrides the base state's switches and ``line_in_service`` for those lines.
    load_p_mw, load_q_mvar : ndarray, shape (n, n_load)
        Load demand (consumption positive).
    sgen_p_mw, sgen_q_mvar : ndarray, shape (n, n_sgen)
        Static generation (generation positive).
    bus_p_inj_mw, bus_q_inj_mvar : ndarray, shape (n, n_bus)
        Extra injections per bus (generation positive); both or neither.
    trafo_tap_pos : ndarray of int, shape (n, n_trafo)
        Transformer tap positions.
    """

    n: int
    line_pos: np.ndarray | None = None
    line_connected: np.ndarray | None = None
    load_p_mw: np.ndarray | None = None
    load_q_mvar: np.ndarray | None = None
    sgen_p_mw: np.ndarray | None = None
    sgen_q_mvar: np.ndarray | None = None
    bus_p_inj_mw: np.ndarray | None = None
    bus_q_inj_mvar: np.ndarray | None = None
    trafo_tap_pos: np.ndarray | None = None


@dataclass(slots=True)
class BatchResult:
    """Results of a batch of power flows, one row per scenario.

    Rows of scenarios that did not converge are NaN (``bus_energized``
    False). Without branch outputs (``branches=False``) the branch arrays and
    ``losses_mw`` are NaN.

    Attributes
    ----------
    converged : ndarray of bool, shape (B,)
    bus_vm_pu : ndarray, shape (B, n_bus)
        Bus voltage magnitudes [pu]; 0 at buses without supply.
    bus_energized : ndarray of bool, shape (B, n_bus)
    line_loading_percent : ndarray, shape (B, n_line)
        Line loadings [%].
    trafo_loading_percent : ndarray, shape (B, n_trafo)
        Transformer loadings [%].
    losses_mw : ndarray, shape (B,)
        Line and transformer losses [MW].
    """

    converged: np.ndarray
    bus_vm_pu: np.ndarray
    bus_energized: np.ndarray
    line_loading_percent: np.ndarray
    trafo_loading_percent: np.ndarray
    losses_mw: np.ndarray


class PowerFlowEngine(Protocol):
    """What every engine offers: built once per net, solved once per step or per batch."""

    name: str

    def solve(self, state: GridState) -> PowerFlowResult:
        """Run one power flow for ``state``; never raises for a failed flow."""
        ...

    def solve_batch(
        self,
        state: GridState,
        update: BatchUpdate | None = None,
        *,
        branches: bool = True,
        error_tolerance_pu: float = 1e-8,
        max_iterations: int = 30,
        threading: int = 0,
    ) -> BatchResult:
        """Power flows of ``update``'s scenarios around the base ``state`` (one flow without).

        Never raises for failed flows; their rows are marked not converged.
        """
        ...


def table_sizes(net: pp.pandapowerNet) -> dict[str, int]:
    """Element counts per pandapower table, as :meth:`PowerFlowResult.failed` needs."""
    return {t: len(net[t]) for t in ("bus", "line", "trafo", "load", "sgen", "storage", "ext_grid")}


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
