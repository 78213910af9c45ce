"""mosaik adapter of the reconfiguration controller: status and meters in, switch commands out.

One entity ``Reconfig``. Inputs: ``result`` (the grid's
:class:`~gridtwin.grid.engine.PowerFlowResult`, of which it reads only the
metered load and generator powers), ``switch_closed`` and ``line_in_service``
(status indications), ``events`` (``reconfigure`` events, domain
``controller``). Outputs: ``switch_command`` (a
:class:`~gridtwin.grid.state.SwitchCommand` for the next step, or None; the
world connects it to the grid ``time_shifted``, so the grid applies it one
step later, and the grid applies it only at its ``at_s``, however often mosaik
hands it over) and ``plans`` (the step's
:class:`~gridtwin.controllers.reconfig.controller.PlanRecord` list, for the
recorder). The controller never receives voltages, currents or losses.
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
import numpy as np

from gridtwin.controllers.reconfig.controller import Controller, Observation, PlanRecord
from gridtwin.grid.state import SwitchCommand

__all__ = ["ReconfigSimulator"]

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "Reconfig": {
            "public": True,
            "params": [],
            "attrs": [
                "result",
                "switch_closed",
                "line_in_service",
                "events",
                "switch_command",
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
        self.command: SwitchCommand | None = None
        self.plans: list[PlanRecord] = []

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> dict:
        self.controller = sim_params["controller"]
        self.step_s = int(sim_params["step_s"])
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[dict]:
        return [{"eid": "reconfig", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int) -> int:
        assert self.controller is not None
        attrs = inputs.get("reconfig", {})

        def one(name: str) -> Any:
            return next(iter(attrs[name].values()))

        on_demand = any(
            event.domain == "controller"
            for at_s, events in attrs.get("events", {}).values()
            if at_s == time
            for event in events
        )
        result = one("result")
        obs = Observation(
            time_s=time,
            switch_closed=np.asarray(one("switch_closed"), dtype=bool),
            line_in_service=np.asarray(one("line_in_service"), dtype=bool),
            load_p_mw=result.load_p_mw,
            load_q_mvar=result.load_q_mvar,
            sgen_p_mw=result.sgen_p_mw,
            sgen_q_mvar=result.sgen_q_mvar,
        )
        self.command, self.plans = self.controller.step(obs, on_demand=on_demand)
        return time + self.step_s

    def get_data(self, outputs: dict) -> dict:
        return {"reconfig": {"switch_command": self.command, "plans": self.plans}}
