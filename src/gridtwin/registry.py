"""The registry: which components a scenario runs, in the order they are wired.

A built-in automation function is registered exactly like a user's: one
entry here, naming its component class and the scenario section that
enables it. A user's function needs no entry: the scenario's ``functions``
list names it (a Python class, or an external mosaik simulator by ``cmd:`` or
``connect:``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gridtwin.components import Component
from gridtwin.declarations import DECLARATIONS, declarations

if TYPE_CHECKING:
    from mosaik import SimConfig

__all__ = ["BUILTINS", "DECLARATIONS", "SIM_CONFIG", "components_for", "declarations"]

SIM_CONFIG: SimConfig = {
    name: {"python": f"gridtwin.{path}"}
    for name, path in {
        "Profiles": "simulators.profile_sim:ProfileSimulator",
        "Events": "simulators.event_sim:EventSimulator",
        "Grid": "simulators.grid_sim:GridSimulator",
        "Scada": "simulators.scada_sim:ScadaSimulator",
        "Channel": "simulators.channel_sim:ChannelSimulator",
        "Recorder": "recording.recorder_sim:RecorderSimulator",
        "Sensors": "simulators.sensor_sim:SensorSimulator",
        "Estimator": "controllers.estimation.estimator_sim:EstimatorSimulator",
        "VoltageControl": "controllers.voltage.voltage_sim:VoltageControlSimulator",
        "Reconfig": "controllers.reconfig.reconfig_sim:ReconfigSimulator",
        "Forecaster": "controllers.forecasting.forecast_sim:ForecastSimulator",
        "Flisr": "controllers.flisr.flisr_sim:FlisrSimulator",
        "Function": "controllers.function_sim:FunctionSimulator",
        "Reliability": "simulators.reliability_sim:ReliabilitySimulator",
        "BusPublish": "bus.bridge_sim:PublishSimulator",
        "BusCommands": "bus.bridge_sim:CommandSimulator",
    }.items()
}
"""The mosaik simulators of gridtwin, for ``mosaik.World(SIM_CONFIG)``."""

BUILTINS: list[tuple[str, Callable[[Any, Any], bool]]] = [
    ("gridtwin.simulators.components:Core", lambda sc, prep: True),
    ("gridtwin.simulators.components:Measurements", lambda sc, prep: prep.plan is not None),
    (
        "gridtwin.controllers.estimation.component:Estimation",
        lambda sc, p: sc.estimation is not None,
    ),
    (
        "gridtwin.controllers.forecasting.component:Forecasting",
        lambda sc, p: p.forecaster is not None,
    ),
    (
        "gridtwin.controllers.voltage.component:VoltageControl",
        lambda sc, p: sc.voltage_control is not None,
    ),
    (
        "gridtwin.controllers.reconfig.component:Reconfiguration",
        lambda sc, p: sc.reconfiguration is not None,
    ),
    ("gridtwin.controllers.flisr.component:Flisr", lambda sc, p: sc.flisr is not None),
    (
        "gridtwin.simulators.components:Reliability",
        lambda sc, p: sc.flisr is not None or any(e.type == "line_fault" for e in p.schedule),
    ),
    ("gridtwin.bus.component:MqttBridge", lambda sc, p: sc.mqtt is not None),
]
"""(``module:Class``, enabled(scenario, prepared)) per built-in component, in wiring order."""


def _load(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def components_for(scenario: Any, prepared: Any) -> list[Component]:
    """The components of a scenario: the enabled built-ins, then the user's functions."""
    from gridtwin.controllers.external.component import ExternalFunction
    from gridtwin.controllers.user import UserFunction

    out: list[Component] = [_load(path)() for path, on in BUILTINS if on(scenario, prepared)]
    out += [
        ExternalFunction(i) if spec.use is None else UserFunction(i)
        for i, spec in enumerate(scenario.functions)
    ]
    return out
