"""SCADA and metering: what the control centre is told about the grid (pure; no mosaik).

This is physical-world instrumentation: it reads the grid's true state and
reports it the way telemetry does. Beside the sensors' measurement frames
(:mod:`gridtwin.simulators.sensors`), the control centre gets:

- status indications: switch and breaker positions, line availability, tap
  positions, fault passage indications (as the devices report them);
- metered element powers: load and generator active and reactive power of
  the step (smart meters, DER telemetry), with a relative accuracy; a meter
  on a de-energized bus has no reading (NaN);
- DER telemetry: the available active power of each unit;
- field-local readings: each DER unit's own terminal voltage, which only its
  inverter's local curve uses (not a control-centre signal).

Accuracy convention, as for the sensors: ``accuracy`` is the 3-sigma bound of
the relative error, so sigma = accuracy / 3.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gridtwin.grid.engine import PowerFlowResult

__all__ = ["Telemetry", "TelemetryModel", "hold_last"]


@dataclass(frozen=True, slots=True)
class Telemetry:
    """One step of telemetry (arrays ordered as the pandapower tables)."""

    switch_closed: np.ndarray
    line_in_service: np.ndarray
    trafo_tap_pos: np.ndarray
    fault_passed: np.ndarray
    load_p_mw: np.ndarray
    load_q_mvar: np.ndarray
    sgen_p_mw: np.ndarray
    sgen_q_mvar: np.ndarray
    sgen_available_p_mw: np.ndarray
    sgen_terminal_vm_pu: np.ndarray


@dataclass(slots=True)
class TelemetryModel:
    """Turns the true state into telemetry.

    Parameters
    ----------
    load_bus, sgen_bus : ndarray of int
        Bus position of each load and sgen.
    meter_accuracy : float
        3-sigma relative accuracy of the metered powers [-] (0.01 = 1 %).
    seed : int
        Seed of the meter noise.
    """

    load_bus: np.ndarray
    sgen_bus: np.ndarray
    meter_accuracy: float = 0.01
    seed: int = 0
    _rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng([self.seed, 0x5CADA])

    def _meter(self, true: np.ndarray, live: np.ndarray) -> np.ndarray:
        sigma = self.meter_accuracy / 3.0
        noise = self._rng.standard_normal(true.shape) * sigma if sigma > 0 else 0.0
        return np.where(live, true * (1.0 + noise), np.nan)

    def report(
        self,
        result: PowerFlowResult,
        *,
        switch_closed: np.ndarray,
        line_in_service: np.ndarray,
        trafo_tap_pos: np.ndarray,
        fault_passed: np.ndarray,
        sgen_available_p_mw: np.ndarray,
    ) -> Telemetry:
        """The telemetry of one step (a copy: later changes to the grid do not leak in)."""
        live_bus = result.bus_energized.astype(bool)
        live_load = (
            live_bus[self.load_bus] if result.converged else np.zeros(len(self.load_bus), bool)
        )
        live_sgen = (
            live_bus[self.sgen_bus] if result.converged else np.zeros(len(self.sgen_bus), bool)
        )
        vm = result.bus_vm_pu[self.sgen_bus]
        return Telemetry(
            switch_closed=np.array(switch_closed, dtype=bool),
            line_in_service=np.array(line_in_service, dtype=bool),
            trafo_tap_pos=np.array(trafo_tap_pos, dtype=np.int64),
            fault_passed=np.array(fault_passed, dtype=bool),
            load_p_mw=self._meter(result.load_p_mw, live_load),
            load_q_mvar=self._meter(result.load_q_mvar, live_load),
            sgen_p_mw=self._meter(result.sgen_p_mw, live_sgen),
            sgen_q_mvar=self._meter(result.sgen_q_mvar, live_sgen),
            sgen_available_p_mw=np.array(sgen_available_p_mw, dtype=float),
            sgen_terminal_vm_pu=np.where(np.isfinite(vm), vm, np.nan),
        )


def hold_last(previous: np.ndarray, reading: np.ndarray) -> np.ndarray:
    """Keep the last finite reading per element (what a control centre does with gaps)."""
    return np.where(np.isfinite(reading), reading, previous)
