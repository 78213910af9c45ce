"""Power flow with power-grid-model: one model built once, updated every step."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandapower as pp
from power_grid_model import CalculationMethod, ComponentType, PowerGridModel
from power_grid_model.errors import PowerGridError

from gridtwin.grid.engine import BatchResult, BatchUpdate, PowerFlowResult
from gridtwin.grid.pgm_adapter import PgmAdapter
from gridtwin.grid.state import GridState, Injections

__all__ = ["PgmEngine", "PgmEstimationModel"]

_OUTPUTS = [
    ComponentType.node,
    ComponentType.line,
    ComponentType.transformer,
    ComponentType.sym_load,
    ComponentType.sym_gen,
    ComponentType.source,
]


@dataclass(slots=True)
class _Ahead:
    """One power flow solved ahead: the inputs it assumed and its output row (None: failed)."""

    topology_key: tuple
    taps: np.ndarray
    injections: list[np.ndarray]
    output: dict | None


class PgmEngine:
    """Newton-Raphson power flow on a reused power-grid-model model.

    Topology (switches, outages) and taps are sent to the model only when they
    change; powers are sent every step.

    :meth:`solve_ahead` solves the power flows of coming steps in one
    power-grid-model batch when the caller can tell their inputs in advance
    (the open loop: profiles only); :meth:`solve` then returns such a result
    only if the state it is asked is exactly the one assumed (topology, taps
    and every injection bit for bit), and otherwise drops the rest and
    solves as usual. A batch scenario is the same Newton-Raphson on the same
    model, so the result is the one :meth:`solve` would compute.

    Parameters
    ----------
    net : pandapowerNet
        A normalized net. Voltage-controlled generators (``gen``) are not
        supported by this engine; use the pandapower engine for such nets.
    error_tolerance_pu : float
        Largest voltage change between iterations at convergence [pu].
    max_iterations : int
        Iterations before a step counts as not converged.
    """

    name = "power-grid-model"

    def __init__(
        self, net: pp.pandapowerNet, *, error_tolerance_pu: float = 1e-9, max_iterations: int = 30
    ) -> None:
        if "gen" in net and net.gen["in_service"].any():
            raise ValueError(
                "the network has voltage-controlled generators (gen); power-grid-model has no "
                "PV buses: use grid.engine: pandapower"
            )
        self.adapter = PgmAdapter(net)
        self.model = PowerGridModel(self.adapter.input_data)
        self.error_tolerance_pu = error_tolerance_pu
        self.max_iterations = max_iterations
        self._topology_key: tuple | None = None
        self._taps: np.ndarray | None = None
        self._powers: list[np.ndarray] | None = None  # injections last sent [MW, MVAr]
        outputs = [c for c in _OUTPUTS if c in self.adapter.input_data]
        if self.adapter.constant_power_only:  # appliance powers follow from energized nodes
            outputs = [
                c for c in outputs if c not in (ComponentType.sym_load, ComponentType.sym_gen)
            ]
        self._outputs = outputs
        self._ahead: deque[_Ahead] = deque()
        self.ahead_missed = False
        """Whether :meth:`solve` dropped results solved ahead (their inputs did not come)."""

    def _settings(self) -> dict[str, Any]:
        return {
            "symmetric": True,
            "error_tolerance": self.error_tolerance_pu,
            "max_iterations": self.max_iterations,
            "calculation_method": CalculationMethod.newton_raphson,
            "output_component_types": self._outputs,
        }

    @property
    def ahead_pending(self) -> int:
        """Results solved ahead and not yet asked for."""
        return len(self._ahead)

    def solve_ahead(self, state: GridState, injections: Sequence[Injections]) -> None:
        """Solve the next steps in one batch: ``state``'s topology and taps, each of ``injections``.

        The results wait, in order, for :meth:`solve` (see the class notes).
        """
        self._ahead.clear()
        self.ahead_missed = False
        if not injections:
            return
        self._apply(state)  # the batch's base: this state's topology and taps
        held = self.adapter.last_injections
        rows = []
        for inj in injections:
            update = self.adapter.power_update(inj)
            rows.append({c: a.copy() for c, a in update.items()})
        self.adapter.last_injections = held
        batch = {c: np.stack([r[c] for r in rows]) for c in rows[0]}
        try:
            out = self.model.calculate_power_flow(
                update_data=batch, continue_on_batch_error=True, threading=0, **self._settings()
            )
        except PowerGridError:
            return
        error = self.model.batch_error
        failed = set() if error is None else {int(i) for i in error.failed_scenarios}
        key, taps = state.topology_key(), state.trafo_tap_pos.copy()
        for i, inj in enumerate(injections):
            values = [np.array(getattr(inj, f.name)) for f in fields(inj)]
            row = None if i in failed else {c: out[c][i] for c in out}
            self._ahead.append(_Ahead(key, taps, values, row))

    def _solved_ahead(self, state: GridState) -> PowerFlowResult | None:
        """The next result solved ahead if it was solved for exactly ``state``, else None."""
        ahead = self._ahead.popleft()
        inj = state.injections()
        same = (
            ahead.topology_key == state.topology_key()
            and np.array_equal(ahead.taps, state.trafo_tap_pos)
            and all(
                np.array_equal(a, getattr(inj, f.name))
                for a, f in zip(ahead.injections, fields(inj), strict=True)
            )
        )
        if not same:
            self._ahead.clear()
            self.ahead_missed = True
            return None
        if ahead.output is None:  # failed in the batch: solve it alone, as without solving ahead
            return None
        held, self.adapter.last_injections = self.adapter.last_injections, inj
        result = self.adapter.result(ahead.output)  # constant-power results read inj
        self.adapter.last_injections = held  # what the model holds: the powers _apply sent
        return result

    def _apply(self, state: GridState) -> None:
        """Send ``state`` to the model: only what changed since the last call."""
        inj = state.injections()
        powers = [np.array(getattr(inj, f.name)) for f in fields(inj)]
        same_powers = self._powers is not None and all(
            np.array_equal(a, b) for a, b in zip(powers, self._powers, strict=True)
        )
        update = {} if same_powers else self.adapter.power_update(inj)
        self.adapter.last_injections = inj  # what the model holds (constant-power results)
        self._powers = powers
        key = state.topology_key()
        taps_changed = self._taps is None or not np.array_equal(self._taps, state.trafo_tap_pos)
        if key != self._topology_key or taps_changed:
            update.update(self.adapter.topology_update(state))
            self._topology_key = key
            self._taps = state.trafo_tap_pos.copy()
        if update:
            self.model.update(update_data=update)

    def solve(self, state: GridState) -> PowerFlowResult:
        """One power flow for ``state``; a failure gives a NaN result, never an exception."""
        if self._ahead:
            result = self._solved_ahead(state)
            if result is not None:
                return result
        self._apply(state)
        try:
            out = self.model.calculate_power_flow(**self._settings())
        except PowerGridError:
            return PowerFlowResult.failed(self.adapter.sizes)
        return self.adapter.result(out)

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
        """Newton-Raphson power flows of ``update``'s scenarios around ``state``, in one batch.

        ``state`` becomes the model's base (sent only where it changed); each
        scenario changes only what ``update`` gives. Without ``update``, one
        power flow of ``state``.

        Parameters
        ----------
        branches : bool
            Also compute line and transformer outputs (loadings, losses).
        error_tolerance_pu, max_iterations : float, int
            Newton-Raphson convergence settings [pu], [-].
        threading : int
            power-grid-model threads (0 = sequential, -1 = all cores).
        """
        ad = self.adapter
        self._apply(state)
        batch = ad.batch_update(state.injections(), update) if update is not None else None
        n = update.n if update is not None else 1
        converged = np.ones(n, dtype=bool)
        settings: dict[str, Any] = {
            "symmetric": True,
            "error_tolerance": error_tolerance_pu,
            "max_iterations": max_iterations,
            "calculation_method": CalculationMethod.newton_raphson,
            "output_component_types": ad.batch_outputs(branches),
            "threading": threading,
        }
        try:
            if batch is None:
                out = self.model.calculate_power_flow(**settings)
            else:
                out = self.model.calculate_power_flow(
                    update_data=batch, continue_on_batch_error=True, **settings
                )
        except PowerGridError:
            converged[:] = False
            return ad.batch_result(self._empty_output(n, branches), converged, branches)
        error = self.model.batch_error
        if batch is not None and error is not None:
            converged[np.asarray(error.failed_scenarios, dtype=np.int64)] = False
        return ad.batch_result(out, converged, branches)

    def _empty_output(self, n: int, branches: bool) -> dict:
        """A zero output of ``n`` scenarios (all rows are then masked as failed)."""
        from power_grid_model import DatasetType, initialize_array

        return {
            c: initialize_array(DatasetType.sym_output, c, (n, len(self.adapter.input_data[c])))
            for c in self.adapter.batch_outputs(branches)
        }


class PgmEstimationModel:
    """One power-grid-model state-estimation model, reused for every frame of a topology.

    The caller assembles the input (nodes, branches, sensors) with
    :class:`~gridtwin.grid.pgm_adapter.PgmAdapter`, which owns every unit
    conversion; this class owns the model and its calls.

    Parameters
    ----------
    input_data : dict
        A power-grid-model input dataset with voltage and power sensors.
    update : dict, optional
        A permanent update applied once (branch statuses, taps).
    """

    def __init__(self, input_data: dict, update: dict | None = None) -> None:
        self.model = PowerGridModel(input_data)
        if update:
            self.model.update(update_data=update)

    def update(self, update: dict) -> None:
        """A permanent update (new measured values and sigmas)."""
        self.model.update(update_data=update)

    def estimate(
        self,
        *,
        method: CalculationMethod,
        error_tolerance_pu: float,
        max_iterations: int,
        outputs: list[ComponentType],
        batch: dict | None = None,
    ) -> dict | None:
        """Weighted-least-squares state estimation; None when it fails.

        With ``batch`` (a power-grid-model batch update), one estimate per
        scenario; failed scenarios hold unusable values.
        """
        try:
            return self.model.calculate_state_estimation(
                update_data=batch,
                symmetric=True,
                error_tolerance=error_tolerance_pu,
                max_iterations=max_iterations,
                calculation_method=method,
                output_component_types=outputs,
                continue_on_batch_error=batch is not None,
            )
        except PowerGridError:
            return None
