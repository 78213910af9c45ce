"""mosaik simulator of the sensors: true grid state in, measurement frames out.

One entity ``Sensors``: inputs ``result`` (the grid's
:class:`~gridtwin.grid.engine.PowerFlowResult`), ``events`` (bad-data
events) and, with a forecaster, ``pseudo`` (its per-element forecast of the
step, which the pseudo-measurements then report), ``commands`` (the voltage
controller's set-points of the last step, which the pseudo-measurements of a
commanded DER unit follow); output ``frame`` (a
:class:`~gridtwin.measurements.MeasurementFrame`).
The physics lives in :mod:`gridtwin.simulators.sensors`; this adapter only
moves data.
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
from mosaik_api_v3.types import CreateResult, InputData, Meta, OutputData, OutputRequest

from gridtwin.events import SENSOR_MODES
from gridtwin.measurements import MeasurementFrame
from gridtwin.simulators.sensors import SensorModel

__all__ = ["SensorSimulator"]

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "Sensors": {
            "public": True,
            "params": [],
            "attrs": ["result", "events", "pseudo", "commands", "frame"],
        }
    },
}


class SensorSimulator(mosaik_api_v3.Simulator):
    """Runs a :class:`SensorModel` (in-process). Parameters: ``model``, ``step_s``."""

    def __init__(self) -> None:
        super().__init__(META)
        self.model: SensorModel | None = None
        self.frame: MeasurementFrame | None = None

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        self.model = sim_params["model"]
        self.replay = sim_params.get("replay")  # a MeasurementReplay (measurements_file)
        self.step_s = int(sim_params["step_s"])
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        return [{"eid": "sensors", "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int:
        model = self.model
        assert model is not None
        attrs = inputs.get("sensors", {})
        for at_s, events in attrs.get("events", {}).values():
            if at_s != time:
                continue
            for event in events:
                if event.domain != "sensors":
                    continue
                for scalar in event.positions:
                    if event.type == "bad_data_clear":
                        model.clear(scalar)
                    else:
                        params = dict(event.params)
                        k_sigma = params.get("k_sigma", 20.0)
                        model.inject(scalar, SENSOR_MODES[event.type], k_sigma)
        result = next(iter(attrs["result"].values()))
        pseudo = attrs.get("pseudo")
        forecast = next(iter(pseudo.values())) if pseudo else None
        commands = attrs.get("commands")  # the control centre's own set-points of last step
        commanded = next(iter(commands.values())) if commands else None
        self.frame = model.measure(time, result, forecast, commanded)
        if self.replay is not None:
            self.frame = self.replay.apply(self.frame)
        return time + self.step_s

    def get_data(self, outputs: OutputRequest) -> OutputData:
        return {"sensors": {"frame": self.frame}}


if __name__ == "__main__":  # a process of its own: gridtwin.remote.main, reached by name
    import importlib

    raise SystemExit(importlib.import_module("gridtwin.remote").main("Sensors"))
