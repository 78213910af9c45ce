"""mosaik adapter of the reliability KPIs: the grid's true state in, nothing out.

One entity ``Reliability``; inputs ``result`` and ``load_demand_p_mw`` from
the grid; it feeds a :class:`~gridtwin.report.reliability_kpis.ReliabilityKpis`
(simulator parameter ``kpis``, in-process) every step.
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
from mosaik_api_v3.types import CreateResult, InputData, Meta, OutputData, OutputRequest

__all__ = ["ReliabilitySimulator"]

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "Reliability": {"public": True, "params": [], "attrs": ["result", "load_demand_p_mw"]}
    },
}


class ReliabilitySimulator(mosaik_api_v3.Simulator):
    """Feeds the true state to a ``ReliabilityKpis`` each step."""

    def __init__(self) -> None:
        super().__init__(META)
        self.kpis: Any = None

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        self.kpis = sim_params["kpis"]
        self.step_s = int(sim_params["step_s"])
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        return [{"eid": "reliability", "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int:
        attrs = inputs.get("reliability", {})
        result = next(iter(attrs["result"].values()))
        demand = next(iter(attrs["load_demand_p_mw"].values()))
        self.kpis.add(time, result, demand)
        return time + self.step_s

    def get_data(self, outputs: OutputRequest) -> OutputData:
        return {}


if __name__ == "__main__":  # in-process only: says so instead of waiting for mosaik
    from gridtwin.simulators.remote import refuse

    raise SystemExit(
        refuse(
            "gridtwin.simulators.reliability_sim",
            "it feeds the reliability KPI accumulator that gridtwin reads when the "
            "run ends; it runs inside gridtwin's own world",
        )
    )
