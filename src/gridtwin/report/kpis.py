"""Run KPIs, accumulated step by step (pure; no mosaik).

Energies are power [MW] times step length [h] summed over converged steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gridtwin.grid.engine import PowerFlowResult

__all__ = ["GridKpis"]


@dataclass(slots=True)
class GridKpis:
    """Accumulates the ``run`` and ``grid`` sections of ``kpis.json``."""

    step_s: int
    steps: int = 0
    nonconverged: int = 0
    vm_min_pu: float = math.inf
    vm_max_pu: float = -math.inf
    line_loading_max_percent: float = -math.inf
    trafo_loading_max_percent: float = -math.inf
    losses_mwh: float = 0.0
    consumed_mwh: float = 0.0
    generated_mwh: float = 0.0
    imported_mwh: float = 0.0
    not_supplied_mwh: float = 0.0
    deenergized_bus_steps: int = 0

    def add(self, result: PowerFlowResult, load_demand_p_mw: np.ndarray) -> None:
        """Account one step."""
        self.steps += 1
        if not result.converged:
            self.nonconverged += 1
            return
        hours = self.step_s / 3600.0
        live = result.bus_energized
        if live.any():
            vm = result.bus_vm_pu[live]
            self.vm_min_pu = min(self.vm_min_pu, float(vm.min()))
            self.vm_max_pu = max(self.vm_max_pu, float(vm.max()))
        self.deenergized_bus_steps += int(live.size - live.sum())
        if np.isfinite(result.line_loading_percent).any():  # NaN: lines without a rating
            self.line_loading_max_percent = max(
                self.line_loading_max_percent, float(np.nanmax(result.line_loading_percent))
            )
        if result.trafo_loading_percent.size:
            self.trafo_loading_max_percent = max(
                self.trafo_loading_max_percent, float(result.trafo_loading_percent.max())
            )
        served = float(result.load_p_mw.sum())
        self.losses_mwh += result.losses_mw * hours
        self.consumed_mwh += served * hours
        self.generated_mwh += float(result.sgen_p_mw.sum()) * hours
        self.imported_mwh += float(result.ext_grid_p_mw.sum()) * hours
        self.not_supplied_mwh += max(float(load_demand_p_mw.sum()) - served, 0.0) * hours

    def sections(self, *, wall_s: float, sim_seconds: int) -> dict[str, dict[str, Any]]:
        """The ``run`` and ``grid`` sections; extremes are None if no step converged."""

        def finite(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "run": {
                "steps": self.steps,
                "wall_s": round(wall_s, 3),
                "sim_seconds": sim_seconds,
                "step_s": self.step_s,
            },
            "grid": {
                "pf_nonconverged_steps": self.nonconverged,
                "vm_min_pu": finite(self.vm_min_pu),
                "vm_max_pu": finite(self.vm_max_pu),
                "line_loading_max_percent": finite(self.line_loading_max_percent),
                "trafo_loading_max_percent": finite(self.trafo_loading_max_percent),
                "losses_mwh": self.losses_mwh,
                "energy_consumed_mwh": self.consumed_mwh,
                "energy_generated_mwh": self.generated_mwh,
                "energy_imported_mwh": self.imported_mwh,
                "energy_not_supplied_mwh": self.not_supplied_mwh,
                "deenergized_bus_steps": self.deenergized_bus_steps,
            },
        }
