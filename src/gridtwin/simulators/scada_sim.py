"""mosaik adapter of SCADA and metering (:mod:`gridtwin.simulators.scada`).

One entity ``Scada``. Inputs from the grid (truth): ``result``,
``switch_closed``, ``line_in_service``, ``trafo_tap_pos``, ``fault_passed``,
``sgen_available_p_mw``. Outputs (the control-centre view):
``telemetry`` (a :class:`~gridtwin.simulators.scada.Telemetry`) and its
fields one by one as ``reported_switch_closed``, ``reported_line_in_service``,
``reported_trafo_tap_pos``, ``fault_indication``, ``metered_load_p_mw``,
``metered_load_q_mvar``, ``metered_sgen_p_mw``, ``metered_sgen_q_mvar``,
``der_available_p_mw``; and the field-local ``sgen_terminal_vm_pu``.
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
from mosaik_api_v3.types import CreateResult, InputData, Meta, OutputData, OutputRequest

from gridtwin.simulators.scada import Telemetry, TelemetryModel

__all__ = ["OUTPUTS", "ScadaSimulator"]

OUTPUTS = {
    "reported_switch_closed": "switch_closed",
    "reported_line_in_service": "line_in_service",
    "reported_trafo_tap_pos": "trafo_tap_pos",
    "fault_indication": "fault_passed",
    "metered_load_p_mw": "load_p_mw",
    "metered_load_q_mvar": "load_q_mvar",
    "metered_sgen_p_mw": "sgen_p_mw",
    "metered_sgen_q_mvar": "sgen_q_mvar",
    "der_available_p_mw": "sgen_available_p_mw",
    "sgen_terminal_vm_pu": "sgen_terminal_vm_pu",
}
"""Output attribute -> :class:`Telemetry` field."""

_INPUTS = [
    "result",
    "switch_closed",
    "line_in_service",
    "trafo_tap_pos",
    "fault_passed",
    "sgen_available_p_mw",
]

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {"Scada": {"public": True, "params": [], "attrs": [*_INPUTS, "telemetry", *OUTPUTS]}},
}


class ScadaSimulator(mosaik_api_v3.Simulator):
    """Runs a :class:`TelemetryModel` (in-process). Parameters: ``model``, ``step_s``."""

    def __init__(self) -> None:
        super().__init__(META)
        self.telemetry: Telemetry | None = None

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        self.model: TelemetryModel = sim_params["model"]
        self.step_s = int(sim_params["step_s"])
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        return [{"eid": "scada", "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int:
        attrs = inputs["scada"]

        def one(name: str) -> Any:
            return next(iter(attrs[name].values()))

        self.telemetry = self.model.report(
            one("result"),
            switch_closed=one("switch_closed"),
            line_in_service=one("line_in_service"),
            trafo_tap_pos=one("trafo_tap_pos"),
            fault_passed=one("fault_passed"),
            sgen_available_p_mw=one("sgen_available_p_mw"),
        )
        return time + self.step_s

    def get_data(self, outputs: OutputRequest) -> OutputData:
        t = self.telemetry
        values: dict[str, Any] = {}
        for attr in outputs.get("scada", []):
            values[attr] = t if attr == "telemetry" else getattr(t, OUTPUTS[attr])
        return {"scada": values}


if __name__ == "__main__":  # a process of its own: gridtwin.remote.main, reached by name
    import importlib

    raise SystemExit(importlib.import_module("gridtwin.remote").main("Scada"))
