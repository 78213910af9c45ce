"""Power flow with pandapower: the reference engine."""

from __future__ import annotations

import contextlib
import copy
import io
import warnings

import numpy as np
import pandapower as pp

from gridtwin.grid.engine import PowerFlowResult, line_unrated, table_sizes
from gridtwin.grid.state import GridState

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
        load_on = energized[bus_of["load"]]
        storage_on = energized[bus_of["storage"]] if len(net.storage) else np.zeros(0, bool)
        sgen_on = energized[net.bus.index.get_indexer(net.sgen["bus"])][: self._n_sgen]
        return PowerFlowResult(
            converged=True,
            bus_vm_pu=np.nan_to_num(vm, nan=0.0),
            bus_va_degree=res("bus", "va_degree"),
            bus_p_mw=res("bus", "p_mw"),
            bus_q_mvar=res("bus", "q_mvar"),
            bus_energized=energized,
            line_p_from_mw=res("line", "p_from_mw"),
            line_q_from_mvar=res("line", "q_from_mvar"),
            line_p_to_mw=res("line", "p_to_mw"),
            line_q_to_mvar=res("line", "q_to_mvar"),
            line_i_from_ka=res("line", "i_from_ka"),
            line_i_to_ka=res("line", "i_to_ka"),
            line_loading_percent=np.where(
                self._line_unrated, np.nan, res("line", "loading_percent")
            ),
            trafo_p_hv_mw=res("trafo", "p_hv_mw"),
            trafo_q_hv_mvar=res("trafo", "q_hv_mvar"),
            trafo_p_lv_mw=res("trafo", "p_lv_mw"),
            trafo_q_lv_mvar=res("trafo", "q_lv_mvar"),
            trafo_loading_percent=res("trafo", "loading_percent"),
            load_p_mw=res("load", "p_mw") * load_on,
            load_q_mvar=res("load", "q_mvar") * load_on,
            sgen_p_mw=res("sgen", "p_mw", self._n_sgen) * sgen_on,
            sgen_q_mvar=res("sgen", "q_mvar", self._n_sgen) * sgen_on,
            storage_p_mw=res("storage", "p_mw") * storage_on if len(net.storage) else np.zeros(0),
            ext_grid_p_mw=res("ext_grid", "p_mw"),
            ext_grid_q_mvar=res("ext_grid", "q_mvar"),
            losses_mw=float(res("line", "pl_mw").sum() + res("trafo", "pl_mw").sum()),
        )
