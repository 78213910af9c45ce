"""mosaik adapter of the state estimator: measurement frames and switch states in, estimates out.

One entity ``Estimator``: inputs ``frame`` (from the sensors) and the status
indications ``switch_closed``, ``line_in_service``, ``trafo_in_service``,
``trafo_tap_pos`` (what SCADA reports about the topology); output
``estimate`` (a :class:`~gridtwin.controllers.estimation.result.Estimate`).
The estimator never receives the true state.
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
import numpy as np
from mosaik_api_v3.types import CreateResult, InputData, Meta, OutputData, OutputRequest

from gridtwin.controllers.estimation.result import Estimate
from gridtwin.controllers.estimation.wls import Topology

__all__ = ["EstimatorSimulator"]

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "Estimator": {
            "public": True,
            "params": [],
            "attrs": ["frame", "switch_closed", "line_in_service", "trafo_tap_pos", "estimate"],
        }
    },
}


class EstimatorSimulator(mosaik_api_v3.Simulator):
    """Runs an estimator (in-process). Parameters: ``estimator``, ``topology``, ``step_s``."""

    def __init__(self) -> None:
        super().__init__(META)
        self.estimate: Estimate | None = None

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        self.estimator = sim_params["estimator"]
        self.topology: Topology = sim_params["topology"]
        self.step_s = int(sim_params["step_s"])
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        return [{"eid": "estimator", "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int:
        attrs = inputs.get("estimator", {})
        for name in ("switch_closed", "line_in_service", "trafo_tap_pos"):
            if name in attrs:
                value = np.asarray(next(iter(attrs[name].values())))
                setattr(self.topology, name, value.copy())
        frame = next(iter(attrs["frame"].values()))
        self.estimate = self.estimator.estimate(frame, self.topology)
        return time + self.step_s

    def get_data(self, outputs: OutputRequest) -> OutputData:
        return {"estimator": {"estimate": self.estimate}}


if __name__ == "__main__":  # a process of its own: gridtwin.remote.main, reached by name
    import importlib

    raise SystemExit(importlib.import_module("gridtwin.remote").main("Estimator"))
