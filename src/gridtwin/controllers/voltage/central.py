"""Centralized optimal voltage control (pure): tap, DER reactive power and curtailment.

Every control interval, from the estimated bus voltages and the operating
point the control centre knows (metered load and generation, switch states,
taps), the controller

1. linearizes the grid by perturbation: one power-grid-model batch of power
   flows with +0.1 MVAr and +0.1 MW at each DER bus and +1 tap, giving the
   voltage sensitivities dV/dQ, dV/dP and dV/dtap at every bus. A
   linearization is kept for ``relinearize_every`` decisions (hourly by
   default) and redone at once when the topology or a tap changes;
2. solves a linear program (HiGHS, one model per linearization: between two
   linearizations only its right-hand sides and bounds change, and each
   solve starts from the last optimal basis, see
   :mod:`~gridtwin.controllers.voltage.lp`; the integer tap by fixing it at
   the relaxation's neighbours): minimize curtailment, reactive power
   (a losses proxy), tap movements and band violations (a large penalty on
   slack variables, so the program is always feasible), subject to the
   predicted voltages staying inside the band minus a margin and every
   set-point inside its device's limits.

The tap is an integer variable; reactive power of each DER is limited to
``q_limit_pu`` of its rating (IEEE 1547 category B: 44 %, assuming inverters
rated for it), curtailment to the available power.

References
----------
.. [1] S. Bolognani, F. Dörfler, "Fast power system analysis via implicit
   linearization of the power flow manifold", Allerton 2015 (linear voltage
   sensitivities).
.. [2] SOGNO, "covee: coordinated voltage control",
   https://github.com/sogno-platform (the controller this one extends).
"""

from __future__ import annotations

import time as wallclock
from dataclasses import dataclass, replace

import numpy as np
import pandapower as pp

from gridtwin.controllers.voltage.lp import VoltageLp
from gridtwin.grid.engine import BatchUpdate
from gridtwin.grid.pgm_engine import PgmEngine
from gridtwin.grid.state import GridState

__all__ = ["CentralDecision", "CentralVoltageControl"]

_DQ_MVAR = 0.1
_DP_MW = 0.1


@dataclass(slots=True)
class CentralDecision:
    """One control decision.

    Attributes
    ----------
    tap : int or None
        Tap position to command at the regulated transformers (None: not controlled).
    q_set_mvar, p_limit_mw : ndarray
        Reactive power set-point [MVAr] and active power limit [MW] per sgen.
    vm_predicted_pu : ndarray
        Bus voltages the linear model predicts after the decision [pu].
    ok : bool
        The program was solved; otherwise the previous set-points stand.
    compute_ms : float
        Wall time of linearization and solution [ms].
    """

    tap: int | None
    q_set_mvar: np.ndarray
    p_limit_mw: np.ndarray
    vm_predicted_pu: np.ndarray
    ok: bool
    compute_ms: float


class CentralVoltageControl:
    """Linearize-and-optimize voltage controller.

    Parameters
    ----------
    net : pandapowerNet
        The control centre's network model.
    vm_min_pu, vm_max_pu : ndarray
        Voltage band per bus [pu]; NaN for buses not controlled (e.g. HV).
    margin_pu : float
        Distance kept from the band's edges [pu].
    tap_trafos : ndarray of int
        Transformer positions whose common tap the controller sets; empty = none.
    q_limit_pu : float
        Reactive power limit of each DER [pu of its rated apparent power].
    cost_curtailment_per_mw, cost_q_per_mvar, cost_tap_per_step, cost_violation_per_pu : float
        Weights of the objective [cost units].
    rating_mva : ndarray, optional
        Rated apparent power per sgen [MVA]; default the net's ``sn_mva``.
    relinearize_every : int
        Decisions one linearization serves at most [-]; the grid is also
        linearized again whenever the topology or a tap changes. Between
        linearizations only the program's right-hand sides and bounds change
        and HiGHS starts from the last optimal basis. 0: only on topology or
        tap changes (faster, but the sensitivities then drift with the load
        and the generation: on the all-functions week the violation minutes
        rose from 330 to 780). 4 at the 15-min interval: hourly.
    """

    def __init__(
        self,
        net: pp.pandapowerNet,
        *,
        vm_min_pu: np.ndarray,
        vm_max_pu: np.ndarray,
        margin_pu: float = 0.005,
        tap_trafos: np.ndarray | None = None,
        q_limit_pu: float = 0.44,
        cost_curtailment_per_mw: float = 100.0,
        cost_q_per_mvar: float = 1.0,
        cost_tap_per_step: float = 5.0,
        cost_violation_per_pu: float = 1e5,
        rating_mva: np.ndarray | None = None,
        relinearize_every: int = 4,
    ) -> None:
        self.engine = PgmEngine(net)
        self.banded = np.flatnonzero(np.isfinite(vm_min_pu) & np.isfinite(vm_max_pu))
        self.vm_min = np.asarray(vm_min_pu, float)[self.banded] + margin_pu
        self.vm_max = np.asarray(vm_max_pu, float)[self.banded] - margin_pu
        self.tap_trafos = np.asarray(tap_trafos if tap_trafos is not None else [], dtype=np.int64)
        if len(self.tap_trafos):
            t = net.trafo.iloc[self.tap_trafos]
            self.tap_min = int(t["tap_min"].max())
            self.tap_max = int(t["tap_max"].min())
        if rating_mva is None:
            rating_mva = net.sgen["sn_mva"].fillna(net.sgen["p_mw"]).to_numpy(float)
        self.q_max_mvar = q_limit_pu * np.asarray(rating_mva, float)
        self.sgen_bus = net.bus.index.get_indexer(net.sgen["bus"])
        self.buses, self.sgen_col = np.unique(self.sgen_bus, return_inverse=True)
        self.costs = (
            cost_curtailment_per_mw,
            cost_q_per_mvar,
            cost_tap_per_step,
            cost_violation_per_pu,
        )
        self.relinearize_every = int(relinearize_every)
        self.linearizations = 0
        self._lin: tuple[np.ndarray, np.ndarray, np.ndarray, VoltageLp] | None = None
        self._lin_key: tuple[bytes, ...] = ()
        self._lin_age = 0

    # --- linearization -------------------------------------------------------------------

    def sensitivities(self, state: GridState) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """dV/dQ [pu/MVAr] and dV/dP [pu/MW] per (banded bus, DER bus), dV/dtap [pu].

        None if the base power flow fails.
        """
        nb = len(self.buses)
        n_tap = 1 if len(self.tap_trafos) else 0
        n_scen = 2 * nb + n_tap
        # scenario k < nb: +dQ at DER bus k; nb <= k < 2 nb: +dP there; last: taps + 1
        bus_p = np.repeat(state.bus_p_inj_mw[None, :], n_scen, axis=0)
        bus_q = np.repeat(state.bus_q_inj_mvar[None, :], n_scen, axis=0)
        k = np.arange(nb)
        bus_q[k, self.buses] += _DQ_MVAR
        bus_p[nb + k, self.buses] += _DP_MW
        batch = BatchUpdate(n=n_scen, bus_p_inj_mw=bus_p, bus_q_inj_mvar=bus_q)
        if n_tap:
            taps = np.repeat(state.trafo_tap_pos[None, :], n_scen, axis=0)
            taps[2 * nb :, self.tap_trafos] += 1
            batch.trafo_tap_pos = taps
        base = self.engine.solve_batch(state, None, branches=False, max_iterations=20)
        out = self.engine.solve_batch(state, batch, branches=False, max_iterations=20)
        if not (base.converged.all() and out.converged.all()):
            return None
        pos = self.banded
        v0 = base.bus_vm_pu[0, pos]
        dv = out.bus_vm_pu[:, pos] - v0
        s_q = (dv[:nb] / _DQ_MVAR).T
        s_p = (dv[nb : 2 * nb] / _DP_MW).T
        s_t = dv[2 * nb] if len(self.tap_trafos) else np.zeros(len(pos))
        if len(self.tap_trafos) and self.tap_max < self.tap_min:
            s_t = np.zeros(len(pos))
        return s_q, s_p, s_t

    # --- decision ------------------------------------------------------------------------

    def decide(
        self,
        vm_estimated_pu: np.ndarray,
        state: GridState,
        sgen_available_mw: np.ndarray,
        q_now_mvar: np.ndarray,
        p_limit_now_mw: np.ndarray,
        next_topology: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> CentralDecision:
        """Choose tap, reactive set-points and curtailment for the next interval.

        Parameters
        ----------
        vm_estimated_pu : ndarray
            Estimated voltage per bus [pu].
        state : GridState
            The operating point the control centre knows (metered powers, switches, taps).
        sgen_available_mw : ndarray
            Available active power per sgen [MW].
        q_now_mvar, p_limit_now_mw : ndarray
            Current reactive set-point [MVAr] and active limit [MW] per sgen.
        next_topology : tuple of ndarray, optional
            ``(switch_closed, line_in_service)`` the grid will have when the
            decision takes effect, where the control centre has ordered
            switchings for that step (e.g. a reconfiguration). The estimate
            is of the topology now; the decision is then planned on the next
            one, the estimate shifted by the change the model predicts
            (:meth:`_shifted_to`).
        """
        t0 = wallclock.perf_counter()
        n_g = len(self.sgen_bus)
        tap_now = int(state.trafo_tap_pos[self.tap_trafos[0]]) if len(self.tap_trafos) else None
        if next_topology is not None:
            shifted = self._shifted_to(next_topology, vm_estimated_pu, state)
            if shifted is not None:
                vm_estimated_pu, state = shifted
        lin = self._linearization(state)
        if lin is None:
            return self._keep(q_now_mvar, p_limit_now_mw, tap_now, vm_estimated_pu, t0)
        sq, sp, s_t, lp = lin
        avail = np.maximum(sgen_available_mw, 0.0)
        c0 = np.maximum(avail - np.minimum(p_limit_now_mw, avail), 0.0)
        has_tap = tap_now is not None
        v_est = vm_estimated_pu[self.banded]
        const = v_est - sq @ q_now_mvar + sp @ c0 - (s_t * tap_now if has_tap else 0.0)
        res = lp.solve(self.vm_max - const, self.vm_min - const, avail, tap_now)
        if res is None:
            return self._keep(q_now_mvar, p_limit_now_mw, tap_now, vm_estimated_pu, t0)
        x = res.x
        q_set = np.clip(x[:n_g] - x[n_g : 2 * n_g], -self.q_max_mvar, self.q_max_mvar)
        curtail = np.clip(x[2 * n_g : 3 * n_g], 0.0, avail)
        curtail[curtail < 1e-6] = 0.0
        p_limit = np.where(curtail > 0.0, avail - curtail, np.inf)
        tap = round(float(x[3 * n_g])) if has_tap else None
        predicted = vm_estimated_pu.copy()
        predicted[self.banded] = const + sq @ q_set - sp @ curtail + (s_t * tap if has_tap else 0.0)
        ms = (wallclock.perf_counter() - t0) * 1e3
        return CentralDecision(tap, q_set, p_limit, predicted, True, ms)

    def _linearization(
        self, state: GridState
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, VoltageLp] | None:
        """Sensitivities per sgen and the program built on them, for ``state``.

        Kept while the topology and the taps stay as they were at the last
        linearization, for at most ``relinearize_every`` decisions (when not
        0); otherwise the grid is linearized again at ``state`` and the
        program rebuilt, starting from the previous one's basis. None if the
        power flows fail.
        """
        key = (*state.topology_key(), state.trafo_tap_pos.tobytes())
        fresh = self._lin is not None and self._lin_key == key
        if fresh and self.relinearize_every and self._lin_age >= self.relinearize_every:
            fresh = False
        if not fresh:
            sens = self.sensitivities(state)
            if sens is None:
                return None
            s_q, s_p, s_t = sens
            sq, sp = s_q[:, self.sgen_col], s_p[:, self.sgen_col]
            has_tap = len(self.tap_trafos) > 0
            lp = VoltageLp(
                sq,
                sp,
                s_t if has_tap else None,
                self.q_max_mvar,
                (self.tap_min, self.tap_max) if has_tap else None,
                self.costs,
                previous=self._lin[3] if self._lin is not None else None,
            )
            self._lin, self._lin_key, self._lin_age = (sq, sp, s_t, lp), key, 0
            self.linearizations += 1
        self._lin_age += 1
        return self._lin

    def _base_vm(self, state: GridState) -> np.ndarray | None:
        """Voltages of the banded buses the model gives at ``state`` [pu]; None if it fails."""
        base = self.engine.solve_batch(state, None, branches=False, max_iterations=20)
        if not base.converged.all():
            return None
        return base.bus_vm_pu[0, self.banded]

    def _shifted_to(
        self, topology: tuple[np.ndarray, np.ndarray], vm: np.ndarray, state: GridState
    ) -> tuple[np.ndarray, GridState] | None:
        """The estimate moved to the next topology, and the state with it; None if unchanged.

        ``vm + (V_model(next) - V_model(now))`` on the banded buses: the model's
        change from the switching, at the same injections, added to the
        estimate (which keeps what the model does not know).
        """
        switch_closed, line_in_service = (np.asarray(a, dtype=bool) for a in topology)
        if np.array_equal(switch_closed, state.switch_closed) and np.array_equal(
            line_in_service, state.line_in_service
        ):
            return None
        after = replace(state, switch_closed=switch_closed, line_in_service=line_in_service)
        v_now, v_next = self._base_vm(state), self._base_vm(after)
        if v_now is None or v_next is None:
            return None
        out = np.asarray(vm, dtype=float).copy()
        out[self.banded] += v_next - v_now
        return out, after

    def _keep(self, q_now, p_now, tap, v, t0) -> CentralDecision:
        ms = (wallclock.perf_counter() - t0) * 1e3
        return CentralDecision(tap, q_now.copy(), p_now.copy(), v.copy(), False, ms)
