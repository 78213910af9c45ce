"""The voltage controllers of a scenario, combined (pure; no mosaik).

Who sets what when several are on:

- tap: the OLTC controller if on, else the centralized controller;
- DER reactive power: the centralized controller if on (held between its
  intervals), else the local Q(U) curves;
- DER active power limit: the lower of the local P(U) limit and the
  centralized controller's curtailment.

The OLTC and the centralized controller act on what the control centre
believes (the estimate, or a measurement); the local curves act on each unit's
own terminal voltage, as a real inverter does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridtwin.controllers.voltage.central import CentralVoltageControl
from gridtwin.controllers.voltage.curves import Curve, first_order
from gridtwin.controllers.voltage.oltc import Oltc
from gridtwin.grid.state import GridState

__all__ = ["LocalCurves", "VoltageCommands", "VoltageController"]


@dataclass(frozen=True, slots=True)
class LocalCurves:
    """Local Q(U) and P(U) at every DER unit.

    Attributes
    ----------
    q_u, p_u : Curve or None
        Reactive power [pu of rating] and active power limit [pu of rating]
        against the unit's terminal voltage [pu]; None = off.
    rating_mva : ndarray
        Rated apparent power per unit [MVA].
    response_time_s : float
        First-order time constant of the reactive power response [s].
    """

    q_u: Curve | None
    p_u: Curve | None
    rating_mva: np.ndarray
    response_time_s: float = 10.0


@dataclass(slots=True)
class VoltageCommands:
    """Set-points for the next step (None / NaN / inf where nothing is commanded).

    Attributes
    ----------
    tap : ndarray of int or None
        Tap position per transformer.
    q_set_mvar : ndarray
        Reactive power set-point per sgen [MVAr]; NaN = the profile's value.
    p_limit_mw : ndarray
        Active power limit per sgen [MW]; inf = none.
    central_ms : float or None
        Wall time of the centralized decision this step [ms].
    """

    tap: np.ndarray | None
    q_set_mvar: np.ndarray
    p_limit_mw: np.ndarray
    central_ms: float | None = None


class VoltageController:
    """Runs the enabled controllers step by step.

    Parameters
    ----------
    n_sgen : int
        Number of sgens.
    tap_trafos : ndarray of int
        Transformers whose (common) tap is controlled.
    oltc : Oltc, optional
    local : LocalCurves, optional
    central : CentralVoltageControl, optional
    central_interval_s : int
        The centralized controller runs when ``time_s`` is a multiple of this [s].
    step_s : int
        Simulation step [s].
    """

    def __init__(
        self,
        n_sgen: int,
        tap_trafos: np.ndarray,
        *,
        oltc: Oltc | None = None,
        local: LocalCurves | None = None,
        central: CentralVoltageControl | None = None,
        central_interval_s: int = 900,
        step_s: int = 900,
    ) -> None:
        self.tap_trafos = np.asarray(tap_trafos, dtype=np.int64)
        self.oltc, self.local, self.central = oltc, local, central
        self.central_interval_s = central_interval_s
        self.step_s = step_s
        self._q = np.zeros(n_sgen)  # local Q(U) output after the first-order response
        self._central_q = np.full(n_sgen, np.nan)
        self._central_p = np.full(n_sgen, np.inf)
        self._central_tap: int | None = None

    def step(
        self,
        time_s: int,
        *,
        tap_now: np.ndarray,
        v_regulated_pu: float | None,
        vm_estimate_pu: np.ndarray | None,
        vm_terminal_pu: np.ndarray,
        known: GridState,
        sgen_available_mw: np.ndarray,
        ldc_p_pu: float = 0.0,
        ldc_q_pu: float = 0.0,
        next_topology: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> VoltageCommands:
        """Set-points for the next step.

        Parameters
        ----------
        tap_now : ndarray of int
            Tap position per transformer now.
        v_regulated_pu : float or None
            The OLTC's input: estimated (or measured) voltage at its busbar [pu].
        vm_estimate_pu : ndarray or None
            Estimated voltage per bus [pu] (the centralized controller's input).
        vm_terminal_pu : ndarray
            Each sgen's own terminal voltage [pu] (the local curves' input).
        known : GridState
            Operating point the control centre knows (metered powers, switches, taps).
        sgen_available_mw : ndarray
            Available active power per sgen [MW].
        next_topology : tuple of ndarray, optional
            ``(switch_closed, line_in_service)`` at the next step where the
            control centre ordered switchings for it (the centralized
            controller plans on it).
        """
        n = len(self._q)
        q_set = np.full(n, np.nan)
        p_limit = np.full(n, np.inf)
        tap: np.ndarray | None = None
        central_ms = None
        if self.local is not None:
            rating = self.local.rating_mva
            if self.local.q_u is not None:
                target = self.local.q_u(vm_terminal_pu) * rating
                self._q = first_order(self._q, target, self.step_s, self.local.response_time_s)
                q_set = self._q.copy()
            if self.local.p_u is not None:
                p_limit = np.where(
                    vm_terminal_pu > self.local.p_u.v_pu[0],
                    self.local.p_u(vm_terminal_pu) * rating,
                    np.inf,
                )
        if self.central is not None:
            # without an estimate (a failed or missing one) the last decision stands: the
            # inverters keep their set-points rather than fall back to the profile's Q
            if vm_estimate_pu is not None and time_s % self.central_interval_s == 0:
                q_now = np.where(np.isnan(q_set), known.sgen_q_mvar, q_set)
                decision = self.central.decide(
                    vm_estimate_pu,
                    known,
                    sgen_available_mw,
                    q_now,
                    np.minimum(p_limit, np.inf),
                    next_topology=next_topology,
                )
                central_ms = decision.compute_ms
                if decision.ok:
                    self._central_q = decision.q_set_mvar
                    self._central_p = decision.p_limit_mw
                    self._central_tap = decision.tap
            q_set = np.where(np.isnan(self._central_q), q_set, self._central_q)
            p_limit = np.minimum(p_limit, self._central_p)
        if len(self.tap_trafos):
            current = int(tap_now[self.tap_trafos[0]])
            new = current
            if self.oltc is not None and v_regulated_pu is not None:
                new = self.oltc.step(time_s, v_regulated_pu, current, ldc_p_pu, ldc_q_pu)
            elif self.central is not None and self._central_tap is not None:
                new = self._central_tap
            tap = np.asarray(tap_now, dtype=np.int64).copy()
            tap[self.tap_trafos] = new
        return VoltageCommands(tap, q_set, p_limit, central_ms)
