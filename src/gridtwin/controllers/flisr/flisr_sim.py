"""mosaik adapter of FLISR: indications in, switch commands out.

One entity ``Flisr``. Inputs, from the control-centre view:
``switch_closed``, ``line_in_service`` (status indications), ``fault_passed``
(the fault passage indicators at the switches), the metered ``load_p_mw``,
``load_q_mvar``, ``sgen_p_mw``, ``sgen_q_mvar`` (for its restoration power
flows; a meter without reading keeps its last value), ``reports``
(``repair`` reports from the crews). Output: ``commands`` (switch commands,
through the command channel). The operations due by the next step go out
together.
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
import numpy as np
from mosaik_api_v3.types import CreateResult, InputData, Meta, OutputData, OutputRequest

from gridtwin.controllers.flisr.algorithm import Flisr
from gridtwin.grid.commands import Command, Target

__all__ = ["FlisrSimulator"]

_METERED = ("load_p_mw", "load_q_mvar", "sgen_p_mw", "sgen_q_mvar")

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "Flisr": {
            "public": True,
            "params": [],
            "attrs": [
                "switch_closed",
                "line_in_service",
                "fault_passed",
                "load_p_mw",
                "load_q_mvar",
                "sgen_p_mw",
                "sgen_q_mvar",
                "reports",
                "commands",
            ],
        }
    },
}


class FlisrSimulator(mosaik_api_v3.Simulator):
    """Runs a :class:`Flisr` (in-process). Parameters: ``flisr``, ``step_s``, ``meter``.

    ``meter(load_p_mw, load_q_mvar, sgen_p_mw, sgen_q_mvar)`` is called each
    step with the metered powers before the controller observes (it keeps the
    last readings its feasibility check uses).
    """

    def __init__(self) -> None:
        super().__init__(META)
        self.flisr: Flisr | None = None
        self.commands: list[Command] = []
        self.meter: Any = None

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        self.flisr = sim_params["flisr"]
        self.step_s = int(sim_params["step_s"])
        self.meter = sim_params.get("meter")
        self.name = str(sim_params.get("name", "flisr"))
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        return [{"eid": "flisr", "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int:
        flisr = self.flisr
        assert flisr is not None
        attrs = inputs.get("flisr", {})

        def one(name: str) -> Any:
            return next(iter(attrs[name].values()))

        repaired = tuple(
            int(p)
            for at_s, events in attrs.get("reports", {}).values()
            if at_s == time
            for event in events
            if event.type == "repair"
            for p in event.positions
        )
        if self.meter is not None:
            self.meter(*(np.asarray(one(n), dtype=float) for n in _METERED))
        flisr.observe(
            time,
            np.asarray(one("switch_closed"), dtype=bool),
            np.asarray(one("line_in_service"), dtype=bool),
            np.asarray(one("fault_passed"), dtype=bool),
            repaired,
        )
        ops = flisr.due(time + self.step_s)
        if ops:
            last = {op.switch: op.close for op in ops}
            pos = np.array(sorted(last), dtype=np.int64)
            values = np.array([last[p] for p in pos], dtype=float)
            self.commands = [Command(self.name, time, Target.SWITCH_CLOSED, pos, values)]
        else:
            self.commands = []
        return time + self.step_s

    def get_data(self, outputs: OutputRequest) -> OutputData:
        return {"flisr": {"commands": self.commands}}


if __name__ == "__main__":  # a process of its own: gridtwin.remote.main, reached by name
    import importlib

    raise SystemExit(importlib.import_module("gridtwin.remote").main("Flisr"))
