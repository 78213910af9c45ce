"""mosaik adapter of the voltage controllers.

One entity ``VoltageControl``. Inputs: from the grid ``result`` (each unit's
terminal voltage, which its inverter measures itself, and the metered load
and generation), ``trafo_tap_pos``, ``sgen_available_p_mw``,
``switch_closed``, ``line_in_service``; from the estimator ``estimate``, or
from the sensors ``frame`` when no estimator runs. Outputs, connected to the
grid one step later: ``trafo_tap_pos``, ``sgen_q_set_mvar``,
``sgen_p_limit_mw``; and ``commands`` (for the recorder).
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
import numpy as np

from gridtwin.controllers.voltage.controller import VoltageCommands, VoltageController
from gridtwin.grid.state import GridState

__all__ = ["VoltageControlSimulator"]

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "VoltageControl": {
            "public": True,
            "params": [],
            "attrs": [
                "result",
                "estimate",
                "frame",
                "trafo_tap_pos",
                "sgen_available_p_mw",
                "switch_closed",
                "line_in_service",
                "sgen_q_set_mvar",
                "sgen_p_limit_mw",
                "commands",
            ],
        }
    },
}


class VoltageControlSimulator(mosaik_api_v3.Simulator):
    """Runs a :class:`VoltageController` (in-process).

    Parameters: ``controller``, ``known`` (a GridState for the control
    centre's operating point), ``sgen_bus`` (bus position per sgen),
    ``regulated_bus`` (OLTC busbar position or -1), ``regulated_scalar``
    (measurement scalar of that voltage, or -1), ``feeder_lines`` and
    ``feeder_sign`` (for line-drop compensation), ``s_base_mva``, ``step_s``.
    """

    def __init__(self) -> None:
        super().__init__(META)
        self.commands: VoltageCommands | None = None

    def init(self, sid: str, time_resolution: float = 1.0, **params: Any) -> dict:
        self.controller: VoltageController = params["controller"]
        self.known: GridState = params["known"]
        self.sgen_bus = np.asarray(params["sgen_bus"], dtype=np.int64)
        self.regulated_bus = int(params["regulated_bus"])
        self.regulated_scalar = int(params["regulated_scalar"])
        self.feeder_lines = np.asarray(params.get("feeder_lines", []), dtype=np.int64)
        self.feeder_sign = np.asarray(params.get("feeder_sign", []), dtype=float)
        self.s_base_mva = float(params.get("s_base_mva", 1.0))
        self.step_s = int(params["step_s"])
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[dict]:
        return [{"eid": "voltage", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int) -> int:
        attrs = inputs.get("voltage", {})

        def one(name: str) -> Any:
            return next(iter(attrs[name].values())) if name in attrs else None

        result = one("result")
        estimate = one("estimate")
        frame = one("frame")
        tap_now = np.asarray(one("trafo_tap_pos"))
        known = self.known
        if result is not None and result.converged:
            known.load_p_mw[:], known.load_q_mvar[:] = result.load_p_mw, result.load_q_mvar
            known.sgen_p_mw[:], known.sgen_q_mvar[:] = result.sgen_p_mw, result.sgen_q_mvar
        for name in ("switch_closed", "line_in_service"):
            value = one(name)
            if value is not None:
                getattr(known, name)[:] = value
        known.trafo_tap_pos[:] = tap_now
        vm_est = None
        v_reg = None
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
        if result is not None and result.converged:
            v_terminal = result.bus_vm_pu[self.sgen_bus]
        else:
            v_terminal = np.ones(len(self.sgen_bus))
        self.commands = self.controller.step(
            time,
            tap_now=tap_now,
            v_regulated_pu=v_reg,
            vm_estimate_pu=vm_est,
            vm_terminal_pu=v_terminal,
            known=known,
            sgen_available_mw=np.asarray(one("sgen_available_p_mw")),
            ldc_p_pu=ldc_p / self.s_base_mva,
            ldc_q_pu=ldc_q / self.s_base_mva,
        )
        return time + self.step_s

    def get_data(self, outputs: dict) -> dict:
        c = self.commands
        assert c is not None
        data: dict[str, Any] = {}
        for attr in outputs.get("voltage", []):
            if attr == "trafo_tap_pos":
                data[attr] = c.tap
            elif attr == "sgen_q_set_mvar":
                data[attr] = c.q_set_mvar
            elif attr == "sgen_p_limit_mw":
                data[attr] = c.p_limit_mw
            elif attr == "commands":
                data[attr] = c
        return {"voltage": data}
