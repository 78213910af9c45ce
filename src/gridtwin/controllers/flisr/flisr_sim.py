"""mosaik adapter of FLISR: indications in, switch commands out.

One entity ``Flisr``. Inputs: ``switch_closed``, ``line_in_service`` (status
indications), ``fault_passed`` (the fault passage indicators at the
switches), ``result`` (of which it reads only the metered load and sgen
powers, for its restoration power flows), ``events`` (``repair`` reports
from the crews). Output: ``switch_command`` (a
:class:`~gridtwin.grid.state.SwitchCommand` for the next step, or None; the
world connects it ``time_shifted``). The operations due by the next step go
out together.
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
import numpy as np

from gridtwin.controllers.flisr.algorithm import Flisr
from gridtwin.grid.state import SwitchCommand

__all__ = ["FlisrSimulator"]

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
                "result",
                "events",
                "switch_command",
            ],
        }
    },
}


class FlisrSimulator(mosaik_api_v3.Simulator):
    """Runs a :class:`Flisr` (in-process). Parameters: ``flisr``, ``step_s``, ``meter``.

    ``meter(result)`` is called each step with the grid result before the
    controller observes (it keeps the metered powers its feasibility check uses).
    """

    def __init__(self) -> None:
        super().__init__(META)
        self.flisr: Flisr | None = None
        self.command: SwitchCommand | None = None
        self.meter: Any = None

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> dict:
        self.flisr = sim_params["flisr"]
        self.step_s = int(sim_params["step_s"])
        self.meter = sim_params.get("meter")
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[dict]:
        return [{"eid": "flisr", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int) -> int:
        flisr = self.flisr
        assert flisr is not None
        attrs = inputs.get("flisr", {})

        def one(name: str) -> Any:
            return next(iter(attrs[name].values()))

        repaired = tuple(
            int(p)
            for at_s, events in attrs.get("events", {}).values()
            if at_s == time
            for event in events
            if event.type == "repair"
            for p in event.positions
        )
        if self.meter is not None:
            self.meter(one("result"))
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
            self.command = SwitchCommand(
                time + self.step_s,
                pos,
                np.array([last[p] for p in pos], dtype=bool),
                np.zeros(0, dtype=np.int64),
                np.zeros(0, dtype=bool),
            )
        else:
            self.command = None
        return time + self.step_s

    def get_data(self, outputs: dict) -> dict:
        return {"flisr": {"switch_command": self.command}}
