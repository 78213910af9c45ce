"""State-estimation KPIs: estimate against truth, bad data, timing (pure; no mosaik).

Bad-data figures count estimation steps: a step is *injected* when a
bad-data event corrupts a measurement the estimator received, *detected* when
its first estimate failed the chi-square test, *identified* when the removed
measurements include a corrupted one; a *false alarm* is a detected step
without any corrupted measurement. ``bad_data_not_identifiable`` counts the
steps flagged "bad data detected, not identifiable" (nothing removed), and
``good_measurements_removed`` the removed measurements that were not corrupted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridtwin.controllers.estimation.result import Estimate, Status
from gridtwin.grid.engine import PowerFlowResult
from gridtwin.measurements import MeasurementFrame

__all__ = ["SeKpis"]


@dataclass(slots=True)
class SeKpis:
    """Accumulates the ``se`` section of ``kpis.json``."""

    names: list[str]
    phase_starts_s: list[int] = field(default_factory=lambda: [0])
    phases: list[list[float]] = field(default_factory=list)  # [steps, vm sum, n, vm max, va sum]
    estimated: int = 0
    not_estimated: int = 0
    vm_abs_sum: float = 0.0
    va_abs_sum: float = 0.0
    n_bus_values: int = 0
    vm_max_abs: float = 0.0
    loading_abs_sum: float = 0.0
    n_line_values: int = 0
    injected: int = 0
    detected: int = 0
    identified: int = 0
    not_identifiable: int = 0
    good_removed: int = 0
    false_alarms: int = 0
    compute_ms: list[float] = field(default_factory=list)

    def add(self, truth: PowerFlowResult, frame: MeasurementFrame, est: Estimate) -> None:
        """Account one estimation step."""
        if not self.phases:
            self.phases = [[0, 0.0, 0, 0.0, 0.0] for _ in self.phase_starts_s]
        phase = self.phases[int(np.searchsorted(self.phase_starts_s, frame.time_s, "right")) - 1]
        self.compute_ms.append(est.compute_ms)
        if est.status != Status.ESTIMATED:
            self.not_estimated += 1
            return
        self.estimated += 1
        if truth.converged:
            live = truth.bus_energized
            dv = np.abs(est.bus_vm_pu[live] - truth.bus_vm_pu[live])
            da = np.abs(est.bus_va_degree[live] - truth.bus_va_degree[live])
            self.vm_abs_sum += float(dv.sum())
            self.va_abs_sum += float(da.sum())
            self.n_bus_values += int(live.sum())
            if dv.size:
                self.vm_max_abs = max(self.vm_max_abs, float(dv.max()))
                phase[0] += 1
                phase[1] += float(dv.sum())
                phase[2] += dv.size
                phase[3] = max(phase[3], float(dv.max()))
                phase[4] += float(da.sum())
            dl = np.abs(est.line_loading_percent - truth.line_loading_percent)
            dl = dl[np.isfinite(dl)]
            self.loading_abs_sum += float(dl.sum())
            self.n_line_values += dl.size
        bad = frame.corrupted & frame.valid
        self.not_identifiable += int(est.bad_data_not_identifiable)
        bad_names = {self.names[i] for i in np.flatnonzero(bad)}
        self.good_removed += len(set(est.removed) - bad_names)
        if bad.any():
            self.injected += 1
            self.detected += int(est.bad_data_detected)
            self.identified += int(bool(bad_names.intersection(est.removed)))
        elif est.bad_data_detected:
            self.false_alarms += 1

    def section(self) -> dict[str, Any]:
        """The ``se`` section."""
        ms = np.asarray(self.compute_ms)

        def mean(total: float, n: int) -> float | None:
            return total / n if n else None

        out: dict[str, object] = {
            "steps_estimated": self.estimated,
            "steps_not_estimated": self.not_estimated,
            "vm_mae_pu": mean(self.vm_abs_sum, self.n_bus_values),
            "vm_max_abs_err_pu": self.vm_max_abs if self.n_bus_values else None,
            "va_mae_degree": mean(self.va_abs_sum, self.n_bus_values),
            "line_loading_mae_percent": mean(self.loading_abs_sum, self.n_line_values),
            "bad_data_injected": self.injected,
            "bad_data_detected": self.detected,
            "bad_data_identified": self.identified,
            "bad_data_not_identifiable": self.not_identifiable,
            "good_measurements_removed": self.good_removed,
            "false_alarms": self.false_alarms,
            "ms_per_estimate_p50": float(np.percentile(ms, 50)) if ms.size else None,
            "ms_per_estimate_p95": float(np.percentile(ms, 95)) if ms.size else None,
        }
        if len(self.phase_starts_s) > 1:  # the plan changes during the run: one entry per phase
            out["phases"] = [
                {
                    "from_s": start,
                    "steps_estimated": int(p[0]),
                    "vm_mae_pu": mean(p[1], int(p[2])),
                    "vm_max_abs_err_pu": p[3] if p[2] else None,
                    "va_mae_degree": mean(p[4], int(p[2])),
                }
                for start, p in zip(self.phase_starts_s, self.phases, strict=True)
            ]
        return out
