"""The controllable state of a grid between two power flows.

Positions, not pandapower index labels, address elements: position ``i`` is
row ``i`` of the pandapower table. Sign conventions follow pandapower: loads
and storage consume positive power, sgens and bus injections generate positive
power.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandapower as pp

__all__ = ["GridState", "Injections", "SwitchCommand"]


@dataclass(slots=True)
class Injections:
    """Effective element powers handed to a power-flow engine [MW, MVAr]."""

    load_p_mw: np.ndarray
    load_q_mvar: np.ndarray
    sgen_p_mw: np.ndarray
    sgen_q_mvar: np.ndarray
    storage_p_mw: np.ndarray
    storage_q_mvar: np.ndarray
    bus_p_inj_mw: np.ndarray
    bus_q_inj_mvar: np.ndarray


@dataclass(slots=True)
class GridState:
    """Everything that can change from step to step: powers, switches, taps.

    Attributes
    ----------
    load_p_mw, load_q_mvar : ndarray
        Load demand from profiles [MW], [MVAr], before ``load_scale``.
    load_scale : ndarray
        Factor on each load from events (``load_scale``) [-].
    sgen_p_mw, sgen_q_mvar : ndarray
        Available sgen power from profiles [MW], [MVAr], before ``sgen_scale``.
    sgen_scale : ndarray
        Factor on each sgen from events (``sgen_scale``) [-].
    sgen_p_limit_mw : ndarray
        Active power limit set by a controller (curtailment) [MW]; ``inf`` = none.
    sgen_q_set_mvar : ndarray
        Reactive power set-point [MVAr]; NaN = the profile's value.
    storage_p_mw, storage_q_mvar : ndarray
        Storage power, positive = charging [MW], [MVAr].
    switch_closed : ndarray of bool
        Switch positions.
    line_in_service, trafo_in_service : ndarray of bool
        Branch availability.
    trafo_tap_pos : ndarray of int
        Transformer tap positions.
    bus_p_inj_mw, bus_q_inj_mvar : ndarray
        Extra injections at buses from external components (generation
        positive) [MW], [MVAr].
    storage_p_set_mw : ndarray
        Storage power set-point from a command [MW], charging positive; NaN = the profile's.
    """

    load_p_mw: np.ndarray
    load_q_mvar: np.ndarray
    load_scale: np.ndarray
    sgen_p_mw: np.ndarray
    sgen_q_mvar: np.ndarray
    sgen_scale: np.ndarray
    sgen_p_limit_mw: np.ndarray
    sgen_q_set_mvar: np.ndarray
    storage_p_mw: np.ndarray
    storage_q_mvar: np.ndarray
    switch_closed: np.ndarray
    line_in_service: np.ndarray
    trafo_in_service: np.ndarray
    trafo_tap_pos: np.ndarray
    bus_p_inj_mw: np.ndarray
    bus_q_inj_mvar: np.ndarray
    storage_p_set_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        if len(self.storage_p_set_mw) != len(self.storage_p_mw):
            self.storage_p_set_mw = np.full(len(self.storage_p_mw), np.nan)

    @classmethod
    def from_net(cls, net: pp.pandapowerNet) -> GridState:
        """The state as the pandapower net describes it (nominal powers, its switches)."""

        def col(table: str, name: str, default: float = 0.0) -> np.ndarray:
            frame = net[table]
            if name not in frame:
                return np.full(len(frame), default, dtype=float)
            return frame[name].fillna(default).to_numpy(dtype=float).copy()

        n_sgen, n_bus = len(net.sgen), len(net.bus)
        load_scaling = col("load", "scaling", 1.0)
        sgen_scaling = col("sgen", "scaling", 1.0)
        storage_scaling = col("storage", "scaling", 1.0)
        tap = (
            net.trafo["tap_pos"].fillna(0).to_numpy(dtype=np.int64)
            if len(net.trafo)
            else (np.zeros(0, dtype=np.int64))
        )
        return cls(
            load_p_mw=col("load", "p_mw") * load_scaling,
            load_q_mvar=col("load", "q_mvar") * load_scaling,
            load_scale=(col("load", "in_service", 1.0) > 0).astype(float),
            sgen_p_mw=col("sgen", "p_mw") * sgen_scaling,
            sgen_q_mvar=col("sgen", "q_mvar") * sgen_scaling,
            sgen_scale=(col("sgen", "in_service", 1.0) > 0).astype(float),
            sgen_p_limit_mw=np.full(n_sgen, np.inf),
            sgen_q_set_mvar=np.full(n_sgen, np.nan),
            storage_p_mw=col("storage", "p_mw")
            * storage_scaling
            * (col("storage", "in_service", 1.0) > 0),
            storage_q_mvar=col("storage", "q_mvar")
            * storage_scaling
            * (col("storage", "in_service", 1.0) > 0),
            switch_closed=net.switch["closed"].to_numpy(dtype=bool).copy(),
            line_in_service=net.line["in_service"].to_numpy(dtype=bool).copy(),
            trafo_in_service=net.trafo["in_service"].to_numpy(dtype=bool).copy(),
            trafo_tap_pos=tap.copy(),
            bus_p_inj_mw=np.zeros(n_bus),
            bus_q_inj_mvar=np.zeros(n_bus),
        )

    def injections(self) -> Injections:
        """Effective powers after scaling, curtailment and set-points."""
        sgen_p = np.minimum(self.sgen_p_mw * self.sgen_scale, self.sgen_p_limit_mw)
        sgen_q = np.where(
            np.isnan(self.sgen_q_set_mvar),
            self.sgen_q_mvar * self.sgen_scale,
            self.sgen_q_set_mvar,
        )
        return Injections(
            load_p_mw=self.load_p_mw * self.load_scale,
            load_q_mvar=self.load_q_mvar * self.load_scale,
            sgen_p_mw=sgen_p,
            sgen_q_mvar=sgen_q,
            storage_p_mw=np.where(
                np.isnan(self.storage_p_set_mw), self.storage_p_mw, self.storage_p_set_mw
            ),
            storage_q_mvar=self.storage_q_mvar,
            bus_p_inj_mw=self.bus_p_inj_mw,
            bus_q_inj_mvar=self.bus_q_inj_mvar,
        )

    def topology_key(self) -> tuple[bytes, bytes, bytes]:
        """A hashable key of switch positions and branch availability."""
        return (
            self.switch_closed.tobytes(),
            self.line_in_service.tobytes(),
            self.trafo_in_service.tobytes(),
        )


@dataclass(frozen=True, slots=True)
class SwitchCommand:
    """Switching orders for one step: only the switches and lines to operate.

    A command names the devices to operate, not a whole topology, so it never
    undoes what happened to the other devices (a protection trip, an operator's
    switching) since it was issued. The reconfiguration controller plans in
    these; they reach the grid only as
    :class:`~gridtwin.grid.commands.Command` objects through the command
    channel (:func:`gridtwin.grid.commands.from_switch_command`).

    Attributes
    ----------
    at_s : int
        The simulation time the command is meant for [s].
    switch_pos : ndarray of int
        Positions in ``net.switch`` to operate.
    switch_closed : ndarray of bool
        Their new positions.
    line_pos : ndarray of int
        Positions in ``net.line`` whose ``in_service`` to set (nets whose lines
        are switched as a whole, without switch tables).
    line_in_service : ndarray of bool
        Their new states.
    """

    at_s: int
    switch_pos: np.ndarray
    switch_closed: np.ndarray
    line_pos: np.ndarray
    line_in_service: np.ndarray

    @property
    def n_orders(self) -> int:
        """Devices named in the command."""
        return len(self.switch_pos) + len(self.line_pos)
