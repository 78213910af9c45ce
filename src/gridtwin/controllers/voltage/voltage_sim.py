"""mosaik adapter of the voltage controllers.

One entity ``VoltageControl``. Inputs, all from the control-centre view (and,
for the inverters' local curves, their own terminal readings):
``estimate`` (or ``frame`` when no estimator runs), ``trafo_tap_pos``,
``switch_closed`` and ``line_in_service`` as reported, ``sgen_available_p_mw``
(DER telemetry), the metered ``load_p_mw``, ``load_q_mvar``, ``sgen_p_mw``,
``sgen_q_mvar`` (the operating point the centralized controller plans on),
``sgen_terminal_vm_pu`` (field) and ``switch_orders`` (the switchings the
control centre ordered this step: the centralized controller plans on the
topology of the next step). Outputs: ``commands`` (a list of
:class:`~gridtwin.grid.commands.Command`: what changed since the last one;
the whole set-point vector at every centralized decision) and ``setpoints``
(the step's :class:`VoltageCommands`, for the recorder).

The OLTC relay and the inverters' curves are field loops: their commands are
``local`` (no telecontrol latency, loss or ``comms_loss``); the centralized
controller's are telecontrol commands.
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
import numpy as np
from mosaik_api_v3.types import CreateResult, InputData, Meta, OutputData, OutputRequest

from gridtwin.controllers.voltage.controller import VoltageCommands, VoltageController
from gridtwin.grid.commands import Command, Target
from gridtwin.grid.state import GridState
from gridtwin.simulators.scada import hold_last

__all__ = ["VoltageControlSimulator"]

_INPUTS = [
    "estimate",
    "frame",
    "trafo_tap_pos",
    "sgen_available_p_mw",
    "switch_closed",
    "line_in_service",
    "load_p_mw",
    "load_q_mvar",
    "sgen_p_mw",
    "sgen_q_mvar",
    "sgen_terminal_vm_pu",
    "switch_orders",
]
META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "VoltageControl": {
            "public": True,
            "params": [],
            "attrs": [*_INPUTS, "commands", "setpoints"],
        }
    },
}


class VoltageControlSimulator(mosaik_api_v3.Simulator):
    """Runs a :class:`VoltageController` (in-process).

    Parameters: ``controller``, ``known`` (a GridState for the control
    centre's operating point), ``regulated_bus`` (OLTC busbar position or -1),
    ``regulated_scalar`` (measurement scalar of that voltage, or -1),
    ``feeder_lines`` and ``feeder_sign`` (for line-drop compensation),
    ``s_base_mva``, ``step_s``, ``name`` (the source of its commands).
    """

    def __init__(self) -> None:
        super().__init__(META)
        self.commands: VoltageCommands | None = None
        self.out: list[Command] = []
        self._sent: dict[Target, np.ndarray] = {}

    def init(self, sid: str, time_resolution: float = 1.0, **params: Any) -> Meta:
        self.controller: VoltageController = params["controller"]
        self.known: GridState = params["known"]
        self.regulated_bus = int(params["regulated_bus"])
        self.regulated_scalar = int(params["regulated_scalar"])
        self.feeder_lines = np.asarray(params.get("feeder_lines", []), dtype=np.int64)
        self.feeder_sign = np.asarray(params.get("feeder_sign", []), dtype=float)
        self.s_base_mva = float(params.get("s_base_mva", 1.0))
        self.step_s = int(params["step_s"])
        self.name = str(params.get("name", "voltage_control"))
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        return [{"eid": "voltage", "type": model}]

    def _update_known(self, one: Any) -> None:
        known = self.known
        for name in ("load_p_mw", "load_q_mvar", "sgen_p_mw", "sgen_q_mvar"):
            value = one(name)
            if value is not None:
                setattr(known, name, hold_last(getattr(known, name), np.asarray(value)))
        for name in ("switch_closed", "line_in_service", "trafo_tap_pos"):
            value = one(name)
            if value is not None:
                getattr(known, name)[:] = value

    def _inputs(self, one: Any) -> tuple[np.ndarray | None, float | None, float, float]:
        estimate, frame = one("estimate"), one("frame")
        vm_est = v_reg = None
        ldc_p = ldc_q = 0.0
        if estimate is not None and estimate.status == 0:
            vm_est = estimate.bus_vm_pu
            if self.regulated_bus >= 0:
                v_reg = float(vm_est[self.regulated_bus])
            if len(self.feeder_lines):
                ldc_p = float(estimate.line_p_from_mw[self.feeder_lines] @ self.feeder_sign)
                ldc_q = float(estimate.line_q_from_mvar[self.feeder_lines] @ self.feeder_sign)
        elif (
            frame is not None and self.regulated_scalar >= 0 and frame.valid[self.regulated_scalar]
        ):
            v_reg = float(frame.value[self.regulated_scalar])
        return vm_est, v_reg, ldc_p, ldc_q

    def step(self, time: int, inputs: InputData, max_advance: int) -> int:
        attrs = inputs.get("voltage", {})

        def one(name: str) -> Any:
            return next(iter(attrs[name].values())) if name in attrs else None

        self._update_known(one)
        vm_est, v_reg, ldc_p, ldc_q = self._inputs(one)
        next_topology = self._next_topology(one("switch_orders"))
        terminal = one("sgen_terminal_vm_pu")
        v_terminal = np.ones(len(self.known.sgen_p_mw)) if terminal is None else terminal
        v_terminal = np.where(np.isfinite(v_terminal), v_terminal, 1.0)
        self.commands = self.controller.step(
            time,
            tap_now=self.known.trafo_tap_pos.copy(),
            v_regulated_pu=v_reg,
            vm_estimate_pu=vm_est,
            vm_terminal_pu=v_terminal,
            known=self.known,
            sgen_available_mw=np.asarray(one("sgen_available_p_mw")),
            ldc_p_pu=ldc_p / self.s_base_mva,
            ldc_q_pu=ldc_q / self.s_base_mva,
            next_topology=next_topology,
        )
        self.out = self._to_commands(time, self.commands)
        return time + self.step_s

    def _next_topology(self, orders: Any) -> tuple[np.ndarray, np.ndarray] | None:
        """The topology at the next step where the control centre ordered switchings for it."""
        if not orders:
            return None
        sw, ln = self.known.switch_closed.copy(), self.known.line_in_service.copy()
        for c in orders:
            if c.target == Target.SWITCH_CLOSED:
                sw[c.positions] = c.values.astype(bool)
            elif c.target == Target.LINE_IN_SERVICE:
                ln[c.positions] = c.values.astype(bool)
        return sw, ln

    def _to_commands(self, time: int, c: VoltageCommands) -> list[Command]:
        """Commands for what changed since the last sent (everything at a central decision)."""
        ctl = self.controller
        refresh = c.central_ms is not None
        out: list[Command] = []
        wanted: list[tuple[Target, np.ndarray | None, bool]] = [
            (
                Target.TRAFO_TAP_POS,
                None if c.tap is None else c.tap[ctl.tap_trafos],
                ctl.oltc is not None,
            ),
            (Target.SGEN_Q_SET_MVAR, c.q_set_mvar, ctl.central is None),
            (Target.SGEN_P_LIMIT_MW, c.p_limit_mw, ctl.central is None),
        ]
        for target, values, local in wanted:
            if values is None or not len(values):
                continue
            values = np.asarray(values, dtype=float)
            last = self._sent.get(target)
            if last is None or refresh:
                pos = np.arange(len(values))
            else:
                same = (last == values) | (np.isnan(last) & np.isnan(values))
                pos = np.flatnonzero(~same)
            if target is Target.TRAFO_TAP_POS:
                if last is not None and not (last != values).any():
                    continue
                pos = np.arange(len(values))
                positions = ctl.tap_trafos
            else:
                positions = pos
            if len(pos):
                out.append(Command(self.name, time, target, positions, values[pos], local=local))
            self._sent[target] = values.copy()
        return out

    def get_data(self, outputs: OutputRequest) -> OutputData:
        return {"voltage": {"commands": self.out, "setpoints": self.commands}}


if __name__ == "__main__":  # a process of its own: gridtwin.remote.main, reached by name
    import importlib

    raise SystemExit(importlib.import_module("gridtwin.remote").main("VoltageControl"))
