"""AC power flows of many configurations and periods at once (power-grid-model batches).

The model is built once from the net (through :class:`~gridtwin.grid.pgm_adapter.PgmAdapter`,
the one place where MW meet W); each candidate configuration and period is one
scenario of a batch that updates line statuses and, across periods, load and
generation powers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from power_grid_model import (
    CalculationMethod,
    ComponentType,
    DatasetType,
    PowerGridModel,
    initialize_array,
)
from power_grid_model.errors import PowerGridError

from gridtwin.grid.pgm_adapter import MW_TO_W, PgmAdapter
from gridtwin.grid.state import GridState, Injections

if TYPE_CHECKING:
    from gridtwin.controllers.reconfig.problem import Periods, Problem

__all__ = ["BatchFlow", "FlowBatch"]

CT = ComponentType
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
    """Batch AC power flows for a :class:`~gridtwin.controllers.reconfig.problem.Problem`.

    Parameters
    ----------
    problem : Problem
    threading : int
        power-grid-model threads for a batch (0 = sequential, -1 = all cores).
    """

    def __init__(self, problem: Problem, *, threading: int = 0) -> None:
        self.problem = problem
        net = problem.net
        self.adapter = PgmAdapter(net)
        state = GridState.from_net(net)
        self.model = PowerGridModel(self.adapter.input_data)
        self.model.update(update_data=self.adapter.topology_update(state))
        self._base_from, self._base_to = self.adapter.switches.line_status(
            state.switch_closed, state.line_in_service
        )
        self._storage = (state.storage_p_mw, state.storage_q_mvar)
        self._n_bus = len(net.bus)
        self._has_trafo = CT.transformer in self.adapter.input_data and len(self.adapter.ids.trafo)
        self.threading = threading
        self.n_flows = 0
        self._powers_key: int | None = None
        self._powers: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._model_period: tuple[int, int] | None = None
        outputs: dict[ComponentType, list[str]] = {
            CT.node: ["u_pu", "energized"],
            CT.line: ["p_from", "p_to", "loading"],
        }
        if self._has_trafo:
            outputs[CT.transformer] = ["p_from", "p_to", "loading"]
        self._outputs = outputs
        self._node_pos = self._positions(CT.node, self.adapter.ids.node)
        self._line_pos = self._positions(CT.line, self.adapter.ids.line)
        self._trafo_pos = (
            self._positions(CT.transformer, self.adapter.ids.trafo) if self._has_trafo else None
        )

    def _positions(self, component: ComponentType, ids: np.ndarray) -> np.ndarray:
        have = self.adapter.input_data[component]["id"]
        order = np.argsort(have)
        return order[np.searchsorted(have, ids, sorter=order)]

    def _period_powers(self, periods: Periods) -> tuple[np.ndarray, ...]:
        """sym_load / sym_gen p and q per period [W, var], shape (T, n) each."""
        if self._powers_key != id(periods) or self._powers is None:
            n_bus = self._n_bus
            lp, lq, gp, gq = [], [], [], []
            for t in range(periods.n):
                inj = Injections(
                    load_p_mw=periods.load_p_mw[t],
                    load_q_mvar=periods.load_q_mvar[t],
                    sgen_p_mw=periods.sgen_p_mw[t],
                    sgen_q_mvar=periods.sgen_q_mvar[t],
                    storage_p_mw=self._storage[0],
                    storage_q_mvar=self._storage[1],
                    bus_p_inj_mw=np.zeros(n_bus),
                    bus_q_inj_mvar=np.zeros(n_bus),
                )
                upd = self.adapter.power_update(inj)
                self._load_ids = upd[CT.sym_load]["id"].copy()
                self._gen_ids = upd[CT.sym_gen]["id"].copy()
                lp.append(upd[CT.sym_load]["p_specified"].copy())
                lq.append(upd[CT.sym_load]["q_specified"].copy())
                gp.append(upd[CT.sym_gen]["p_specified"].copy())
                gq.append(upd[CT.sym_gen]["q_specified"].copy())
            self._powers = (np.array(lp), np.array(lq), np.array(gp), np.array(gq))
            self._powers_key = id(periods)
            self._periods_ref = periods  # keep alive so the id stays unique
            self._model_period = None
        return self._powers

    def _power_arrays(self, rows: np.ndarray, batch: bool) -> dict[ComponentType, np.ndarray]:
        lp, lq, gp, gq = self._powers  # type: ignore[misc]
        shape_l = (len(rows), lp.shape[1]) if batch else lp.shape[1]
        shape_g = (len(rows), gp.shape[1]) if batch else gp.shape[1]
        load = initialize_array(DatasetType.update, CT.sym_load, shape_l)
        gen = initialize_array(DatasetType.update, CT.sym_gen, shape_g)
        load["id"], gen["id"] = self._load_ids, self._gen_ids
        pick = rows if batch else rows[0]
        load["p_specified"], load["q_specified"] = lp[pick], lq[pick]
        gen["p_specified"], gen["q_specified"] = gp[pick], gq[pick]
        return {CT.sym_load: load, CT.sym_gen: gen}

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
        self._period_powers(periods)
        p = self.problem
        n_line = len(self._base_from)
        f = np.repeat(self._base_from[None, :], b, axis=0).astype(np.int8)
        t = np.repeat(self._base_to[None, :], b, axis=0).astype(np.int8)
        f[:, p.line_pos] = closed
        t[:, p.line_pos] = closed
        line = initialize_array(DatasetType.update, CT.line, (b, n_line))
        line["id"] = self.adapter.ids.line
        line["from_status"], line["to_status"] = f, t
        update: dict[ComponentType, np.ndarray] = {CT.line: line}
        key = (id(periods), int(period[0]))
        if (period == period[0]).all():
            if self._model_period != key:
                self.model.update(update_data=self._power_arrays(period[:1], batch=False))
                self._model_period = key
        else:
            update.update(self._power_arrays(period, batch=True))
        self.n_flows += b
        try:
            out = self.model.calculate_power_flow(
                update_data=update,
                output_component_types=self._outputs,
                calculation_method=CalculationMethod.newton_raphson,
                error_tolerance=1e-8,
                max_iterations=30,
                threading=self.threading,
                continue_on_batch_error=True,
            )
        except PowerGridError:
            return self._failed(b)
        converged = np.ones(b, dtype=bool)
        error = self.model.batch_error
        if error is not None:
            converged[np.asarray(error.failed_scenarios, dtype=np.int64)] = False
        return self._result(out, converged)

    def _failed(self, b: int) -> FlowBatch:
        n_line = len(self._base_from)
        n_trafo = len(self.problem.trafo_max_loading_percent)
        nan = np.nan
        return FlowBatch(
            converged=np.zeros(b, dtype=bool),
            losses_mw=np.full(b, nan),
            vm_pu=np.full((b, self._n_bus), nan),
            line_loading_percent=np.full((b, n_line), nan),
            trafo_loading_percent=np.full((b, n_trafo), nan),
            violation_percent=np.full(b, nan),
        )

    def _result(self, out: dict, converged: np.ndarray) -> FlowBatch:
        with np.errstate(all="ignore"):  # failed scenarios hold garbage, masked below
            return self._result_unchecked(out, converged)

    def _result_unchecked(self, out: dict, converged: np.ndarray) -> FlowBatch:
        p = self.problem

        def col(component: ComponentType, attr: str, pos: np.ndarray) -> np.ndarray:
            return np.atleast_2d(out[component][attr])[:, pos]

        lpos = self._line_pos
        losses = (col(CT.line, "p_from", lpos) + col(CT.line, "p_to", lpos)).sum(axis=1)
        line_loading = col(CT.line, "loading", lpos) * 100.0
        if self._trafo_pos is not None:
            tpos = self._trafo_pos
            losses = losses + (
                col(CT.transformer, "p_from", tpos) + col(CT.transformer, "p_to", tpos)
            ).sum(axis=1)
            trafo_loading = col(CT.transformer, "loading", tpos) * 100.0
        else:
            trafo_loading = np.zeros((len(converged), 0))
        energized = col(CT.node, "energized", self._node_pos).astype(bool)
        u_pu = col(CT.node, "u_pu", self._node_pos)
        vm = np.where(energized & converged[:, None], u_pu, np.nan)
        under = np.nan_to_num(np.maximum(p.vm_min_pu - _TOL_PU - vm, 0.0))
        over = np.nan_to_num(np.maximum(vm - p.vm_max_pu - _TOL_PU, 0.0))
        viol = 100.0 * (under + over).sum(axis=1)
        viol += np.maximum(line_loading - p.line_max_loading_percent, 0.0).sum(axis=1)
        viol += np.maximum(trafo_loading - p.trafo_max_loading_percent, 0.0).sum(axis=1)
        bad = ~converged
        losses = np.where(bad, np.nan, losses)
        viol[bad] = np.nan
        line_loading[:, self.adapter.line_unrated] = np.nan  # no real rating: n/a
        line_loading[bad] = np.nan
        trafo_loading[bad] = np.nan
        return FlowBatch(
            converged=converged,
            losses_mw=losses / MW_TO_W,
            vm_pu=vm,
            line_loading_percent=line_loading,
            trafo_loading_percent=trafo_loading,
            violation_percent=viol,
        )
