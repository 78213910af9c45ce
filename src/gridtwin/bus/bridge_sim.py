"""mosaik adapters of the bridge (:mod:`gridtwin.bus.bridge`): one publishes, one takes commands.

``BusPublish`` (entity ``BusPublish``) reads the view ports of the step
(``measurement_frame``; optionally ``estimate``, ``forecast``,
``reported_switch_closed``, ``reported_trafo_tap_pos``) and publishes them. ``BusCommands`` (entity
``BusCommands``, no inputs) outputs ``commands``: those received while the
previous step lasted, issued at the previous step. They are two simulators
so that the commands of step ``t`` reach the channel at ``t`` while the view
of ``t`` is published after the grid solved ``t``.
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
import numpy as np
from mosaik_api_v3.types import CreateResult, InputData, Meta, OutputData, OutputRequest

from gridtwin.bus.bridge import Bridge
from gridtwin.bus.views import CADENCES
from gridtwin.grid.commands import Command

__all__ = ["CommandSimulator", "PublishSimulator"]

_PORTS = [
    "measurement_frame",
    "estimate",
    "forecast",
    "reported_switch_closed",
    "reported_trafo_tap_pos",
]


def _meta(model: str, attrs: list[str]) -> dict[str, Any]:
    return {
        "api_version": "3.0",
        "type": "time-based",
        "models": {model: {"public": True, "params": [], "attrs": attrs}},
    }


def _first(attrs: dict[str, Any], name: str) -> Any:
    values = attrs.get(name)
    return next(iter(values.values())) if values else None


def step_values(attrs: dict[str, Any]) -> dict[str, np.ndarray]:
    """The values of one step per topic group, NaN where not available."""
    out: dict[str, np.ndarray] = {}
    frame = _first(attrs, "measurement_frame")
    if frame is not None:
        out["measurements"] = np.where(frame.valid, np.asarray(frame.value, float), np.nan)
    estimate = _first(attrs, "estimate")
    if estimate is not None:
        values = np.concatenate([estimate.bus_vm_pu, estimate.bus_va_degree]).astype(float)
        out["estimates"] = values if int(estimate.status) == 0 else np.full(values.size, np.nan)
    forecast = _first(attrs, "forecast")
    if forecast is not None:
        out["forecasts"] = np.concatenate(
            [np.asarray(forecast.current[c], float).reshape(-1) for c in CADENCES]
        )
    closed, taps = _first(attrs, "reported_switch_closed"), _first(attrs, "reported_trafo_tap_pos")
    if closed is not None and taps is not None:
        out["status"] = np.concatenate([np.asarray(closed, float), np.asarray(taps, float)])
    return out


class PublishSimulator(mosaik_api_v3.Simulator):
    """Publishes the view each step. Parameters: ``bridge``, ``step_s``."""

    def __init__(self) -> None:
        super().__init__(_meta("BusPublish", _PORTS))

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        self.bridge: Bridge = sim_params["bridge"]
        self.step_s = int(sim_params["step_s"])
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        return [{"eid": "bus_publish", "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int:
        self.bridge.publish(time, step_values(inputs.get("bus_publish", {})))
        return time + self.step_s

    def get_data(self, outputs: OutputRequest) -> OutputData:
        return {}

    def finalize(self) -> None:
        self.bridge.client.stop()


class CommandSimulator(mosaik_api_v3.Simulator):
    """Outputs the commands received from the bus. Parameters: ``bridge``, ``step_s``."""

    def __init__(self) -> None:
        super().__init__(_meta("BusCommands", ["commands"]))
        self.out: list[Command] = []

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        self.bridge: Bridge = sim_params["bridge"]
        self.step_s = int(sim_params["step_s"])
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        return [{"eid": "bus_commands", "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int:
        self.out = self.bridge.commands(time)
        return time + self.step_s

    def get_data(self, outputs: OutputRequest) -> OutputData:
        return {"bus_commands": {"commands": self.out}}


if __name__ == "__main__":  # in-process only: says so instead of waiting for mosaik
    from gridtwin.simulators.remote import refuse

    raise SystemExit(
        refuse(
            "gridtwin.bus.bridge_sim",
            "it is the process-bus bridge, whose MQTT client lives in gridtwin's own "
            "world; an external function talks to it over MQTT, not over mosaik",
        )
    )
