"""Voltage-control KPIs from the true state (pure; no mosaik).

The band applies per bus by voltage level: medium voltage (1 kV to 35 kV) and
low voltage (below 1 kV); higher levels are not counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gridtwin.grid.engine import PowerFlowResult

__all__ = ["VoltageKpis", "band_per_bus"]


def band_per_bus(
    vn_kv: np.ndarray, mv: tuple[float, float], lv: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) voltage limit per bus [pu]; NaN above 35 kV (not controlled)."""
    lower = np.where(vn_kv < 1.0, lv[0], np.where(vn_kv <= 35.0, mv[0], np.nan))
    upper = np.where(vn_kv < 1.0, lv[1], np.where(vn_kv <= 35.0, mv[1], np.nan))
    return lower, upper


@dataclass(slots=True)
class VoltageKpis:
    """Accumulates the ``voltage`` section of ``kpis.json``."""

    step_s: int
    vm_min_band_pu: np.ndarray
    vm_max_band_pu: np.ndarray
    violation_bus_steps: int = 0
    vm_max_pu: float = -math.inf
    vm_min_pu: float = math.inf
    tap_changes: int = 0
    curtailed_mwh: float = 0.0
    available_mwh: float = 0.0
    q_abs_mvarh: float = 0.0
    losses_mwh: float = 0.0
    decision_ms: list[float] = field(default_factory=list)
    _last_tap: np.ndarray | None = field(default=None, repr=False)

    def add(self, r: PowerFlowResult, sgen_available_p_mw: np.ndarray, tap: np.ndarray) -> None:
        """Account one step of the true state."""
        hours = self.step_s / 3600.0
        if self._last_tap is not None:
            self.tap_changes += int(np.abs(tap - self._last_tap).sum())
        self._last_tap = np.asarray(tap).copy()
        if not r.converged:
            return
        banded = np.isfinite(self.vm_min_band_pu) & r.bus_energized
        vm = r.bus_vm_pu[banded]
        outside = (vm < self.vm_min_band_pu[banded] - 1e-9) | (
            vm > self.vm_max_band_pu[banded] + 1e-9
        )
        self.violation_bus_steps += int(outside.sum())
        if vm.size:
            self.vm_max_pu = max(self.vm_max_pu, float(vm.max()))
            self.vm_min_pu = min(self.vm_min_pu, float(vm.min()))
        available = float(np.sum(sgen_available_p_mw))
        self.available_mwh += available * hours
        self.curtailed_mwh += max(available - float(r.sgen_p_mw.sum()), 0.0) * hours
        self.q_abs_mvarh += float(np.abs(r.sgen_q_mvar).sum()) * hours
        self.losses_mwh += r.losses_mw * hours

    def section(self) -> dict[str, float | int | None]:
        """The ``voltage`` section."""

        def finite(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "violation_minutes": self.violation_bus_steps * self.step_s / 60.0,
            "violation_bus_steps": self.violation_bus_steps,
            "vm_max_pu": finite(self.vm_max_pu),
            "vm_min_pu": finite(self.vm_min_pu),
            "tap_changes": self.tap_changes,
            "curtailed_mwh": self.curtailed_mwh,
            "curtailed_share": self.curtailed_mwh / self.available_mwh
            if self.available_mwh
            else 0.0,
            "q_abs_mvarh": self.q_abs_mvarh,
            "losses_mwh": self.losses_mwh,
            **(
                {
                    "central_ms_p50": float(np.percentile(self.decision_ms, 50)),
                    "central_ms_p95": float(np.percentile(self.decision_ms, 95)),
                }
                if self.decision_ms
                else {}
            ),
        }
