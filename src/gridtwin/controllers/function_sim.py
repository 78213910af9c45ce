"""mosaik adapter of any :class:`~gridtwin.controllers.function.AutomationFunction`.

One entity ``Function``: an input per view port the function reads, outputs
``commands`` and ``output`` (``(function name, its Output of the step)`` for
the recorder, None when it recorded nothing). The adapter only moves data: it
hands the function the step's values by port name and passes on its commands.
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
from mosaik_api_v3.types import CreateResult, InputData, Meta, OutputData, OutputRequest

from gridtwin.components import VIEW_PORTS
from gridtwin.controllers.function import AutomationFunction
from gridtwin.grid.commands import Command

__all__ = ["FunctionSimulator"]

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "Function": {"public": True, "params": [], "attrs": [*VIEW_PORTS, "commands", "output"]}
    },
}


class FunctionSimulator(mosaik_api_v3.Simulator):
    """Runs one automation function (in-process). Parameters: ``function``, ``step_s``."""

    def __init__(self) -> None:
        super().__init__(META)
        self.out: list[Command] = []

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        self.function: AutomationFunction = sim_params["function"]
        self.step_s = int(sim_params["step_s"])
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        return [{"eid": "function", "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int:
        attrs = inputs.get("function", {})
        view = {port: next(iter(values.values())) for port, values in attrs.items()}
        self.function.output = None
        self.out = list(self.function.step(time, view) or [])
        return time + self.step_s

    def get_data(self, outputs: OutputRequest) -> OutputData:
        output = self.function.output
        data = {
            "commands": self.out,
            "output": None if output is None else (self.function.context.name, output),
        }
        return {"function": {a: data[a] for a in outputs.get("function", ["commands"])}}


if __name__ == "__main__":  # a process of its own: gridtwin.remote.main, reached by name
    import importlib

    raise SystemExit(importlib.import_module("gridtwin.remote").main("Function"))
