"""mosaik adapter of the forecaster: metered element powers in, forecasts out.

One entity ``Forecaster``: inputs ``metered_load_p_mw`` and
``metered_sgen_p_mw`` (what smart meters and SCADA deliver; a meter without
reading, on a de-energized bus, counts as 0 MW served); outputs
``forecast`` (a :class:`~gridtwin.controllers.forecasting.forecaster.ForecastStep`)
and ``pseudo`` (a :class:`~gridtwin.controllers.forecasting.forecaster.PseudoForecast`
for the sensors' pseudo-measurements, or None). The forecaster itself is in
:mod:`gridtwin.controllers.forecasting.forecaster`.
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
import numpy as np
from mosaik_api_v3.types import CreateResult, InputData, Meta, OutputData, OutputRequest

from gridtwin.controllers.forecasting.forecaster import Forecaster, ForecastStep

__all__ = ["ForecastSimulator"]

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "Forecaster": {
            "public": True,
            "params": [],
            "attrs": ["metered_load_p_mw", "metered_sgen_p_mw", "forecast", "pseudo"],
        }
    },
}


class ForecastSimulator(mosaik_api_v3.Simulator):
    """Runs a :class:`Forecaster` (in-process). Parameters: ``forecaster``, ``step_s``."""

    def __init__(self) -> None:
        super().__init__(META)
        self.out: ForecastStep | None = None

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        self.forecaster: Forecaster = sim_params["forecaster"]
        self.step_s = int(sim_params["step_s"])
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        return [{"eid": "forecaster", "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int:
        attrs = inputs["forecaster"]
        load = np.nan_to_num(next(iter(attrs["metered_load_p_mw"].values())), nan=0.0)
        sgen = np.nan_to_num(next(iter(attrs["metered_sgen_p_mw"].values())), nan=0.0)
        actual = self.forecaster.targets.aggregate(load, sgen)
        self.out = self.forecaster.step(time // self.step_s, actual)
        return time + self.step_s

    def get_data(self, outputs: OutputRequest) -> OutputData:
        out = self.out
        return {"forecaster": {"forecast": out, "pseudo": None if out is None else out.pseudo}}


if __name__ == "__main__":  # a process of its own: gridtwin.remote.main, reached by name
    import importlib

    raise SystemExit(importlib.import_module("gridtwin.remote").main("Forecaster"))
