"""mosaik simulator that serves the per-step load, sgen and storage profiles.

One entity ``Profiles`` with vector outputs ``load_p_mw``, ``load_q_mvar``,
``sgen_p_mw``, ``sgen_q_mvar``, ``storage_p_mw`` [MW, MVAr], one value per
element in pandapower table order.
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
from mosaik_api_v3.types import CreateResult, InputData, Meta, OutputData, OutputRequest

from gridtwin.profiles import QUANTITIES, Profiles

__all__ = ["ProfileSimulator"]

_ATTRS = [f"{element}_{quantity}" for element, quantity in QUANTITIES]

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {"Profiles": {"public": True, "params": [], "attrs": _ATTRS}},
}


class ProfileSimulator(mosaik_api_v3.Simulator):
    """Serves row ``k`` of every profile at step ``k`` (in-process only: numpy arrays)."""

    def __init__(self) -> None:
        super().__init__(META)
        self.profiles: Profiles | None = None
        self.step_s = 0
        self._k = 0

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        self.profiles = sim_params["profiles"]
        self.step_s = int(sim_params["step_s"])
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        if num != 1:
            raise ValueError("create exactly one Profiles entity")
        return [{"eid": "profiles", "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int:
        self._k = time // self.step_s
        return time + self.step_s

    def get_data(self, outputs: OutputRequest) -> OutputData:
        assert self.profiles is not None
        data: dict[str, Any] = {}
        for eid, attrs in outputs.items():
            data[eid] = {}
            for attr in attrs:
                element, quantity = attr.split("_", 1)
                data[eid][attr] = self.profiles.at(element, quantity, self._k)
        return data


if __name__ == "__main__":  # a process of its own: gridtwin.remote.main, reached by name
    import importlib

    raise SystemExit(importlib.import_module("gridtwin.remote").main("Profiles"))
