"""AC power flows of many configurations and periods at once (the engine's batch power flow).

The engine (power-grid-model) is built once from the net; each candidate
configuration and period is one scenario of a batch that sets the switchable
lines' connection and, across periods, load and generation powers. Units stay
MW and pu here: the engine's adapter converts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gridtwin.controllers.reconfig.periods import Periods
from gridtwin.grid.engine import BatchResult, BatchUpdate
from gridtwin.grid.pgm_engine import PgmEngine
from gridtwin.grid.state import GridState

if TYPE_CHECKING:
    import pandapower as pp

__all__ = ["BatchFlow", "FlowBatch"]

_TOL_PU = 1e-6  # voltage-limit tolerance [pu]: a slack at exactly its limit is no violation


@dataclass(slots=True)
class FlowBatch:
    """Results of a batch of power flows, one row per scenario.

    Attributes
    ----------
    converged : ndarray of bool, shape (B,)
    losses_mw : ndarray, shape (B,)
        Line and transformer losses [MW] (NaN where not converged).
    vm_pu : ndarray, shape (B, n_bus)
        Bus voltages [pu]; NaN at buses without supply.
    line_loading_percent, trafo_loading_percent : ndarray, shape (B, n)
        Branch loadings [%].
    violation_percent : ndarray, shape (B,)
        Sum of limit violations in percentage points: voltages outside
        ``[vm_min_pu, vm_max_pu]`` (x100) plus loadings above their limits.
    """

    converged: np.ndarray
    losses_mw: np.ndarray
    vm_pu: np.ndarray
    line_loading_percent: np.ndarray
    trafo_loading_percent: np.ndarray
    violation_percent: np.ndarray


class BatchFlow:
    """Batch AC power flows of configurations of the switchable lines ``line_pos``.

    Parameters
    ----------
    net : pandapowerNet
        The normalized net; its switches and branches give the fixed part.
    line_pos : ndarray of int, shape (m,)
        The switchable lines (a configuration is one bool per line).
    vm_min_pu, vm_max_pu : ndarray, shape (n_bus,)
        Voltage band per bus [pu].
    line_max_loading_percent, trafo_max_loading_percent : ndarray
        Loading limits [%].
    threading : int
        power-grid-model threads for a batch (0 = sequential, -1 = all cores).
    """

    def __init__(
        self,
        net: pp.pandapowerNet,
        *,
        line_pos: np.ndarray,
        vm_min_pu: np.ndarray,
        vm_max_pu: np.ndarray,
        line_max_loading_percent: np.ndarray,
        trafo_max_loading_percent: np.ndarray,
        threading: int = 0,
    ) -> None:
        self.engine = PgmEngine(net)
        base = GridState.from_net(net)
        # periods give effective powers: no scaling on top of them
        self._base = dataclasses.replace(
            base,
            load_scale=np.ones(len(base.load_scale)),
            sgen_scale=np.ones(len(base.sgen_scale)),
        )
        self.line_pos = np.asarray(line_pos, dtype=np.int64)
        self.vm_min_pu, self.vm_max_pu = vm_min_pu, vm_max_pu
        self.line_max_loading_percent = line_max_loading_percent
        self.trafo_max_loading_percent = trafo_max_loading_percent
        self.threading = threading
        self.n_flows = 0

    def _period_state(self, periods: Periods, t: int) -> GridState:
        """The base state with the powers of period ``t``."""
        return dataclasses.replace(
            self._base,
            load_p_mw=periods.load_p_mw[t],
            load_q_mvar=periods.load_q_mvar[t],
            sgen_p_mw=periods.sgen_p_mw[t],
            sgen_q_mvar=periods.sgen_q_mvar[t],
        )

    def run(self, closed: np.ndarray, period: np.ndarray, periods: Periods) -> FlowBatch:
        """Power flows of configurations ``closed[i]`` in periods ``period[i]``.

        Parameters
        ----------
        closed : ndarray of bool, shape (B, m)
        period : ndarray of int, shape (B,)
        periods : Periods
        """
        closed = np.atleast_2d(np.asarray(closed, dtype=bool))
        period = np.broadcast_to(np.asarray(period, dtype=np.int64), (len(closed),))
        b = len(closed)
        update = BatchUpdate(n=b, line_pos=self.line_pos, line_connected=closed)
        if not (period == period[0]).all():  # powers per scenario
            update.load_p_mw = periods.load_p_mw[period]
            update.load_q_mvar = periods.load_q_mvar[period]
            update.sgen_p_mw = periods.sgen_p_mw[period]
            update.sgen_q_mvar = periods.sgen_q_mvar[period]
        self.n_flows += b
        out = self.engine.solve_batch(
            self._period_state(periods, int(period[0])),
            update,
            error_tolerance_pu=1e-8,
            max_iterations=30,
            threading=self.threading,
        )
        return self._result(out)

    def _result(self, out: BatchResult) -> FlowBatch:
        converged = out.converged
        line_loading, trafo_loading = out.line_loading_percent, out.trafo_loading_percent
        vm = np.where(out.bus_energized & converged[:, None], out.bus_vm_pu, np.nan)
        with np.errstate(invalid="ignore"):
            under = np.nan_to_num(np.maximum(self.vm_min_pu - _TOL_PU - vm, 0.0))
            over = np.nan_to_num(np.maximum(vm - self.vm_max_pu - _TOL_PU, 0.0))
            viol = 100.0 * (under + over).sum(axis=1)
            # a line without a real rating has NaN loading (n/a): it cannot be overloaded
            over_line = np.maximum(line_loading - self.line_max_loading_percent, 0.0)
            over_trafo = np.maximum(trafo_loading - self.trafo_max_loading_percent, 0.0)
            viol += np.nan_to_num(over_line).sum(axis=1) + np.nan_to_num(over_trafo).sum(axis=1)
        viol[~converged] = np.nan
        return FlowBatch(
            converged=converged,
            losses_mw=out.losses_mw,
            vm_pu=vm,
            line_loading_percent=line_loading,
            trafo_loading_percent=trafo_loading,
            violation_percent=viol,
        )
