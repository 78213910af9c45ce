"""FLISR's restoration check: a power flow of a candidate configuration within limits.

Pure (no mosaik): it asks a :class:`~gridtwin.grid.engine.PowerFlowEngine`
(the one interface every module uses) with the loads FLISR metered last
while they were supplied (a dead load's meter reads zero; its pre-fault value
is what restoration must carry).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandapower as pp

from gridtwin.grid.engine import PowerFlowEngine
from gridtwin.grid.state import GridState

__all__ = ["RestorationCheck"]


@dataclass(slots=True)
class RestorationCheck:
    """``check(switch_closed, line_in_service) -> bool`` within voltage and loading limits.

    Parameters
    ----------
    net : pandapowerNet
        The network (its nominal powers until the first metering).
    engine : PowerFlowEngine
        An engine on ``net`` for FLISR's own power flows.
    vm_min_pu, vm_max_pu : float
        Voltage band of energized buses [pu].
    max_loading_percent : float
        Line and transformer loading limit [%].
    """

    net: pp.pandapowerNet
    engine: PowerFlowEngine
    vm_min_pu: float = 0.9
    vm_max_pu: float = 1.1
    max_loading_percent: float = 100.0
    state: GridState = field(init=False)
    load_bus: np.ndarray = field(init=False)
    sgen_bus: np.ndarray = field(init=False)
    checks: int = 0

    def __post_init__(self) -> None:
        self.state = GridState.from_net(self.net)
        pos = {idx: i for i, idx in enumerate(self.net.bus.index)}
        self.load_bus = np.array([pos[b] for b in self.net.load["bus"]], dtype=np.int64)
        self.sgen_bus = np.array([pos[b] for b in self.net.sgen["bus"]], dtype=np.int64)

    def meter(
        self,
        load_p_mw: np.ndarray,
        load_q_mvar: np.ndarray,
        sgen_p_mw: np.ndarray,
        sgen_q_mvar: np.ndarray,
    ) -> None:
        """Keep the last reading of every meter [MW], [MVAr]; NaN (no reading) keeps the last."""
        for name, reading in (
            ("load_p_mw", load_p_mw),
            ("load_q_mvar", load_q_mvar),
            ("sgen_p_mw", sgen_p_mw),
            ("sgen_q_mvar", sgen_q_mvar),
        ):
            current = getattr(self.state, name)
            current[:] = np.where(np.isfinite(reading), reading, current)

    def __call__(self, switch_closed: np.ndarray, line_in_service: np.ndarray) -> bool:
        """The configuration's power flow converges and stays within the limits."""
        self.checks += 1
        self.state.switch_closed[:] = switch_closed
        self.state.line_in_service[:] = line_in_service
        r = self.engine.solve(self.state)
        if not r.converged:
            return False
        vm = r.bus_vm_pu[r.bus_energized]
        loading = np.concatenate([r.line_loading_percent, r.trafo_loading_percent])
        loading = loading[np.isfinite(loading)]
        return bool(
            np.all((vm >= self.vm_min_pu) & (vm <= self.vm_max_pu))
            and np.all(loading <= self.max_loading_percent)
        )
