"""mosaik adapter of the reconfiguration controller: status and meters in, switch commands out.

One entity ``Reconfig``. Inputs, from the control-centre view: the metered
``load_p_mw``, ``load_q_mvar``, ``sgen_p_mw``, ``sgen_q_mvar`` (a meter without
reading keeps its last value), ``switch_closed`` and ``line_in_service``
(status indications), ``reports`` (``reconfigure`` operator requests).
Outputs: ``commands`` (switch commands, through the command channel) and
``plans`` (the step's
:class:`~gridtwin.controllers.reconfig.controller.PlanRecord` list, for the
recorder). The controller never receives voltages, currents or losses.
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
import numpy as np
from mosaik_api_v3.types import CreateResult, InputData, Meta, OutputData, OutputRequest

from gridtwin.controllers.reconfig.controller import Controller, Observation, PlanRecord
from gridtwin.grid.commands import Command, from_switch_command
from gridtwin.simulators.scada import hold_last

__all__ = ["ReconfigSimulator"]

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "Reconfig": {
            "public": True,
            "params": [],
            "attrs": [
                "load_p_mw",
                "load_q_mvar",
                "sgen_p_mw",
                "sgen_q_mvar",
                "switch_closed",
                "line_in_service",
                "reports",
                "commands",
                "plans",
            ],
        }
    },
}


class ReconfigSimulator(mosaik_api_v3.Simulator):
    """Runs a :class:`Controller` (in-process). Parameters: ``controller``, ``step_s``."""

    def __init__(self) -> None:
        super().__init__(META)
        self.controller: Controller | None = None
        self.commands: list[Command] = []
        self._metered: dict[str, np.ndarray] = {}
        self.plans: list[PlanRecord] = []

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        self.controller = sim_params["controller"]
        self.step_s = int(sim_params["step_s"])
        self.name = str(sim_params.get("name", "reconfiguration"))
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        return [{"eid": "reconfig", "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int:
        assert self.controller is not None
        attrs = inputs.get("reconfig", {})

        def one(name: str) -> Any:
            return next(iter(attrs[name].values()))

        on_demand = any(
            event.domain == "controller"
            for at_s, events in attrs.get("reports", {}).values()
            if at_s == time
            for event in events
        )
        for name in ("load_p_mw", "load_q_mvar", "sgen_p_mw", "sgen_q_mvar"):
            reading = np.asarray(one(name), dtype=float)
            self._metered[name] = hold_last(
                self._metered.get(name, np.zeros_like(reading)), reading
            )
        obs = Observation(
            time_s=time,
            switch_closed=np.asarray(one("switch_closed"), dtype=bool),
            line_in_service=np.asarray(one("line_in_service"), dtype=bool),
            **{name: value.copy() for name, value in self._metered.items()},
        )
        order, self.plans = self.controller.step(obs, on_demand=on_demand)
        self.commands = from_switch_command(self.name, time, order)
        return time + self.step_s

    def get_data(self, outputs: OutputRequest) -> OutputData:
        return {"reconfig": {"commands": self.commands, "plans": self.plans}}


if __name__ == "__main__":  # a process of its own: gridtwin.remote.main, reached by name
    import importlib

    raise SystemExit(importlib.import_module("gridtwin.remote").main("Reconfig"))
