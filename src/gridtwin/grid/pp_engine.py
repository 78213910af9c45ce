"""Power flow with pandapower: the reference engine."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import warnings
from typing import Any

import numpy as np
import pandapower as pp

from gridtwin.grid.engine import (
    ELEMENT_COLUMNS,
    BatchResult,
    BatchUpdate,
    PowerFlowResult,
    line_unrated,
    table_sizes,
)
from gridtwin.grid.state import GridState
from gridtwin.grid.topology import SwitchMap

__all__ = ["PandapowerEngine"]


def _numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


class PandapowerEngine:
    """pandapower's Newton-Raphson (``pp.runpp``) on a private copy of the net.

    Runs with ``trafo_model='pi'`` and ``trafo_loading='power'`` so that it
    solves the same model as power-grid-model, and ``init='results'`` after
    the first converged step.

    Parameters
    ----------
    net : pandapowerNet
        A normalized net; it is copied, never changed.
    tolerance_mva : float
        Largest power mismatch at convergence [MVA].
    """

    name = "pandapower"

    def __init__(self, net: pp.pandapowerNet, *, tolerance_mva: float = 1e-9) -> None:
        self.net = copy.deepcopy(net)
        self.sizes = table_sizes(net)
        self.tolerance_mva = tolerance_mva
        self._n_sgen = len(net.sgen)
        self._line_unrated = line_unrated(net)  # loading NaN: no real rating
        for bus in net.bus.index:  # injections from external components, one per bus
            pp.create_sgen(self.net, bus, p_mw=0.0, name="gridtwin bus injection")
        self.net.load["scaling"] = 1.0
        self.net.sgen["scaling"] = 1.0
        if len(self.net.storage):
            self.net.storage["scaling"] = 1.0
        self._init = "dc"
        self._topology_key: tuple | None = None
        self._numba = _numba_available()
        self._switches = SwitchMap.from_net(net)

    def solve(self, state: GridState) -> PowerFlowResult:
        """One power flow for ``state``; a failure gives a NaN result, never an exception."""
        net, inj = self.net, state.injections()
        net.load["p_mw"] = inj.load_p_mw
        net.load["q_mvar"] = inj.load_q_mvar
        net.load["in_service"] = True
        net.sgen["p_mw"] = np.concatenate([inj.sgen_p_mw, inj.bus_p_inj_mw])
        net.sgen["q_mvar"] = np.concatenate([inj.sgen_q_mvar, inj.bus_q_inj_mvar])
        net.sgen["in_service"] = True
        if len(net.storage):
            net.storage["p_mw"] = inj.storage_p_mw
            net.storage["q_mvar"] = inj.storage_q_mvar
        net.switch["closed"] = state.switch_closed
        net.line["in_service"] = state.line_in_service
        if len(net.trafo):
            net.trafo["in_service"] = state.trafo_in_service
            net.trafo["tap_pos"] = state.trafo_tap_pos
        key = state.topology_key()
        if key != self._topology_key:  # a new topology: start from a DC power flow
            self._init, self._topology_key = "dc", key
        inits = [self._init] if self._init == "dc" else [self._init, "dc"]
        for init in inits:
            try:
                self._runpp(init)
            except (pp.LoadflowNotConverged, np.linalg.LinAlgError, FloatingPointError):
                continue
            self._init = "results"
            return self._result()
        self._init = "dc"
        return PowerFlowResult.failed(self.sizes)

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
        """The scenarios of ``update`` one after the other (the reference has no batches).

        The convergence settings are power-grid-model's; this engine keeps its own
        (``tolerance_mva``), and ``threading`` is ignored.
        """
        n = update.n if update is not None else 1
        results = [
            self.solve(self._scenario(state, update, i) if update is not None else state)
            for i in range(n)
        ]
        converged = np.array([r.converged for r in results], dtype=bool)
        losses = np.array([r.losses_mw for r in results], dtype=float)
        line = np.stack([r.line_loading_percent for r in results]).reshape(n, -1)
        trafo = np.stack([r.trafo_loading_percent for r in results]).reshape(n, -1)
        if not branches:
            losses[:], line[:], trafo[:] = np.nan, np.nan, np.nan
        return BatchResult(
            converged=converged,
            bus_vm_pu=np.stack([r.bus_vm_pu for r in results]),
            bus_energized=np.stack([r.bus_energized for r in results]),
            line_loading_percent=line,
            trafo_loading_percent=trafo,
            losses_mw=losses,
        )

    def _scenario(self, state: GridState, update: BatchUpdate, i: int) -> GridState:
        """The base ``state`` with scenario ``i`` of ``update`` applied."""
        inj = state.injections()
        changes: dict[str, np.ndarray] = {}
        for name in ("load_p_mw", "load_q_mvar", "sgen_p_mw", "sgen_q_mvar"):
            given = getattr(update, name)
            if given is not None:
                changes[name] = np.asarray(given[i], dtype=float)
                changes[name.split("_", 1)[0] + "_scale"] = np.ones(len(changes[name]))
        if "sgen_p_mw" in changes or "sgen_q_mvar" in changes:  # effective values
            changes.setdefault("sgen_p_mw", inj.sgen_p_mw)
            changes.setdefault("sgen_q_mvar", inj.sgen_q_mvar)
            changes["sgen_p_limit_mw"] = np.full(len(inj.sgen_p_mw), np.inf)
            changes["sgen_q_set_mvar"] = np.full(len(inj.sgen_p_mw), np.nan)
        if "load_p_mw" in changes or "load_q_mvar" in changes:
            changes.setdefault("load_p_mw", inj.load_p_mw)
            changes.setdefault("load_q_mvar", inj.load_q_mvar)
        if update.bus_p_inj_mw is not None and update.bus_q_inj_mvar is not None:
            changes["bus_p_inj_mw"] = np.asarray(update.bus_p_inj_mw[i], dtype=float)
            changes["bus_q_inj_mvar"] = np.asarray(update.bus_q_inj_mvar[i], dtype=float)
        if update.trafo_tap_pos is not None:
            changes["trafo_tap_pos"] = np.asarray(update.trafo_tap_pos[i], dtype=np.int64)
        if update.line_pos is not None and update.line_connected is not None:
            closed = state.switch_closed.copy()
            in_service = state.line_in_service.copy()
            on = np.asarray(update.line_connected[i], dtype=bool)
            in_service[update.line_pos] = on
            sw = self._switches  # a connected line has its line switches closed
            for sw_pos, line_pos in (
                (sw.line_from_sw, sw.line_from_pos),
                (sw.line_to_sw, sw.line_to_pos),
            ):
                hit = np.isin(line_pos, update.line_pos[on])
                closed[sw_pos[hit]] = True
            changes["switch_closed"], changes["line_in_service"] = closed, in_service
        return dataclasses.replace(state, **changes)

    def _runpp(self, init: str) -> None:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            pp.runpp(
                self.net,
                algorithm="nr",
                calculate_voltage_angles=True,
                init=init,
                tolerance_mva=self.tolerance_mva,
                max_iteration=30,
                trafo_model="pi",
                trafo_loading="power",
                numba=self._numba,
            )

    def _result(self) -> PowerFlowResult:
        net = self.net
        vm = net.res_bus["vm_pu"].to_numpy(dtype=float)
        energized = ~np.isnan(vm)

        def res(table: str, col: str, n: int | None = None) -> np.ndarray:
            values = net[f"res_{table}"][col].to_numpy(dtype=float)
            values = values[:n] if n is not None else values
            return np.nan_to_num(values, nan=0.0)

        bus_of = {t: net.bus.index.get_indexer(net[t]["bus"]) for t in ("load", "storage")}
        on = {  # appliances deliver only where energized
            "load": energized[bus_of["load"]],
            "storage": energized[bus_of["storage"]] if len(net.storage) else np.zeros(0, bool),
            "sgen": energized[net.bus.index.get_indexer(net.sgen["bus"])][: self._n_sgen],
        }
        values: dict[str, Any] = {
            "converged": True,
            "bus_vm_pu": np.nan_to_num(vm, nan=0.0),
            "bus_energized": energized,
            "losses_mw": float(res("line", "pl_mw").sum() + res("trafo", "pl_mw").sum()),
        }
        for table, columns in ELEMENT_COLUMNS.items():  # every other field: res_<table>.<col>
            n = self._n_sgen if table == "sgen" else None
            for column, name in columns.items():
                if name in values:
                    continue
                if table == "storage" and not len(net.storage):
                    values[name] = np.zeros(0)
                elif table in on:
                    values[name] = res(table, column, n) * on[table]
                else:
                    values[name] = res(table, column)
        values["line_loading_percent"] = np.where(  # no real rating: n/a
            self._line_unrated, np.nan, values["line_loading_percent"]
        )
        return PowerFlowResult(**values)
